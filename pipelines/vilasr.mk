# VILASR end to end with thinkpipe: drawing to reason in space.
#
#   make -f pipelines/vilasr.mk                          # stages 1-2 on a tiny model, CPU
#   make -f pipelines/vilasr.mk curves                   # their training curves in out/vilasr/curves.png
#   make -f pipelines/vilasr.mk MODEL=Qwen2.5-VL-7B-Instruct NGPU=8 N=33000 RRS_N=8000
#
# Stages, as in the paper:
#   1. cold start      synth-draw -> sft (vision tower frozen, ZeRO-3, lr 1e-5, 3 epochs, 10% warm-up)
#   2. reflective rejection sampling
#                      reject-sample --tools draw --require correct,format,reflection -> sft
#   3. RL              grpo --tools draw --reward vilasr (clip 0.2/0.3, no KL, G 8, lr 1e-6)
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

RL_N ?= 16
RL_STEPS ?= 4

all: $(OUT)/rl/model.safetensors

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
	$(LAUNCH) $$(which sft) --model $(MODEL) --output-dir $(OUT)/cold --overwrite-output-dir $(TRAIN) \
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
	else $(LAUNCH) $$(which sft) --model $(OUT)/cold --output-dir $(OUT)/rrs --overwrite-output-dir $(TRAIN) \
	  --metrics $(OUT)/rrs_metrics.jsonl $(OUT)/rrs.parquet; fi

# Stage 3: GRPO with the drawing tools on fresh tasks (stage 2's model, or stage 1's when stage
# 2 kept nothing). VILASR's settings: rollouts of 8, clip 0.2 low / 0.3 high, KL off.
$(OUT)/rl.jsonl:
	synth-draw --task maze,relations,geometry --count $(RL_N) --seed $$(( $(SEED) + 2 )) -q -o $@

$(OUT)/rl/model.safetensors: $(OUT)/rrs.parquet $(OUT)/rl.jsonl
	@start=$(OUT)/rrs; [ -f $(OUT)/rrs/model.safetensors ] || start=$(OUT)/cold; \
	$(LAUNCH) $$(which grpo) --model $$start --output-dir $(OUT)/rl --overwrite-output-dir --tools draw --reward vilasr \
	  --num-generations 4 --per-device-train-batch-size 4 --loss-type grpo --epsilon 0.2 \
	  --epsilon-high 0.3 --beta 0 --learning-rate $(LR) --max-steps $(RL_STEPS) $(ZERO) \
	  --rollouts $(OUT)/rl_rollouts.jsonl --metrics $(OUT)/rl_metrics.jsonl $(OUT)/rl.jsonl

# Training curves of every stage that ran, one picture (thinkpipe plot; matplotlib).
curves:
	thinkpipe plot $(wildcard $(OUT)/cold_metrics.jsonl $(OUT)/rrs_metrics.jsonl $(OUT)/rl_metrics.jsonl) \
	  --y loss,reward --smooth 0.3 -o $(OUT)/curves.png

cold: $(OUT)/cold/model.safetensors
rrs: $(OUT)/rrs/model.safetensors
rl: $(OUT)/rl/model.safetensors

clean:
	rm -rf $(OUT)

.PHONY: all cold rrs rl curves clean
