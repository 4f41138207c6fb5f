"""Scoring throughput of `thinkpipe eval` on 1M multiple-choice / numeric records (bench/RESULTS.md).

    python bench/eval.py            # about 6 minutes on 2 cores; --n 100000 --rounds 1 for a quick run

Peers: lmms-eval and VLMEvalKit cannot be installed beside this stack (they pin their own torch
and model libraries), so the comparison is against re-implementations written here from their
documented behaviour, run in the same process set-up:
  - a naive loop: stdlib json, first <answer> tag or the whole text, string equality;
  - VLMEvalKit-style letter inference (`can_infer`: punctuation to spaces, a lone option letter
    among the last tokens, "answer is X", option-text match), numbers by a last-number regex.
All read the same JSONL file and write scored JSONL; wall time includes start-up. The
contenders alternate within each round (a noisy second on a shared machine hits them alike);
each figure is the median over the rounds with the min-max, a ratio the median of the per-round
ratios. Also: thinkpipe eval on a tenth of the records (how cost grows with records), and the
items/s of the slower verifiers (MRA, math, MME-Reasoning's puzzle validators) scored in-process.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
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


PUZZLES = {   # MME-Reasoning puzzle items: a solved grid or bridge set and its givens
    "sudoku_4": ("calculate_answer_function_sudoku_4", [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]],
                 {"base_matrix": [[1, None, None, None]] + [[None] * 4] * 3}),
    "skyscraper": ("calculate_answer_function_skyscraper", [[1, 2, 3], [2, 3, 1], [3, 1, 2]],
                   {"base_matrix": [[1, None, None], [None] * 3, [None] * 3],
                    "visible_skyscrapers": [[3, 2, 1], [3, 2, 1], [1, 2, None], [None, 2, 2]]}),
    "hashi": ("calculate_answer_function_hashi",
              [{"start": "a1", "end": "a3", "number": 2}, {"start": "a3", "end": "c3", "number": 1}],
              {"init_islands": [{"cord": "a1", "requirement": 2}, {"cord": "a3", "requirement": 3},
                                {"cord": "c3", "requirement": 1}]}),
}


def verifier_records(kind: str, n: int) -> list[dict]:
    """n records a verifier reads: MRA (regression), math expressions, or a puzzle validator."""
    rng = random.Random(1)
    out = []
    for i in range(n):
        if kind == "MRA (regression)":
            gold = rng.randint(5, 500)
            out.append({"question_type": "regression", "answer": str(gold),
                        "response": f"<think>estimating</think><answer>{gold * rng.uniform(0.5, 1.5):.1f}</answer>"})
        elif kind == "math":
            gold, pred = rng.choice([("\\frac{1}{2}", "0.5"), ("x^2", "x**2"), ("2\\sqrt{2}", "\\sqrt{8}"),
                                     ("3", "\\boxed{3}"), ("1/3", "0.33")])
            out.append({"question_type": "math", "answer": gold, "response": f"<answer>{pred}</answer>"})
        else:
            fn, answer, info = PUZZLES[kind.split()[-1]]
            out.append({"function_id": fn, "answer": None, "special_info": repr(info),
                        "response": f"<answer>{answer}</answer>"})
    return out


def verifier_rates(rounds: int) -> list[str]:
    """items/s of score_record (extraction, verifier, status) per slow verifier, in-process."""
    from thinkpipe.core.rewards.score import score_record
    kinds = {"MRA (regression)": 50_000, "math": 5_000, "puzzle sudoku_4": 20_000,
             "puzzle skyscraper": 20_000, "puzzle hashi": 20_000}
    made = {kind: verifier_records(kind, n) for kind, n in kinds.items()}
    rates = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind, records in made.items():
            start = time.perf_counter()
            statuses = [score_record(dict(r)).status for r in records]
            rates[kind].append(len(records) / (time.perf_counter() - start))
            assert statuses.count("correct") > 0, kind       # a verifier that reads nothing
    rows = ["| verifier | items | items/s (median, min-max) |", "|---|---:|---:|"]
    for kind, got in rates.items():
        rows.append(f"| {kind} | {kinds[kind]:,} | {statistics.median(got):,.0f} ({min(got):,.0f}-{max(got):,.0f}) |")
    return rows


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def rounds_of(contenders: dict, rounds: int) -> dict:
    """Wall seconds of each contender per round, the contenders alternating within a round."""
    walls = {name: [] for name in contenders}
    for i in range(rounds):
        names = list(contenders) if i % 2 == 0 else list(contenders)[::-1]
        for name in names:
            walls[name].append(timed(contenders[name]))
    return walls


OURS, OURS2, PEER = ("thinkpipe eval (extraction, status, CIs, --group-by task)",
                     "thinkpipe eval --workers 2", "VLMEvalKit-style can_infer re-implementation")


def table(walls: dict, n: int) -> list[str]:
    rows = ["| scorer | median wall s (min-max) | items/s | thinkpipe's items/s over it (rounds) |",
            "|---|---:|---:|---:|"]
    for name, w in walls.items():
        ratios = [b / a for a, b in zip(walls[OURS], w)]
        rows.append(f"| {name} | {statistics.median(w):.1f} ({min(w):.1f}-{max(w):.1f}) | "
                    f"{n / statistics.median(w):,.0f} | {statistics.median(ratios):.2f}× "
                    f"({min(ratios):.2f}-{max(ratios):.2f}) |")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    src, small = (os.path.join(HERE, "data", f"eval-{n}.jsonl") for n in (args.n, args.n // 10))
    for path, n in ((src, args.n), (small, args.n // 10)):
        if not os.path.exists(path):
            generate(path, n)
    out = os.path.join(HERE, "data", "eval-out.jsonl")
    tp = os.path.join(os.path.dirname(sys.executable), "thinkpipe")
    ours = [tp, "eval", "--group-by", "task", "-q", "-o", out]
    walls = rounds_of({
        OURS: ours + [src], OURS2: ours + ["--workers", "2", src],
        "naive loop (stdlib json, <answer> or text, equality)": [sys.executable, "-c", NAIVE, src, out],
        PEER: [sys.executable, "-c", VLMEVAL_STYLE, src, out],
        "tenth": ours + [small]}, args.rounds)
    os.unlink(out)
    tenth = walls.pop("tenth")
    one, ten = statistics.median(tenth), statistics.median(walls[OURS])
    b = (ten - one) / (args.n - args.n // 10)
    peer = [p / o for o, p in zip(walls[OURS], walls[PEER])]
    scale = [w1 / w2 for w1, w2 in zip(walls[OURS], walls[OURS2])]
    text = "\n".join([
        "<!-- eval:start -->", "## thinkpipe eval (bench/eval.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        f"{args.n:,} generated records, half 4-option multiple choice in five answer styles, half "
        f"numeric; each scorer reads the JSONL and writes scored JSONL; {args.rounds} rounds, the "
        "scorers alternating. The last column is thinkpipe's single-process throughput over each "
        "row's (> 1: thinkpipe is faster).", "", *table(walls, args.n), "",
        f"Single process against the VLMEvalKit-style parser: **{statistics.median(peer):.2f}×** "
        f"(rounds {min(peer):.2f}-{max(peer):.2f}); `--workers 2` over one process: "
        f"**{statistics.median(scale):.2f}×** (rounds {min(scale):.2f}-{max(scale):.2f}), the same bytes.",
        f"Scaling: {args.n // 10:,} records take {one:.1f} s, {args.n:,} take {ten:.1f} s: about "
        f"{one - b * (args.n // 10):.1f} s to start plus {b * 1e6:.1f} µs a record, linear in records.",
        "The peers do less per item: no reasoning stripping, no truncation detection, no status, "
        "no intervals; the naive loop also scores \"The answer is (B).\" as wrong.", "",
        "Slower verifiers, scored in-process (extraction, verifier and status; no file I/O):", "",
        *verifier_rates(args.rounds), "<!-- eval:end -->"]) + "\n"
    write_section(text, "eval")
    print(text)


if __name__ == "__main__":
    main()
