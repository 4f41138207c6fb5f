# SophiaVL-R1 with thinkpipe: a thinking reward model, then Trust-GRPO.
#
#   make -f pipelines/sophiavl.mk                       # tiny models, CPU, offline, ~2 min
#   make -f pipelines/sophiavl.mk MODEL=ckpt/sft TRM_BASE=Qwen2.5-VL-3B-Instruct \
#        JUDGE=http://127.0.0.1:8000/v1 JUDGE_MODEL=Qwen2.5-VL-72B-Instruct N=20000 STEPS=1500
#
# Stages, as in the paper (§3.2-3.3):
#   1. rollouts   grpo samples responses while training; JUDGE scores each one's reasoning
#                 (the thinking reward of that run, recorded as rewards.thinking in --rollouts)
#   2. balance    uniform resampling over 10 score bins (thinkpipe convert --balance)
#   3. TRM        sft of TRM_BASE on (question, response, score): rubric prompt -> <answer>s</answer>
#   4. RL         grpo --thinking-reward <the TRM> --trust paper --format-gate (alpha 0.3,
#                 annealed over the run; --trust released for SophiaVL's code)
# Without a JUDGE, pipelines/data/sophiavl_judge.py scores reasoning by rules (offline stand-in).
OUT ?= out/sophiavl
MODEL ?= $(OUT)/base
TRM_BASE ?= $(OUT)/trm-base
JUDGE ?= sophiavl_judge:score
JUDGE_MODEL ?=
N ?= 32
WARM_STEPS ?= 4
STEPS ?= 4
PER_BIN ?= 8
TRUST ?= paper
G ?= 4
export PYTHONPATH := $(CURDIR)/pipelines/data:$(PYTHONPATH)
COMMON = --num-generations $(G) --per-device-train-batch-size 8 --max-completion-length 48 \
         --reward accuracy --learning-rate 1e-5 --overwrite-output-dir -q

all: $(OUT)/rl/model.safetensors
	@echo "metrics: $(OUT)/rl.jsonl"

$(OUT)/base/config.json:
	thinkpipe init-model --arch qwen2-vl $(OUT)/base -q --force > /dev/null
$(OUT)/trm-base/config.json:
	thinkpipe init-model --arch qwen2-vl $(OUT)/trm-base -q --force > /dev/null
model-deps := $(if $(filter $(OUT)/base,$(MODEL)),$(OUT)/base/config.json,)
trm-deps := $(if $(filter $(OUT)/trm-base,$(TRM_BASE)),$(OUT)/trm-base/config.json,)

$(OUT)/rl-prompts.jsonl:
	@mkdir -p $(OUT)
	synth-draw --task maze,relations --count $(N) --canvas 460 --seed 7 -q > $@

# 1. responses scored by the judge, while a warm-up run trains
$(OUT)/rollouts.jsonl: $(OUT)/rl-prompts.jsonl $(model-deps)
	grpo --model $(MODEL) --output-dir $(OUT)/warm --max-steps $(WARM_STEPS) $(COMMON) \
	  --thinking-reward $(JUDGE) $(if $(JUDGE_MODEL),--thinking-model $(JUDGE_MODEL)) \
	  --rollouts $@ $< > $(OUT)/warm.jsonl

# 2. the same number of examples from every score bin
$(OUT)/trm-data.jsonl: $(OUT)/rollouts.jsonl
	thinkpipe convert $< --balance rewards.thinking:10:$(PER_BIN) -o $@

# 3. the thinking reward model
$(OUT)/trm/model.safetensors: $(OUT)/trm-data.jsonl $(trm-deps)
	sft --model $(TRM_BASE) --output-dir $(OUT)/trm --as-thinking-reward rewards.thinking \
	  --num-train-epochs 2 --learning-rate 1e-4 --overwrite-output-dir -q $< > $(OUT)/trm.jsonl

# 4. Trust-GRPO with it
$(OUT)/rl/model.safetensors: $(OUT)/rl-prompts.jsonl $(OUT)/trm/model.safetensors $(model-deps)
	grpo --model $(MODEL) --output-dir $(OUT)/rl --max-steps $(STEPS) $(COMMON) \
	  --thinking-reward $(OUT)/trm --trust $(TRUST) --format-gate --think-alpha 0.3 \
	  --rollouts $(OUT)/rl-rollouts.jsonl $< > $(OUT)/rl.jsonl

clean:
	rm -rf $(OUT)

.PHONY: all clean
.DELETE_ON_ERROR:
