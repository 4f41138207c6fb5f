# FreeKD's comparison rows on one graph: each GNN alone, KD from a deeper teacher, FreeKD, and
# FreeKD++ on three views -- then one line per mode (mean +- std over seeds).
#
#   make -f pipelines/freekd.mk                         # Cora if ../shared has it, else synthetic
#   make -f pipelines/freekd.mk ARCH=gat RUNS=10        # bench/freekd.py's GAT/GAT rows
#   make -f pipelines/freekd.mk GRAPH="--edges my.edges" NODES=my-nodes.jsonl
#
# GRAPH is any of freekd's graph options; NODES the node records when GRAPH is --edges FILE.
PLANETOID ?= ../shared/data/planetoid
GRAPH ?= $(if $(wildcard $(PLANETOID)/ind.cora.x),--planetoid $(PLANETOID) --name cora,--synthetic 700)
NODES ?=
ARCH ?= gcn
RUNS ?= 3
EPOCHS ?= 200
OUT ?= out/freekd
MODES = base kd-teacher freekd freekd++

all: $(foreach m,$(MODES),$(OUT)/$(m).metrics.jsonl)
	@for m in $(MODES); do \
	  tail -1 $(OUT)/$$m.metrics.jsonl | python3 -c "import json,sys; s=json.load(sys.stdin); \
	  print(f\"{s['mode']:>10}: test accuracy {100*s['test_acc_mean']:.2f} +- {100*s['test_acc_std']:.2f} \" \
	        f\"over {s['runs']} runs ({', '.join(n + ' ' + v['arch'] + '/' + v['view'] for n, v in s['nets'].items())})\")"; \
	done

# Each mode's node predictions (first run) and its metrics; the summary is the metrics' last line.
$(OUT)/%.metrics.jsonl:
	@mkdir -p $(OUT)
	freekd $(GRAPH) --mode $* --arch $(ARCH) --runs $(RUNS) --epochs $(EPOCHS) --log-every 50 \
	  --metrics $@.tmp -q $(NODES) > $(OUT)/$*.predictions.jsonl && mv $@.tmp $@

clean:
	rm -rf $(OUT)

.PHONY: all clean
