# PlanKD end to end in highway-env: record the IDM/MOBIL expert, train a teacher, distil
# students by each method, drive every planner over the same seeded episodes, and print one
# line per planner (collision rate, progress, driving score with its 95% interval, ms/step).
#
#   make -f pipelines/plankd.mk                            # 60 episodes, 15 epochs, 50 driven
#   make -f pipelines/plankd.mk EPISODES=20 EPOCHS=5 DRIVE=10
#   make -f pipelines/plankd.mk METHODS="none plankd" VARIANT=released
#
# DATA may be your own records (a CARLA export in the schema `man distill-plankd` gives); then
# only train runs on it, and drive still drives highway-env.
EPISODES ?= 60
EPOCHS ?= 15
DRIVE ?= 50
METHODS ?= none kd feature plankd
VARIANT ?= paper
OUT ?= out/plankd
DATA ?= $(OUT)/data.parquet

all: $(OUT)/teacher.pt $(foreach m,$(METHODS),$(OUT)/student-$(m).pt)
	@for p in expert $^; do \
	  if [ $$p = expert ]; then who=--expert; else who="--model $$p"; fi; \
	  distill-plankd drive $$who --episodes $(DRIVE) --seed 1000 -q | tail -1 | \
	  python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"{'$$p'.split('/')[-1]:>22}: collisions {s['collision_rate']:.0%}, progress {s['progress_mean']:.2f}, score {s['score_mean']:.3f} +- {s['score_ci95']:.3f}, {s.get('model_ms', 0):.2f} ms/step\")"; \
	done

$(OUT)/data.parquet:
	@mkdir -p $(OUT)
	distill-plankd collect --episodes $(EPISODES) --seed 0 -q -o $@

$(OUT)/teacher.pt: $(DATA)
	distill-plankd train --role teacher --epochs $(EPOCHS) -q -o $@ $< > $(OUT)/teacher.jsonl

$(OUT)/student-none.pt: $(DATA)
	distill-plankd train --role student --epochs $(EPOCHS) -q -o $@ $< > $(OUT)/student-none.jsonl

$(OUT)/student-%.pt: $(DATA) $(OUT)/teacher.pt
	distill-plankd train --role student --method $* --variant $(VARIANT) --teacher $(OUT)/teacher.pt \
	  --epochs $(EPOCHS) -q -o $@ $< > $(OUT)/student-$*.jsonl

clean:
	rm -rf $(OUT)

.PHONY: all clean
