"""Trust-GRPO and T-GRPO against plain GRPO on tiny random models (bench/RESULTS.md).

    python bench/grpo_variants.py           # about 4 minutes on 2 quiet cores; writes RESULTS.md
    python bench/grpo_variants.py --quick   # a smoke run (few steps, 2 seeds); prints only

Real `grpo` and `thinkpipe eval` runs, every method with the same steps, prompts and seeds
(--seed 0, 1, 2; one initial model), two runs at a time, one thread each. 1: Trust-GRPO paper and
released vs GRPO on "Reply with the letter A/B." with a RULE as thinking reward, compared on the
OUTCOME accuracy (the shaped reward contains R^t); 2: T-GRPO vs GRPO on 3-frame dot-motion
items, then eval with ordered and shuffled frames. TRUST_TEXT, TEMPORAL_TEXT: the set-ups.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402

BIN = os.path.dirname(sys.executable)
ENV = {**{k: v for k, v in os.environ.items()
          if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")},
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
RULES = '''import re

LETTER = re.compile(r"[AB]")
OPTION = re.compile(r"[AB]|[Ll]eft|[Rr]ight")
OPTION_LETTER = {"A": "A", "B": "B", "left": "A", "Left": "A", "right": "B", "Right": "B"}


def _completion(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return turns[-1] if turns else ""


def split(text):
    """(reasoning, final answer): the final answer is the last capital A or B (None if none)."""
    found = list(LETTER.finditer(text))
    return (text, None) if not found else (text[:found[-1].start()], found[-1].group())


def choice(text):
    """Frames task: the option the text picks, its first A, B, left or right (None: none)."""
    m = OPTION.search(text)
    return None if m is None else OPTION_LETTER[m.group()]


def accuracy(record):
    """Outcome: frames records by choice(), letter prompts by the final answer of split()."""
    text = _completion(record)
    if record.get("frames"):
        return float(choice(text) == record["answer"])
    return float(split(text)[1] == record["answer"])


def reasoning(record, response):
    """Thinking reward (a rule): share of the reasoning's A/B letters that are the target."""
    found = LETTER.findall(split(response)[0])
    return found.count(record["answer"]) / len(found) if found else 0.0
'''
COMMON = ["--num-generations", "4", "--per-device-train-batch-size", "8", "--learning-rate",
          "1e-3", "--overwrite-output-dir", "-q"]
TRUST = {"GRPO": [],
         "Trust-GRPO paper": ["--thinking-reward", "rules:reasoning", "--trust", "paper"],
         "Trust-GRPO released": ["--thinking-reward", "rules:reasoning", "--trust", "released"]}
TEMPORAL = {"GRPO": [], "T-GRPO": ["--temporal"]}


TRUST_TEXT = """### 1. Trust-GRPO (SophiaVL-R1): a letter task whose thinking reward is a rule

Tiny LLaMA (`thinkpipe init-model --arch llama`, ~205k parameters, random weights), 64 prompts \
"Reply with the letter A." / "... B.", G = 4, 8 completions a step, 32 new tokens, lr 1e-3 with \
linear decay, beta 0.04, {steps} steps. The final answer is the completion's LAST capital A or \
B; the outcome `accuracy` (`--reward rules:accuracy`) is 1 when it is the asked letter. The \
reasoning is the text before it, and the thinking reward (`--thinking-reward rules:reasoning`) \
is a **rule, not a trained reward model**: the share of the reasoning's A/B letters that are the \
asked one (0 if it has none). They correlate through the policy (what ends on the right letter, \
repeating it, also names it before), but a wrong answer can carry "good reasoning" (target \
named, other letter last) and a right one none, so the paper's gamma can drop below 1. \
Trust-GRPO: alpha 0.3, T = {steps} (w = 0.3 e^(-step/T): 0.30 → {w_end:.2f}), \
--correct-threshold 0.5, --score-threshold 0.2. `rule R^t: correct / wrong` applies the rule to \
all sampled responses (--rollouts) of every method. With a binary outcome the released variant \
never scores a wrong response (R^o = 0 < 0.2, R^t = 0), so mu_w = 0 <= mu_c and gamma = 1 \
always (trust_gamma below agrees). It also skips groups whose outcomes all tie, and a group \
with one correct response gets (1 + w R^t, 0, 0, 0), which group normalisation maps to the \
advantages of (1, 0, 0, 0): it changes the gradient only in groups with two or more correct \
responses of different R^t. The paper's variant scores every response, so wrong ones that \
name the target get credit too, even in groups where all four are wrong."""
TEMPORAL_TEXT = """### 2. T-GRPO (Video-R1): frame order

Tiny Qwen2-VL (`thinkpipe init-model --arch qwen2-vl`, ~223k parameters, random weights). 32 \
training and 32 held-out records of 3 frames (56x56 PNG; a black dot of radius 5 at a random \
height moving 10-17 px a frame, right in half of them, left in the others), "Does the dot move \
to the left or to the right?", options A. left, B. right, `frames: true`. Reward \
(`rules:accuracy`): the first A, B, left or right of the completion is the answer (eval's \
strict verifier wants a bare letter, which a random model does not write: `strict` below). \
G = 4, 8 completions a step, 8 new tokens, lr 1e-3, beta 0, {steps} steps, `--scale-rewards \
batch` for both. T-GRPO: `--temporal`, 2 shuffled-frame responses per group, mu 1.0, alpha \
0.3. Why batch scaling: with a binary accuracy a fired group's rewards (1, 0) become (1.3, 0), \
a rescaling that per-group std normalisation undoes. Measured (seed 0, 30 steps, the default \
`--scale-rewards group`): the advantages of T-GRPO's {n} ordered samples ({k} nonzero) differ \
from GRPO's by at most {d:.1e} (the eps). Under batch scaling a fired group's advantages are \
1.3x those of one where it did not fire: all T-GRPO can change here. Eval: `thinkpipe eval \
--model OUT --max-new-tokens 8` (greedy) on the 32 held-out items with frames in order, and on \
a copy with each item's frames in a random non-identity order (answer unchanged; the reversal, \
one of the 5 orders, shows the opposite motion), scored with the training rule. `same answer \
both orders`: share of items answered alike in both (no option in either counts as alike)."""
READING = """### Reading

Trust-GRPO: no gain in OUTCOME accuracy here. All three climb from ~0.13 to ~0.45, GRPO is \
ahead in steps 81-160, and in the last window the paper variant is 0.01 below GRPO and the \
released one 0.06 below (all three seeds). A 200-step run of this script (T = 200) had both \
variants 0.06 ahead, with per-seed differences from -0.24 to +0.34: gaps this size are seed \
noise. The plateau near 0.5 is a mostly prompt-blind policy: late on, 73-82% of responses end \
on the same letter whatever was asked (last column), for every method. The rule does correlate \
with the outcome (R^t of correct vs wrong responses), and the paper's gamma still fell below 1 \
in a sixth of the steps (min 0.65), where a group's wrong responses named the target more than \
its right ones. Released: gamma is 1 at every step, as argued above. T-GRPO: both models end \
up giving one option to every held-out item, ordered or shuffled (accuracy 0.5 on a balanced \
set), so ordered − shuffled is 0 for both; the bonus fires in most groups because p ≈ p~ and \
ties count: it rewards chance, not use of the order. These ~200k-parameter random models test \
the plumbing and the maths (gamma, annealing, the released skips, the shuffled samples), not \
the papers' claims (real VLMs, a trained thinking reward model, real video): neither claim is \
confirmed or refuted here."""


def grpo(root: str, out: str, args: list[str]) -> tuple[list[dict], float]:
    """Train; (metrics rows, wall seconds)."""
    t0 = time.perf_counter()
    p = subprocess.run([os.path.join(BIN, "grpo"), "--output-dir", out, *COMMON, *args],
                       capture_output=True, text=True, cwd=root, env=ENV, timeout=1200)
    if p.returncode:
        raise RuntimeError(f"grpo {' '.join(args)} failed ({p.returncode}): {p.stderr[-2000:]}")
    return [json.loads(x) for x in p.stdout.splitlines()], time.perf_counter() - t0


def mean_sd(xs: list[float]) -> str:
    xs = [x for x in xs if x is not None]
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:.3f}" if xs else "-"


def column(rows: list[dict], key: str, lo: int = 0, hi: int | None = None) -> float | None:
    """Mean of `key` over rows[lo:hi] that have it (None: none do)."""
    xs = [r[key] for r in rows[lo:hi] if r.get(key) is not None]
    return statistics.mean(xs) if xs else None


def write_jsonl(path: str, records: list[dict]) -> str:
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return path


def sweep(root: str, prefix: str, methods: dict, base: list[str], seeds: list[int], job) -> dict:
    """{method: [job(out, base + method's args + --seed) per seed]}, two jobs at a time."""
    jobs, keys = [], []
    for seed in seeds:
        for name, extra in methods.items():
            out = os.path.join(root, f"{prefix}-{len(jobs)}")
            jobs.append(lambda out=out, a=[*base, *extra, "--seed", str(seed)]: job(out, a))
            keys.append(name)
    runs: dict = {name: [] for name in methods}
    with ThreadPoolExecutor(2) as pool:
        for name, result in zip(keys, pool.map(lambda j: j(), jobs)):
            runs[name].append(result)
    return runs


def rollout_stats(root: str, rollouts: str, since: int) -> tuple[float, float, float]:
    """From a --rollouts file: mean rule R^t of the correct and of the wrong responses, and the
    share of final answers after step `since` that are the most common one (1: prompt-blind)."""
    sys.path.insert(0, root)
    from rules import reasoning, split
    by: dict = {True: [], False: []}
    finals = []
    for r in map(json.loads, open(rollouts)):
        by[r["rewards"]["accuracy"] >= 0.5].append(reasoning(r, r["response"]))
        finals += [split(r["response"])[1]] if r["step"] > since else []
    top = max(finals.count("A"), finals.count("B")) / max(1, len(finals))
    return (*(statistics.mean(by[k]) if by[k] else float("nan") for k in (True, False)), top)


def trust_runs(root: str, model: str, steps: int, seeds: list[int]) -> dict:
    """{method: [(rows, seconds, (R^t of correct, of wrong)) per seed]}."""
    data = write_jsonl(os.path.join(root, "letters.jsonl"), [
        {"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.", "answer": "AB"[i % 2]}
        for i in range(64)])
    base = ["--model", model, "--reward", "rules:accuracy", "--max-completion-length", "32",
            "--beta", "0.04", "--max-steps", str(steps), data]

    def job(out, args):
        rows, seconds = grpo(root, out, [*args, "--rollouts", os.path.join(out, "r.jsonl")])
        return rows, seconds, rollout_stats(root, os.path.join(out, "r.jsonl"), windows(steps)[-1][0])

    return sweep(root, "trust", TRUST, base, seeds, job)


def windows(steps: int) -> list[tuple[int, int]]:
    width = max(1, steps // 10)
    return [(lo, min(lo + width, steps)) for lo in range(0, steps, width)]


def trust_table(runs: dict, steps: int) -> list[str]:
    ws = windows(steps)
    out = ["| method | " + " | ".join(f"{lo + 1}-{hi}" for lo, hi in ws) + " |",
           "|---|" + "---:|" * len(ws)]
    for name, rs in runs.items():
        cells = [mean_sd([column(rows, "rewards/accuracy", lo, hi) for rows, _, _ in rs])
                 for lo, hi in ws]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", "| method | accuracy, all steps | shaped reward | trust_gamma (mean; min) | "
            "steps with a gamma < 1 | R^t scored (mean) | think_weight | rule R^t: correct / "
            "wrong responses | last window: share ending on the top letter | wall s/run |",
            "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for name, rs in runs.items():
        gammas = [r["trust_gamma"] for rows, _, _ in rs for r in rows
                  if r.get("trust_gamma") is not None]
        fired = [sum(1 for r in rows if (r.get("trust_fired") or 0) > 0) for rows, _, _ in rs]
        cells = [mean_sd([column(r, "rewards/accuracy") for r, _, _ in rs]),
                 mean_sd([column(r, "reward") for r, _, _ in rs]),
                 f"{statistics.mean(gammas):.4f}; {min(gammas):.3f}" if gammas else "-",
                 mean_sd(fired) if gammas else "-",
                 mean_sd([column(r, "thinking") for r, _, _ in rs]),
                 mean_sd([column(r, "think_weight") for r, _, _ in rs]),
                 f"{mean_sd([x[0] for _, _, x in rs])} / {mean_sd([x[1] for _, _, x in rs])}",
                 mean_sd([x[2] for _, _, x in rs]),
                 f"{statistics.mean(s for _, s, _ in rs):.0f}"]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def dot_frames(folder: str, name: str, right: bool, rng: random.Random) -> list[str]:
    """3 frames, 56x56, a black dot of radius 5 moving right (or left) at a random height."""
    from PIL import Image, ImageDraw
    y, step = rng.randint(10, 46), rng.randint(10, 17)
    x0 = rng.randint(8, 47 - 2 * step)
    xs = [x0 + k * step for k in range(3)]
    paths = []
    for k, x in enumerate(xs if right else xs[::-1]):
        im = Image.new("RGB", (56, 56), "white")
        ImageDraw.Draw(im).ellipse([x - 5, y - 5, x + 5, y + 5], fill="black")
        paths.append(os.path.join(folder, f"{name}-{k}.png"))
        im.save(paths[-1])
    return paths


def frame_records(root: str, split: str, n: int, seed: int) -> list[dict]:
    rng, folder = random.Random(seed), os.path.join(root, "frames")
    os.makedirs(folder, exist_ok=True)
    return [{"id": f"{split}{i}", "question": "Does the dot move to the left or to the right?",
             "options": ["left", "right"], "answer": "AB"[i % 2 == 0],
             "images": dot_frames(folder, f"{split}{i}", i % 2 == 0, rng), "frames": True}
            for i in range(n)]


def shuffled(records: list[dict], seed: int) -> list[dict]:
    """The same items with each one's frames in a random non-identity order, answer unchanged."""
    rng, out = random.Random(seed), []
    for r in records:
        order = list(range(len(r["images"])))
        while order == sorted(order):
            rng.shuffle(order)
        out.append({**r, "id": r["id"] + "-shuffled", "order": "shuffled",
                    "frame_order": order, "images": [r["images"][i] for i in order]})
    return out


def evaluate(root: str, out: str, items: str) -> dict:
    """The model in `out` on `items` (greedy): rule and strict accuracy, ordered (o) and shuffled
    (s) frames; shares of answers naming an option and of items answered alike in both orders."""
    sys.path.insert(0, root)
    from rules import choice
    p = subprocess.run([os.path.join(BIN, "thinkpipe"), "eval", "--model", out,
                        "--max-new-tokens", "8", "--cache", os.path.join(out, "eval-cache"),
                        items, "-q"], capture_output=True, text=True, env=ENV, timeout=600)
    if p.returncode:
        raise RuntimeError(f"thinkpipe eval failed ({p.returncode}): {p.stderr[-2000:]}")
    scored = {r["id"]: r for r in map(json.loads, p.stdout.splitlines())}
    pairs = [(r, scored[i + "-shuffled"]) for i, r in scored.items() if "order" not in r]
    picks = [(choice(a["response"]), choice(b["response"])) for a, b in pairs]
    answers = [a["answer"] for a, _ in pairs]
    return {"acc_o": statistics.mean(float(x == g) for (x, _), g in zip(picks, answers)),
            "acc_s": statistics.mean(float(y == g) for (_, y), g in zip(picks, answers)),
            "strict_o": statistics.mean(a["score"] for a, _ in pairs),
            "strict_s": statistics.mean(b["score"] for _, b in pairs),
            "named": statistics.mean(float(c is not None) for xy in picks for c in xy),
            "same": statistics.mean(float(x == y) for x, y in picks)}


def temporal_runs(root: str, model: str, steps: int, seeds: list[int]) -> tuple[dict, tuple]:
    """{method: [(rows, seconds, eval) per seed]}, and the --scale-rewards group check: (max
    |advantage difference| of the ordered samples, samples, samples with an advantage)."""
    train = write_jsonl(os.path.join(root, "frames-train.jsonl"), frame_records(root, "t", 32, 1))
    held = frame_records(root, "h", 32, 2)
    items = write_jsonl(os.path.join(root, "frames-eval.jsonl"), held + shuffled(held, 3))
    base = ["--model", model, "--reward", "rules:accuracy", "--max-completion-length", "8",
            "--scale-rewards", "batch", "--max-steps", str(steps), train]

    def job(out, args):
        rows, seconds = grpo(root, out, args)
        return rows, seconds, evaluate(root, out, items)

    def advantages(out, args):
        grpo(root, out, [*args, "--rollouts", os.path.join(out, "r.jsonl")])
        return [r["advantage"] for r in map(json.loads, open(os.path.join(out, "r.jsonl")))
                if not r["frames_shuffled"]]

    group = sweep(root, "group", TEMPORAL, [*base[:6], "--max-steps", "30", train], [0], advantages)
    a, b = group["GRPO"][0], group["T-GRPO"][0]
    check = (max(abs(x - y) for x, y in zip(a, b)), len(a), sum(abs(x) > 1e-6 for x in a))
    return sweep(root, "temporal", TEMPORAL, base, seeds, job), check


def temporal_table(runs: dict, steps: int) -> list[str]:
    tail = max(1, steps // 10)
    out = [f"| method | train accuracy, steps 1-{tail} → last {tail} | eval ordered | eval "
           "shuffled | ordered − shuffled | strict ordered / shuffled | answers naming an option "
           "| same answer both orders | temporal_fired | p / p~ (train) | wall s/run (train) |",
           "|---|---|---:|---:|---:|---|---:|---:|---:|---|---:|"]
    for name, rs in runs.items():
        ev = [e for _, _, e in rs]
        first = mean_sd([column(rows, "rewards/accuracy", 0, tail) for rows, _, _ in rs])
        last = mean_sd([column(rows, "rewards/accuracy", steps - tail) for rows, _, _ in rs])
        p = (f"{mean_sd([column(r, 'temporal_p') for r, _, _ in rs])} / "
             f"{mean_sd([column(r, 'temporal_p_shuffled') for r, _, _ in rs])}")
        cells = [f"{first} → {last}", mean_sd([e["acc_o"] for e in ev]),
                 mean_sd([e["acc_s"] for e in ev]), mean_sd([e["acc_o"] - e["acc_s"] for e in ev]),
                 f"{mean_sd([e['strict_o'] for e in ev])} / {mean_sd([e['strict_s'] for e in ev])}",
                 mean_sd([e["named"] for e in ev]), mean_sd([e["same"] for e in ev]),
                 mean_sd([column(r, "temporal_fired") for r, _, _ in rs]),
                 p if name != "GRPO" else "-", f"{statistics.mean(s for _, s, _ in rs):.0f}"]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return out


def paired(runs: dict, method: str, value) -> str:
    """method − GRPO of value(run) per seed (same seeds, so paired), and their mean."""
    d = [value(a) - value(b) for a, b in zip(runs[method], runs["GRPO"])]
    return f"{statistics.mean(d):+.3f} (per seed {', '.join(f'{x:+.3f}' for x in d)})"


def report(trust: dict, temporal: dict, check: tuple, trust_steps: int, temporal_steps: int,
           seeds: list[int], seconds: float) -> str:
    last = windows(trust_steps)[-1][0]
    acc_last = lambda run: column(run[0], "rewards/accuracy", last)  # noqa: E731
    gap = lambda run: run[2]["acc_o"] - run[2]["acc_s"]  # noqa: E731
    return "\n".join([
        "<!-- grpo-variants:start -->", "## grpo reward variants: Trust-GRPO, T-GRPO "
        "(bench/grpo_variants.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}. "
        f"Command: `python bench/grpo_variants.py` ({seconds / 60:.1f} min in all, two runs at a "
        f"time, one thread each). Seeds {', '.join(map(str, seeds))} (`--seed`; the initial "
        "model is the same) for every method; cells are mean ± std over seeds.", "",
        *TRUST_TEXT.format(steps=trust_steps, w_end=0.3 * math.exp(-1)).split("\n"), "",
        f"Outcome accuracy (`rewards/accuracy`) per window of {trust_steps // 10} steps:", "",
        *trust_table(trust, trust_steps), "",
        f"Paired over seeds, accuracy in the last window minus GRPO's: Trust-GRPO paper "
        f"{paired(trust, 'Trust-GRPO paper', acc_last)}; released "
        f"{paired(trust, 'Trust-GRPO released', acc_last)}.", "",
        *TEMPORAL_TEXT.format(steps=temporal_steps, d=check[0], n=check[1], k=check[2]).split("\n"), "",
        *temporal_table(temporal, temporal_steps), "",
        f"Paired over seeds, (ordered − shuffled eval accuracy) of T-GRPO minus GRPO's: "
        f"{paired(temporal, 'T-GRPO', gap)}.", "",
        *READING.split("\n"),
        "<!-- grpo-variants:end -->"]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few steps, 2 seeds, print only")
    quick = ap.parse_args().quick
    trust_steps, temporal_steps = (40, 20) if quick else (400, 300)
    seeds = [0, 1] if quick else [0, 1, 2]
    from thinkpipe.core.models import build_tiny
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "rules.py"), "w") as f:
            f.write(RULES)
        build_tiny("llama", os.path.join(root, "llama"))
        build_tiny("qwen2-vl", os.path.join(root, "qwen2-vl"))
        trust = trust_runs(root, os.path.join(root, "llama"), trust_steps, seeds)
        temporal, check = temporal_runs(root, os.path.join(root, "qwen2-vl"), temporal_steps, seeds)
    text = report(trust, temporal, check, trust_steps, temporal_steps, seeds, time.perf_counter() - t0)
    if not quick:
        write_section(text, "grpo-variants")
    print(text)


if __name__ == "__main__":
    main()
