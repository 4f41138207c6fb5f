# VILASR end to end with thinkpipe: drawing to reason in space.
#
#   make -f pipelines/vilasr.mk cold              # stage 1 data: verified draw-to-reason traces
#   make -f pipelines/vilasr.mk cold N=20000 WORKERS=2
#
# Stages, as in the paper (later stages land with their tools):
#   1. cold start      synth-draw -> sft
#   2. reflective rejection sampling   reject-sample --require correct,format,reflection -> sft
#   3. RL              grpo --tools draw
OUT ?= out/vilasr
N ?= 2000
WORKERS ?= 2
SEED ?= 0
REFLECTION ?= 0.3

cold: $(OUT)/cold.parquet

# Stage 1 data: mazes, object relations and geometry, each trace replayed by the drawing
# environment and its answer confirmed by an independent solver; images as PNG files.
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

clean:
	rm -rf $(OUT)

.PHONY: cold clean
