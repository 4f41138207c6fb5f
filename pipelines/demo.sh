#!/usr/bin/env bash
# make demo: a short pipeline on built-in defaults. Grows as tools land.
# Everything it writes goes to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/demo
rm -rf "$out" && mkdir -p "$out"

echo "== thinkpipe env"
thinkpipe env

echo "== convert: JSONL -> Parquet -> JSONL keeps every field and value"
thinkpipe convert pipelines/data/demo.jsonl -o "$out/demo.parquet"
thinkpipe convert "$out/demo.parquet" -o "$out/roundtrip.jsonl"
python3 - pipelines/data/demo.jsonl "$out/roundtrip.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(line) for line in open(path)] for path in sys.argv[1:3])
if a != b:
    sys.exit("round trip changed the records")
print(f"round trip: {len(a)} records, every field and value identical")
PY

echo "== convert: media out to files, then back inline"
thinkpipe convert "$out/demo.parquet" --media-dir "$out/media" -o "$out/external.jsonl"
ls "$out/media"
thinkpipe convert "$out/external.jsonl" --select id,images --limit 4 -q | tail -1

echo "== convert: two shards cover the input exactly once"
for k in 1 2; do thinkpipe convert pipelines/data/demo.jsonl --shard "$k/2" -q > "$out/shard-$k.jsonl"; done
cat "$out"/shard-*.jsonl | wc -l | xargs echo "records in shards:"

echo "== synth-draw: verified draw-to-reason traces (VILASR cold-start data)"
synth-draw --task maze,relations,geometry --count 12 --reflection-rate 0.5 --media-dir "$out/img" -o "$out/cold.jsonl"
python3 - "$out/cold.jsonl" <<'PY'
import json, sys
rec = next(r for r in map(json.loads, open(sys.argv[1])) if r["reflection"])
print(f"{rec['id']}: {rec['question'][:70]}... answer {rec['answer']}")
for m in rec["messages"][2:]:
    if m["role"] == "assistant":
        print("  assistant:", m["content"].split("</think>")[0][7:110])
PY

echo "== init-model: tiny Qwen2.5-VL and LLaMA folders, built offline"
thinkpipe init-model --arch qwen2-vl "$out/tiny-vl" -q
thinkpipe init-model --arch llama "$out/tiny-llm" -q

echo "== generate: a few answers (random weights: the words are noise, the decoding is real)"
python3 - "$out" <<'PY'
import sys
from thinkpipe.core.models import Sampling, generate, load, prompt_messages
out = sys.argv[1]
records = [r for r in map(__import__("json").loads, open("pipelines/data/demo.jsonl"))][:4]
for path in (f"{out}/tiny-vl", f"{out}/tiny-llm"):
    bundle = load(path)
    usable = [r for r in records if bundle.is_vlm or not r.get("images")]
    answers = generate(bundle, [prompt_messages(r) for r in usable],
                       Sampling(temperature=0.8, max_new_tokens=12), seeds=list(range(len(usable))))
    for r, a in zip(usable, answers):
        print(f"{path.split('/')[-1]:9s} {r['id']}: {a.text!r} ({a.finish_reason}, seed {a.seed})")
PY

echo "== eval: the gold traces score 100%; a random model, asked itself, scores what it earns"
thinkpipe eval "$out/cold.jsonl" -q > "$out/gold_scored.jsonl"
thinkpipe eval --model "$out/tiny-vl" "$out/cold.jsonl" --max-new-tokens 24 --report "$out/eval.html" \
  > "$out/model_scored.jsonl" 2> "$out/eval.log" || { cat "$out/eval.log"; exit 1; }
python3 - "$out/gold_scored.jsonl" "$out/model_scored.jsonl" <<'PY'
import collections, json, sys
for path in sys.argv[1:]:
    recs = [json.loads(line) for line in open(path)]
    statuses = collections.Counter(r["status"] for r in recs)
    who = recs[0].get("model", "the stored traces")
    print(f"{who}: {sum(r['score'] or 0 for r in recs) / len(recs):.0%} of {len(recs)} ({dict(statuses)})")
PY

echo "== eval: DeafTest generated offline, heard by a tiny Qwen2-Audio"
thinkpipe eval --benchmark deaftest --make 6 --media-dir "$out/deaftest" -q > "$out/deaftest.jsonl"
thinkpipe init-model --arch qwen2-audio "$out/tiny-audio" -q > /dev/null
thinkpipe eval --benchmark deaftest --model "$out/tiny-audio" --max-new-tokens 8 "$out/deaftest.jsonl" \
  2>&1 > /dev/null | tail -4

echo "== distill-kpod: token weights, a progressive schedule, a tiny student (KPOD)"
distill-kpod --make 48 --seed 1 > "$out/arith.jsonl"
distill-kpod --make 16 --seed 2 > "$out/arith-held.jsonl"
head -1 "$out/arith.jsonl" | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['question']); print('  rationale:', r['rationale'])"
distill-kpod --model "$out/tiny-llm" --output-dir "$out/kpod" --num-train-epochs 4 --learning-rate 1e-3 \
  --per-device-train-batch-size 8 --weighting-epochs 1 --weighting-lr 1e-3 --eval-file "$out/arith-held.jsonl" \
  --emit-weights "$out/kpod-weights.jsonl" -q "$out/arith.jsonl" > "$out/kpod-metrics.jsonl"
python3 - "$out/kpod-metrics.jsonl" "$out/kpod-weights.jsonl" <<'PY'
import json, sys
ends = [r for r in map(json.loads, open(sys.argv[1])) if "stage" in r]
for r in ends:
    print(f"  epoch {r['epoch']:.0f}: stage {r['stage']}, the student generates {r['generated']:.0%} of the steps, held-out loss {r['eval_loss']:.3f}")
w = json.loads(open(sys.argv[2]).readline())
print(f"  {w['id']}: {len(w['tokens'])} tokens in {len(w['steps'])} steps, difficulty {[round(d, 2) for d in w['difficulty']]}, input steps per stage {w['inputs']}")
PY

echo "== freekd: two GCNs teach each other, the direction per node chosen by RL (FreeKD)"
# Cora when the project's shared data is here (100 epochs, one seed), else a synthetic graph
cora=../shared/data/planetoid
if [ -f "$cora/ind.cora.x" ]; then graph="--planetoid $cora --name cora"; epochs=100
else graph="--synthetic 400"; epochs=60; fi
echo "  graph: $graph"
for mode in base freekd; do
  freekd $graph --mode "$mode" --epochs "$epochs" --log-every 20 --metrics "$out/freekd-$mode.jsonl" -q \
    > "$out/freekd-$mode-pred.jsonl"
  tail -1 "$out/freekd-$mode.jsonl" | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"  {s['mode']}: test accuracy {s['test_acc_mean']:.1%} (phi {s['nets']['phi']['test_acc_mean']:.1%}, psi {s['nets']['psi']['test_acc_mean']:.1%})\")"
done

echo "== pudnet-predict: a hypernetwork predicts a ConvNet for digits it never trained on (PudNet)"
# meta-train on digits 0-5 (scikit-learn's bundled 8x8 digits at 16x16), then predict a network
# for 5,6,7,8,9 from 5 images per class, against Adam from scratch on the same 25 images
pudnet-predict train --data digits --classes 0,1,2,3,4,5 --val-classes 5,6,7,8,9 --image-size 16 \
  --shots 5 --episodes 200 --eval-every 200 --log-every 100 -q -o "$out/pudnet-hyper.pt" > "$out/pudnet-metrics.jsonl"
pudnet-predict --hyper "$out/pudnet-hyper.pt" --data digits --classes 5,6,7,8,9 --shots 5 --eval \
  --baseline sgd --steps 100 -o "$out/pudnet-weights.safetensors" -q | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"  predicted: {s['accuracy']:.1%} in {s['predict_seconds']*1000:.0f} ms; SGD {s['baseline_steps']} steps: {s['baseline_accuracy']:.1%} in {s['baseline_seconds']:.2f} s (chance {s['chance']:.0%})\")"

echo "== distill-plankd: distil a driving planner and drive it in highway-env (PlanKD)"
# record the IDM/MOBIL expert for 8 short episodes, train a teacher, distil a 20x smaller student
# with PlanKD, then drive both (and the expert) over the same 3 seeded episodes
distill-plankd collect --episodes 8 --seed 0 --route 150 --timeout 12 -q -o "$out/plankd-data.parquet"
distill-plankd train --role teacher --epochs 20 -q -o "$out/plankd-teacher.pt" "$out/plankd-data.parquet" > "$out/plankd-teacher.jsonl"
distill-plankd train --role student --method plankd --teacher "$out/plankd-teacher.pt" --epochs 60 -q \
  -o "$out/plankd-student.pt" "$out/plankd-data.parquet" > "$out/plankd-student.jsonl"
for who in --expert "--model $out/plankd-teacher.pt" "--model $out/plankd-student.pt"; do
  distill-plankd drive $who --episodes 3 --seed 1000 --route 150 --timeout 12 -q | tail -1 | python3 -c "import json,sys; s=json.load(sys.stdin); ms=f\", {s['model_ms']:.1f} ms/step\" if 'model_ms' in s else ''; print(f\"  {s['model'].split('/')[-1]}: collisions {s['collision_rate']:.0%}, off the road {s['offroad_rate']:.0%}, progress {s['progress_mean']:.2f}, score {s['score_mean']:.2f}{ms}\")"
done

echo "== train: 6 steps of the shared training loop (python -m thinkpipe.cli.selfcheck)"
python3 -m thinkpipe.cli.selfcheck --output-dir "$out/selfcheck" --steps 6 | \
  python3 -c "import json,sys; rows=[json.loads(l) for l in sys.stdin]; print('loss', ' -> '.join(f\"{r['loss']:.3f}\" for r in rows))"

echo "== summary"
python3 - "$out/demo.parquet" <<'PY' || true
import sys
try:
    import pyarrow.parquet as pq
except ImportError:
    sys.exit(0)
schema = pq.read_schema(sys.argv[1])
print("parquet columns:", ", ".join(f"{f.name}:{f.type}" for f in schema))
PY
echo "demo done: outputs in $out/"
