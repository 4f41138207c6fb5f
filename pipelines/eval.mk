# Evaluate one checkpoint on every benchmark and write one report.
#
#   make -f pipelines/eval.mk                                    # tiny random models, CPU, ~1 min
#   make -f pipelines/eval.mk MODEL=ckpt/rl AUDIO_MODEL=ckpt/qwen2-audio \
#        MME=MME_Reasoning.tsv AVO=av_odyssey.json VSI=vsibench.parquet N=500
#   make -f pipelines/eval.mk MODEL=http://127.0.0.1:8000/v1 MODEL_NAME=qwen2.5-vl-7b CONCURRENCY=16
#
# Benchmarks: held-out mazes and spatial tasks from synth-draw (seed 1000 onwards, never a
# training seed), DeafTest generated offline (scored with AUDIO_MODEL: a vision-language model
# cannot hear), and MME-Reasoning, AV-Odyssey and VSI-Bench when their official files are given.
# Every scored file keeps its records; `all` rescoring them together writes one report grouped
# by task (the records carry their responses: nothing is generated twice).
OUT ?= out/eval-all
MODEL ?= $(OUT)/tiny-vl
MODEL_NAME ?=
AUDIO_MODEL ?= $(OUT)/tiny-audio
N ?= 24
MAX_NEW_TOKENS ?= 64
CONCURRENCY ?= 4
MME ?=
AVO ?=
VSI ?=
GEN = --max-new-tokens $(MAX_NEW_TOKENS) --concurrency $(CONCURRENCY) -q \
      $(if $(MODEL_NAME),--model-name $(MODEL_NAME))

SCORED := $(OUT)/spatial.jsonl $(OUT)/deaftest.jsonl \
          $(if $(MME),$(OUT)/mme_reasoning.jsonl) $(if $(AVO),$(OUT)/av_odyssey.jsonl) \
          $(if $(VSI),$(OUT)/vsibench.jsonl)

all: $(OUT)/report.html
	@echo "report: $(OUT)/report.html"

$(OUT)/tiny-vl/config.json:
	thinkpipe init-model --arch qwen2-vl $(OUT)/tiny-vl -q --force
$(OUT)/tiny-audio/config.json:
	thinkpipe init-model --arch qwen2-audio $(OUT)/tiny-audio -q --force

model-deps := $(if $(findstring ://,$(MODEL)),,$(MODEL)/config.json)
audio-deps := $(if $(findstring ://,$(AUDIO_MODEL)),,$(AUDIO_MODEL)/config.json)

$(OUT)/spatial-items.jsonl:
	@mkdir -p $(OUT)
	synth-draw --task maze,relations,geometry --count $(N) --seed 1000 --canvas 460 -q > $@

$(OUT)/spatial.jsonl: $(OUT)/spatial-items.jsonl $(model-deps)
	thinkpipe eval --model $(MODEL) $(GEN) $< > $@

$(OUT)/deaftest-items.jsonl:
	@mkdir -p $(OUT)
	thinkpipe eval --benchmark deaftest --make $(N) --media-dir $(OUT)/deaftest-wav -q > $@

$(OUT)/deaftest.jsonl: $(OUT)/deaftest-items.jsonl $(audio-deps)
	thinkpipe eval --benchmark deaftest --model $(AUDIO_MODEL) $(GEN) $< > $@

$(OUT)/mme_reasoning.jsonl: $(MME) $(model-deps)
	thinkpipe eval --benchmark mme-reasoning --model $(MODEL) $(GEN) $(MME) > $@

$(OUT)/av_odyssey.jsonl: $(AVO) $(audio-deps)
	thinkpipe eval --benchmark av-odyssey --model $(AUDIO_MODEL) $(GEN) $(AVO) > $@

$(OUT)/vsibench.jsonl: $(VSI) $(model-deps)
	thinkpipe eval --benchmark vsibench --model $(MODEL) $(GEN) $(VSI) > $@

$(OUT)/report.html: $(SCORED)
	cat $(SCORED) | thinkpipe eval --group-by task --report $@ > $(OUT)/all.jsonl

clean:
	rm -rf $(OUT)

.PHONY: all clean
.DELETE_ON_ERROR:
