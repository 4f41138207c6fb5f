"""Scoring throughput of `thinkpipe eval` on 1M multiple-choice / numeric records (bench/RESULTS.md).

    python bench/eval.py            # a few minutes on 2 cores; --n 100000 for a quick run

Peers: lmms-eval and VLMEvalKit cannot be installed beside this stack (they pin their own torch
and model libraries), so the comparison is against re-implementations written here from their
documented behaviour, run in the same process set-up:
  - a naive loop: stdlib json, first <answer> tag or the whole text, string equality;
  - VLMEvalKit-style letter inference (`can_infer`: punctuation to spaces, a lone option letter
    among the last tokens, "answer is X", option-text match), numbers by a last-number regex.
All three read the same JSONL file and write scored JSONL; wall time includes start-up.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402

NAIVE = r'''
import json, re, sys
tag = re.compile(r"<answer>(.*?)</answer>", re.S)
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        r = json.loads(line)
        m = tag.search(r["response"])
        pred = (m.group(1) if m else r["response"]).strip()
        r["score"] = float(pred == str(r["answer"]))
        out.write(json.dumps(r) + "\n")
'''

VLMEVAL_STYLE = r'''
import json, re, sys
PUNCT = str.maketrans({c: " " for c in ".()[],:;!*#{}"})
ANSWER_IS = re.compile(r"(?:correct )?answer is\s*\(?([A-Z])\)?", re.I)
NUM = re.compile(r"-?\d+(?:\.\d+)?")
def can_infer(text, options):
    letters = [chr(65 + i) for i in range(len(options))]
    tokens = text.translate(PUNCT).split()
    found = [t for t in tokens if t in letters]
    if len(set(found)) == 1 and tokens.index(found[0]) > len(tokens) - 5:
        return found[0]
    m = ANSWER_IS.search(text)
    if m and m.group(1) in letters:
        return m.group(1)
    hits = [l for l, o in zip(letters, options) if o.lower() in text.lower()]
    return hits[0] if len(hits) == 1 else "Z"
with open(sys.argv[1]) as f, open(sys.argv[2], "w") as out:
    for line in f:
        r = json.loads(line)
        if r.get("options"):
            r["score"] = float(can_infer(r["response"], r["options"]) == r["answer"])
        else:
            nums = NUM.findall(r["response"])
            r["score"] = float(bool(nums) and round(float(nums[-1]), 2) == round(float(r["answer"]), 2))
        out.write(json.dumps(r) + "\n")
'''


def generate(path: str, n: int) -> None:
    rng = random.Random(0)
    forms = ["<think>Comparing the options.</think><answer>{a}</answer>", "The answer is ({a}).",
             "<answer>{a}</answer>", "After checking each choice, {a}", "Answer: {a}"]
    with open(path, "w") as f:
        for i in range(n):
            if i % 2 == 0:
                gold, pred = rng.choice("ABCD"), rng.choice("ABCD")
                rec = {"id": str(i), "question": f"Question {i}?", "options": ["red", "blue", "green", "gray"],
                       "answer": gold, "response": rng.choice(forms).format(a=pred), "task": "mc"}
            else:
                gold = rng.randint(0, 500)
                pred = gold if rng.random() < 0.5 else gold + rng.randint(1, 9)
                rec = {"id": str(i), "question": f"How many {i}?", "question_type": "numerical",
                       "answer": str(gold), "response": f"<think>counting</think><answer>{pred}</answer>",
                       "task": "num"}
            f.write(json.dumps(rec) + "\n")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    src = os.path.join(HERE, "data", f"eval-{args.n}.jsonl")
    if not os.path.exists(src):
        generate(src, args.n)
    out = os.path.join(HERE, "data", "eval-out.jsonl")
    tp = os.path.join(os.path.dirname(sys.executable), "thinkpipe")
    runs = {
        "thinkpipe eval (extraction, status, CIs, --group-by task)":
            timed([tp, "eval", src, "--group-by", "task", "-q", "-o", out]),
        "naive loop (stdlib json, <answer> or text, equality)":
            timed([sys.executable, "-c", NAIVE, src, out]),
        "VLMEvalKit-style can_infer re-implementation": timed([sys.executable, "-c", VLMEVAL_STYLE, src, out]),
    }
    os.unlink(out)
    ours = runs["thinkpipe eval (extraction, status, CIs, --group-by task)"]
    rows = ["| scorer | wall s | items/s | ratio to thinkpipe |", "|---|---:|---:|---:|"]
    for name, sec in runs.items():
        rows.append(f"| {name} | {sec:.1f} | {args.n / sec:,.0f} | {ours / sec:.2f} |")
    text = "\n".join([
        "<!-- eval:start -->", "## thinkpipe eval (bench/eval.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        f"{args.n:,} generated records, half 4-option multiple choice in five answer styles, half "
        "numeric; each scorer reads the JSONL and writes scored JSONL. Ratio > 1 means faster than "
        "thinkpipe.", "", *rows, "",
        "The peers do less per item: no reasoning stripping, no truncation detection, no status, "
        "no intervals; the naive loop also scores \"The answer is (B).\" as wrong.",
        "<!-- eval:end -->"]) + "\n"
    write_section(text, "eval")
    print(text)


if __name__ == "__main__":
    main()
