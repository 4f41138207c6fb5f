# Convert a large JSONL file to Parquet in N parallel shards, then check nothing was lost.
#
#   make -f pipelines/shards.mk IN=big.jsonl N=4 -j4
#   make -f pipelines/shards.mk IN=big.jsonl N=4 check
#
# Each shard is an independent `thinkpipe convert --shard K/N` job (the same line works as a
# cluster array job with K from the task id). Bad records are quarantined per shard instead of
# stopping the run.
IN ?= pipelines/data/demo.jsonl
N ?= 2
OUT ?= out/shards
SHARDS := $(shell seq 1 $(N))
PARTS := $(foreach k,$(SHARDS),$(OUT)/part-$(k)-of-$(N).parquet)

all: $(PARTS)

$(OUT)/part-%-of-$(N).parquet: $(IN)
	@mkdir -p $(OUT)
	thinkpipe convert $(IN) --shard $*/$(N) --on-error quarantine:$(OUT)/bad-$*.jsonl -o $@

check: $(PARTS)
	@in=$$(thinkpipe convert $(IN) -q | wc -l); \
	 out=$$(thinkpipe convert $(PARTS) -q | wc -l); \
	 echo "input $$in records, shards $$out records"; test "$$in" = "$$out"

.PHONY: all check
