# PudNet end to end: meta-train a hypernetwork on some classes, then predict networks for tasks
# that include classes it never saw and for another dataset -- each against Adam from scratch
# on the same support set, in one summary line per task.
#
#   make -f pipelines/pudnet.mk                         # MNIST if ../shared has it, else digits
#   make -f pipelines/pudnet.mk DATA=digits SIZE=16 EPISODES=300
#   make -f pipelines/pudnet.mk TASKS="0,6,7,8,9 1,2,3,4,5" SHOTS=5
#
# DATA is any --data (an IDX folder, digits, a records file of {image, label}).
MNIST ?= ../shared/data/mnist
DATA ?= $(if $(wildcard $(MNIST)/train-images-idx3-ubyte.gz),$(MNIST),digits)
TRAIN_CLASSES ?= 0,1,2,3,4,5
TASKS ?= 0,6,7,8,9 5,6,7,8,9 1,3,5,7,9
INTER ?= digits
SIZE ?= 28
SHOTS ?= 10
EPISODES ?= 1000
STEPS ?= 200
OUT ?= out/pudnet

all: $(OUT)/hyper.pt
	@for t in $(TASKS); do \
	  pudnet-predict --hyper $< --data $(DATA) --classes $$t --shots $(SHOTS) --eval -q \
	    --baseline sgd --steps $(STEPS) -o $(OUT)/weights-$$(echo $$t | tr , -).safetensors | \
	  python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"{'$(DATA)'.split('/')[-1]} {s['classes']}: predicted {s['accuracy']:.1%} in {1000*s['predict_seconds']:.0f} ms, \" \
	    f\"SGD {s['baseline_steps']} steps {s['baseline_accuracy']:.1%} in {s['baseline_seconds']:.1f} s ({s['speedup']:.0f}x the time)\")"; \
	done
	@pudnet-predict --hyper $< --data $(INTER) --classes 0,1,2,3,4 --shots $(SHOTS) --eval -q \
	  --baseline sgd --steps $(STEPS) | python3 -c "import json,sys; s=json.load(sys.stdin); \
	  print(f\"inter-dataset $(INTER) {s['classes']}: predicted {s['accuracy']:.1%}, SGD {s['baseline_accuracy']:.1%}\")"

# The hypernetwork; its metrics (with validation on tasks over 5-9) beside it.
$(OUT)/hyper.pt:
	@mkdir -p $(OUT)
	pudnet-predict train --data $(DATA) --classes $(TRAIN_CLASSES) --val-classes 5,6,7,8,9 \
	  --image-size $(SIZE) --shots $(SHOTS) --episodes $(EPISODES) --log-every 100 -q \
	  -o $@ > $(OUT)/metrics.jsonl

clean:
	rm -rf $(OUT)

.PHONY: all clean
