# VILASR end to end with thinkpipe: drawing to reason in space.
#
#   make -f pipelines/vilasr.mk                          # stages 1-2 on a tiny model, CPU
#   make -f pipelines/vilasr.mk MODEL=Qwen2.5-VL-7B-Instruct NGPU=8 N=33000 RRS_N=8000
#
# Stages, as in the paper:
#   1. cold start      synth-draw -> sft (vision tower frozen, ZeRO-3, lr 1e-5, 3 epochs, 10% warm-up)
#   2. reflective rejection sampling
#                      reject-sample --tools draw --require correct,format,reflection -> sft
#   3. RL              grpo --tools draw (lands with grpo)
# MODEL is a local model folder; without one a tiny random Qwen2.5-VL is built (out/vilasr/base).
OUT ?= out/vilasr
MODEL ?= $(OUT)/base
N ?= 64
RRS_N ?= 16
SAMPLES ?= 4
WORKERS ?= 2
SEED ?= 0
REFLECTION ?= 0.3
NGPU ?= 0
EPOCHS ?= 3
LR ?= 1e-5
STEPS ?= 0
# several GPUs: torchrun and ZeRO-3 (the paper's setup); otherwise one process
ifeq ($(NGPU),0)
LAUNCH :=
ZERO :=
else
LAUNCH := torchrun --nproc_per_node $(NGPU)
ZERO := --zero 3 --bf16
endif
TRAIN = --learning-rate $(LR) --num-train-epochs $(EPOCHS) --max-steps $(STEPS) --warmup-ratio 0.1 \
        --lr-scheduler-type cosine --freeze-vision $(ZERO)

all: $(OUT)/rrs/model.safetensors

$(OUT)/base/config.json:
	thinkpipe init-model --arch qwen2-vl $(OUT)/base --force -q > /dev/null

# Stage 1 data: verified draw-to-reason traces (mazes, object relations, geometry).
$(OUT)/cold.parquet:
	@mkdir -p $(OUT)
	synth-draw --task maze,relations,geometry --count $(N) --seed $(SEED) \
	  --reflection-rate $(REFLECTION) --workers $(WORKERS) --media-dir $(OUT)/img -o $@

# The same data for LLaMA-Factory (sharegpt), as VILASR's own cold-start SFT used.
$(OUT)/cold_sharegpt.jsonl:
	@mkdir -p $(OUT)
	synth-draw --task maze,relations,geometry --count $(N) --seed $(SEED) \
	  --reflection-rate $(REFLECTION) --workers $(WORKERS) --style sharegpt \
	  --media-dir $(OUT)/img -o $@

# Stage 1: cold-start fine-tune.
$(OUT)/cold/model.safetensors: $(OUT)/cold.parquet $(if $(filter $(OUT)/base,$(MODEL)),$(OUT)/base/config.json)
	$(LAUNCH) $$(which sft) --model $(MODEL) --output-dir $(OUT)/cold $(TRAIN) \
	  --metrics $(OUT)/cold_metrics.jsonl $(OUT)/cold.parquet

# Stage 2: sample fresh tasks with the cold-start model, keep correct + well-formed + reflective.
$(OUT)/rrs.parquet: $(OUT)/cold/model.safetensors
	synth-draw --task maze,relations,geometry --count $(RRS_N) --seed $$(( $(SEED) + 1 )) -q | \
	  $(LAUNCH) $$(which reject-sample) --model $(OUT)/cold --tools draw --num-samples $(SAMPLES) \
	  --temperature 0.75 --top-p 0.9 --require correct,format,reflection \
	  --rejected $(OUT)/rrs_rejected.parquet -o $@

# (a tiny random model rarely produces a kept sample: then say so and stop here)
$(OUT)/rrs/model.safetensors: $(OUT)/rrs.parquet
	@if [ "$$(thinkpipe convert $< -q | wc -l)" -eq 0 ]; then \
	  echo "stage 2 kept no samples (see $(OUT)/rrs_rejected.parquet); train longer or sample more"; \
	else $(LAUNCH) $$(which sft) --model $(OUT)/cold --output-dir $(OUT)/rrs $(TRAIN) \
	  --metrics $(OUT)/rrs_metrics.jsonl $(OUT)/rrs.parquet; fi

cold: $(OUT)/cold/model.safetensors
rrs: $(OUT)/rrs/model.safetensors

clean:
	rm -rf $(OUT)

.PHONY: all cold rrs clean
