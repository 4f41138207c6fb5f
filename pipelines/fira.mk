# Pretrain one tiny LLaMA three ways -- AdamW, GaLore, Fira -- and compare validation perplexity
# and optimizer-state size.
#
#   make -f pipelines/fira.mk                       # WikiText-2 if ../shared has it, else README.md
#   make -f pipelines/fira.mk STEPS=300 SEQ=128     # the set-up of bench/fira.py
#   make -f pipelines/fira.mk TRAIN=corpus.txt EVAL=heldout.txt SIZE=60m
#
# Text files hold one paragraph per line; each becomes a {"text": ...} record. The tokenizer is
# the one `thinkpipe init-model` trains (swap TOKENIZER for a real one). Learning rates are the
# paper's: 1e-2 for the low-rank optimizers, 1e-3 for AdamW. The low-rank runs also train the
# embeddings, head and norms at 1e-2; REST_LR=1e-2 gives AdamW's the same (bench/RESULTS.md shows
# that this, not the low-rank state, is most of the gap on a tiny model).
WIKI ?= ../shared/data/wikitext-2
TRAIN ?= $(if $(wildcard $(WIKI)/valid.txt),$(WIKI)/valid.txt,README.md)
EVAL ?= $(if $(wildcard $(WIKI)/test.txt),$(WIKI)/test.txt,README.md)
OUT ?= out/fira
SIZE ?= tiny
STEPS ?= 60
SEQ ?= 64
REST_LR ?=
TOKENIZER ?= $(OUT)/tok
FLAGS = --tokenizer $(TOKENIZER) --size $(SIZE) --seq-len $(SEQ) --max-steps $(STEPS) \
	--eval-file $(OUT)/eval.jsonl --eval-batches 16 -q

all: $(OUT)/adamw.jsonl $(OUT)/galore.jsonl $(OUT)/fira.jsonl
	@for m in adamw galore fira; do \
	  python3 -c "import json,sys; rows=[json.loads(x) for x in open(sys.argv[1])]; \
	  print(f'$$m: eval perplexity {rows[-1][\"eval_perplexity\"]:.1f}, ' \
	        f'optimizer state {rows[0][\"optimizer_state_elements\"]:,} values')" $(OUT)/$$m.jsonl; \
	done

# One record per non-empty line.
RECORDS = python3 -c "import json, sys; \
	[print(json.dumps({'text': x.strip()})) for x in open(sys.argv[1], encoding='utf-8') if x.strip()]"
$(OUT)/train.jsonl: $(TRAIN)
	@mkdir -p $(OUT)
	$(RECORDS) $< > $@
$(OUT)/eval.jsonl: $(EVAL)
	@mkdir -p $(OUT)
	$(RECORDS) $< > $@

$(OUT)/tok/tokenizer.json:
	thinkpipe init-model --arch llama $(OUT)/tok

$(OUT)/adamw.jsonl: $(OUT)/train.jsonl $(OUT)/eval.jsonl $(OUT)/tok/tokenizer.json
	fira-pretrain $(FLAGS) --optimizer adamw --lr 1e-3 $(if $(REST_LR),--other-lr $(REST_LR)) --output-dir $(OUT)/adamw --overwrite-output-dir $< > $@
$(OUT)/galore.jsonl: $(OUT)/train.jsonl $(OUT)/eval.jsonl $(OUT)/tok/tokenizer.json
	fira-pretrain $(FLAGS) --optimizer galore --lr 1e-2 --output-dir $(OUT)/galore --overwrite-output-dir $< > $@
$(OUT)/fira.jsonl: $(OUT)/train.jsonl $(OUT)/eval.jsonl $(OUT)/tok/tokenizer.json
	fira-pretrain $(FLAGS) --optimizer fira --lr 1e-2 --output-dir $(OUT)/fira --overwrite-output-dir $< > $@

clean:
	rm -rf $(OUT)

.PHONY: all clean
