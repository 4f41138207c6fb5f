# Video-R1 with thinkpipe: T-GRPO on frame-order questions, then ordered vs shuffled frames.
#
#   make -f pipelines/video_r1.mk                          # tiny model, CPU, offline, ~2 min
#   make -f pipelines/video_r1.mk MODEL=ckpt/cot-sft DATA=video_r1_260k.jsonl STEPS=1200 \
#        RATIO=0.8 FRAMES=16 FPS=2 LENGTH_RANGE=320,512
#
# Stages: (the CoT SFT stage is `sft` on Video-R1-CoT-165k, as in pipelines/vilasr.mk)
#   1. data    DATA, or moving-dot clips (pipelines/data/moving_dot.py): the answer needs the order
#   2. RL      grpo --temporal: G ordered-frame responses and G/2 to shuffled frames per video;
#              +alpha when p >= RATIO p~ (1.0 as the author intends, 0.8 in the released code),
#              Video-R1's length bonus, videos decoded by PyAV (FRAMES at FPS)
#   3. eval    the trained model on held-out clips, frames in order and shuffled
OUT ?= out/video_r1
MODEL ?= $(OUT)/base
DATA ?= $(OUT)/train.jsonl
N ?= 16
STEPS ?= 4
G ?= 4
RATIO ?= 1.0
FRAMES ?= 4
FPS ?= 2
LENGTH_RANGE ?= 8,32

all: $(OUT)/eval-frames.jsonl $(OUT)/eval-shuffled.jsonl
	@echo "metrics: $(OUT)/rl.jsonl; eval reports: $(OUT)/eval-*.md"

$(OUT)/base/config.json:
	thinkpipe init-model --arch qwen2-vl $(OUT)/base -q --force > /dev/null
model-deps := $(if $(filter $(OUT)/base,$(MODEL)),$(OUT)/base/config.json,)

$(OUT)/train.jsonl:
	@mkdir -p $(OUT)
	python3 pipelines/data/moving_dot.py $(N) $(OUT)/clips 1 > $@
$(OUT)/heldout.jsonl:
	@mkdir -p $(OUT)
	python3 pipelines/data/moving_dot.py $(N) $(OUT)/heldout-clips 1000 > $@

$(OUT)/rl/model.safetensors: $(DATA) $(model-deps)
	grpo --model $(MODEL) --output-dir $(OUT)/rl --max-steps $(STEPS) --num-generations $(G) \
	  --per-device-train-batch-size 8 --max-completion-length 32 --learning-rate 1e-5 \
	  --temporal --temporal-ratio $(RATIO) --length-bonus 0.2 --length-range $(LENGTH_RANGE) \
	  --max-frames $(FRAMES) --fps $(FPS) --rollouts $(OUT)/rollouts.jsonl \
	  --overwrite-output-dir -q $< > $(OUT)/rl.jsonl

# held-out clips decoded once into frames records (images + frames: true), then a copy with
# each record's frames in a seeded random order: the same frames, ordered or not
$(OUT)/heldout-frames.jsonl: $(OUT)/heldout.jsonl
	python3 -c 'import json,sys; from thinkpipe.core.records.jsonl import dumps; from thinkpipe.core.records.video import expand_videos; [sys.stdout.buffer.write(dumps(expand_videos(json.loads(l), $(FRAMES), $(FPS)))) for l in open(sys.argv[1])]' $< > $@
$(OUT)/heldout-shuffled.jsonl: $(OUT)/heldout-frames.jsonl
	python3 -c 'import json,sys; from thinkpipe.core.records.jsonl import dumps; from thinkpipe.core.records.video import shuffled; [sys.stdout.buffer.write(dumps(shuffled(json.loads(l), i)[0])) for i, l in enumerate(open(sys.argv[1]))]' $< > $@

$(OUT)/eval-%.jsonl: $(OUT)/heldout-%.jsonl $(OUT)/rl/model.safetensors
	thinkpipe eval --model $(OUT)/rl --max-new-tokens 16 --no-reuse \
	  --report $(OUT)/eval-$*.md -q $< > $@

clean:
	rm -rf $(OUT)

.PHONY: all clean
.DELETE_ON_ERROR:
