#!/usr/bin/env bash
# Score a predictions file and write an HTML report (opens offline), then compare with a
# baseline run item by item.
#
#   pipelines/eval.sh preds.jsonl [baseline_scored.jsonl]
#
# preds.jsonl: records with a prediction (`response` or an assistant turn in `messages`) and a
# gold `answer`; `question_type` picks the verifier. With no argument, a built-in example runs.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/eval
mkdir -p "$out"
preds=${1:-}
if [ -z "$preds" ]; then
  preds=$out/example_preds.jsonl
  synth-draw --task maze,relations --count 40 --seed 1 -q |
    python3 -c '
import json, random, sys
rng = random.Random(0)
for line in sys.stdin:
    r = json.loads(line)
    guess = r["answer"] if rng.random() < 0.6 else (r["options"][0] if r.get("options") else "0")
    if r.get("options") and guess not in "ABCDEFGHIJ":
        guess = "A"
    r["response"] = f"<think>looking at the image</think><answer>{guess}</answer>"
    del r["messages"]
    print(json.dumps(r))' > "$preds"
fi
thinkpipe eval "$preds" --group-by task,question_type --report "$out/report.html" > "$out/scored.jsonl"
echo "report: $out/report.html"
if [ -n "${2:-}" ]; then
  thinkpipe eval "$preds" --baseline "$2" --report "$out/versus_baseline.md" -q > /dev/null
  cat "$out/versus_baseline.md"
fi
