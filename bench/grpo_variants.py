"""Trust-GRPO and T-GRPO against plain GRPO on tiny random models (bench/RESULTS.md).

    python bench/grpo_variants.py           # about 10 minutes on 2 cores; writes RESULTS.md
    python bench/grpo_variants.py --quick   # a smoke run (few steps, 2 seeds); prints only

Both experiments run the real `grpo` and `thinkpipe eval` executables, every method with the same
steps, prompts and seeds (--seed 0, 1, 2; the initial model is the same for all), two runs at a
time with one thread each; the wall time of every run is recorded.

1. Trust-GRPO (SophiaVL-R1). A tiny LLaMA (`thinkpipe init-model --arch llama`), 64 prompts
   "Reply with the letter A/B.". A completion's final answer is its LAST capital letter; the
   outcome `accuracy` is 1 when that is the asked letter. Its reasoning is the text before that
   letter; the thinking reward is a RULE, not a trained reward model: the share of the capital
   letters in the reasoning that are the asked letter (0 when it has none). Stating the target
   early and ending on it are what one policy (repeat the asked letter) does, so the two
   correlate once the model learns; a wrong answer can still have "good reasoning" (the target
   named, then another letter last), which is where the paper's trust gamma < 1 can fire.
   Methods: GRPO (no thinking reward), Trust-GRPO paper, Trust-GRPO released (--trust). Reported:
   the OUTCOME accuracy (`rewards/accuracy`, not the shaped reward, which adds R^t and would
   favour Trust-GRPO by construction) per window of steps, mean +- std over seeds; mean
   trust_gamma and thinking. With binary outcomes the released variant scores no wrong response
   (R^o = 0 < --score-threshold 0.2), so mu_w = 0 <= mu_c and its gamma is always 1.
2. T-GRPO (Video-R1). A tiny Qwen2-VL, records of 3 frames (56x56 PNG) of a dot moving left or
   right, "Does the dot move to the left or to the right?" A. left B. right, `frames: true`.
   The training reward is a rule (the first capital A or B of the completion is the answer): a
   random 8-token model almost never writes eval's strict bare letter. GRPO vs T-GRPO
   (--temporal, 2 shuffled-frame responses per group of 4), both with --scale-rewards batch:
   with binary accuracy and per-group scaling the bonus (alpha to every correct ordered response)
   is an affine change of the group's rewards and cancels exactly. Each trained model is then
   evaluated with `thinkpipe eval --model OUT --max-new-tokens 8` (greedy) on 32 held-out items
   with ordered frames and on the same items with their frames shuffled (non-identity
   permutation, answer unchanged): accuracy by the training rule and by eval's strict score.
"""
from __future__ import annotations

import argparse
import json
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

CAPITAL = re.compile(r"[A-Z]")


def _completion(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return turns[-1] if turns else ""


def _split(text):
    """(reasoning, final letter): the final letter is the last capital A-Z (None if none)."""
    caps = list(CAPITAL.finditer(text))
    return (text, None) if not caps else (text[:caps[-1].start()], caps[-1].group())


def accuracy(record):
    """Letter task outcome: the completion's last capital letter is the asked one."""
    return float(_split(_completion(record))[1] == record["answer"])


def reasoning(record, response):
    """Thinking reward (a rule): share of the reasoning's capital letters that are the target."""
    caps = CAPITAL.findall(_split(response)[0])
    return caps.count(record["answer"]) / len(caps) if caps else 0.0


def direction(text, answer):
    """Frames task: the first capital A or B of the text is the answer."""
    m = re.search(r"[AB]", text)
    return float(m is not None and m.group() == answer)


def frames(record):
    return {"accuracy": direction(_completion(record), record["answer"])}
'''
COMMON = ["--num-generations", "4", "--per-device-train-batch-size", "8", "--learning-rate",
          "1e-3", "--overwrite-output-dir", "-q"]
TRUST = {"GRPO": [],
         "Trust-GRPO paper": ["--thinking-reward", "rules:reasoning", "--trust", "paper"],
         "Trust-GRPO released": ["--thinking-reward", "rules:reasoning", "--trust", "released"]}
TEMPORAL = {"GRPO": [], "T-GRPO": ["--temporal"]}


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
    if not xs:
        return "-"
    return f"{statistics.mean(xs):.3f} ± {statistics.stdev(xs) if len(xs) > 1 else 0.0:.3f}"


def column(rows: list[dict], key: str, lo: int = 0, hi: int | None = None) -> float | None:
    """Mean of `key` over rows[lo:hi] that have it (None: none do)."""
    xs = [r[key] for r in rows[lo:hi] if r.get(key) is not None]
    return statistics.mean(xs) if xs else None


def parallel(jobs: list) -> list:
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda job: job(), jobs))


# ---------------------------------------------------------------- 1. Trust-GRPO


def letter_prompts(root: str) -> str:
    path = os.path.join(root, "letters.jsonl")
    with open(path, "w") as f:
        for i in range(64):
            f.write(json.dumps({"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.",
                                "answer": "AB"[i % 2]}) + "\n")
    return path


def trust_runs(root: str, model: str, steps: int, seeds: list[int]) -> dict:
    """{method: [(rows, seconds) per seed]}."""
    data = letter_prompts(root)
    base = ["--model", model, "--reward", "rules:accuracy", "--max-completion-length", "32",
            "--beta", "0.04", "--max-steps", str(steps), data]
    jobs, keys = [], []
    for seed in seeds:
        for name, extra in TRUST.items():
            out = os.path.join(root, f"trust-{len(jobs)}")
            jobs.append(lambda out=out, a=[*base, *extra, "--seed", str(seed)]: grpo(root, out, a))
            keys.append(name)
    runs: dict = {name: [] for name in TRUST}
    for name, result in zip(keys, parallel(jobs)):
        runs[name].append(result)
    return runs


def trust_table(runs: dict, steps: int) -> list[str]:
    width = max(1, steps // 10)
    windows = [(lo, min(lo + width, steps)) for lo in range(0, steps, width)]
    head = " | ".join(f"{lo + 1}-{hi}" for lo, hi in windows)
    out = [f"| method | {head} |", "|---|" + "---:|" * len(windows)]
    for name, rs in runs.items():
        cells = [mean_sd([column(rows, "rewards/accuracy", lo, hi) for rows, _ in rs])
                 for lo, hi in windows]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", "| method | accuracy, last window | shaped reward (all steps) | trust_gamma "
            "(mean) | steps with gamma < 1 | thinking R^t (mean scored) | think_weight | "
            "wall s/run |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, rs in runs.items():
        last = mean_sd([column(rows, "rewards/accuracy", windows[-1][0]) for rows, _ in rs])
        fired = [sum(1 for r in rows if (r.get("trust_fired") or 0) > 0) for rows, _ in rs]
        gamma = [column(rows, "trust_gamma") for rows, _ in rs]
        low = [min((r["trust_gamma"] for r in rows if r.get("trust_gamma") is not None),
                   default=None) for rows, _ in rs]
        out.append(f"| {name} | {last} | {mean_sd([column(r, 'reward') for r, _ in rs])} | "
                   f"{mean_sd(gamma)} (min {min((x for x in low if x is not None), default='-')})"
                   f" | {mean_sd(fired) if gamma[0] is not None else '-'} | "
                   f"{mean_sd([column(r, 'thinking') for r, _ in rs])} | "
                   f"{mean_sd([column(r, 'think_weight') for r, _ in rs])} | "
                   f"{mean_sd([s for _, s in rs])} |")
    return out


# ---------------------------------------------------------------- 2. T-GRPO


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
    out = []
    for i in range(n):
        right = i % 2 == 0
        out.append({"id": f"{split}{i}", "question": "Does the dot move to the left or to the "
                    "right?", "options": ["left", "right"], "answer": "B" if right else "A",
                    "images": dot_frames(folder, f"{split}{i}", right, rng), "frames": True})
    return out


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


def write_jsonl(path: str, records: list[dict]) -> str:
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return path


def evaluate(root: str, out: str, items: str) -> dict:
    """{order: (rule accuracy, strict accuracy)} of the model in `out` on `items`, greedy."""
    sys.path.insert(0, root)
    from rules import direction
    p = subprocess.run([os.path.join(BIN, "thinkpipe"), "eval", "--model", out,
                        "--max-new-tokens", "8", "--cache", os.path.join(out, "eval-cache"),
                        items, "-q"], capture_output=True, text=True, env=ENV, timeout=600)
    if p.returncode:
        raise RuntimeError(f"thinkpipe eval failed ({p.returncode}): {p.stderr[-2000:]}")
    scored = [json.loads(x) for x in p.stdout.splitlines()]
    res = {}
    for order in ("ordered", "shuffled"):
        rs = [r for r in scored if r.get("order", "ordered") == order]
        res[order] = (statistics.mean(direction(r["response"], r["answer"]) for r in rs),
                      statistics.mean(r["score"] for r in rs))
    return res


def temporal_runs(root: str, model: str, steps: int, seeds: list[int]) -> dict:
    """{method: [(rows, seconds, eval) per seed]}."""
    train = write_jsonl(os.path.join(root, "frames-train.jsonl"), frame_records(root, "t", 32, 1))
    held = frame_records(root, "h", 32, 2)
    items = write_jsonl(os.path.join(root, "frames-eval.jsonl"), held + shuffled(held, 3))
    base = ["--model", model, "--reward", "rules:frames", "--max-completion-length", "8",
            "--scale-rewards", "batch", "--max-steps", str(steps), train]

    def job(out, args):
        rows, seconds = grpo(root, out, args)
        return rows, seconds, evaluate(root, out, items)

    jobs, keys = [], []
    for seed in seeds:
        for name, extra in TEMPORAL.items():
            out = os.path.join(root, f"temporal-{len(jobs)}")
            jobs.append(lambda out=out, a=[*base, *extra, "--seed", str(seed)]: job(out, a))
            keys.append(name)
    runs: dict = {name: [] for name in TEMPORAL}
    for name, result in zip(keys, parallel(jobs)):
        runs[name].append(result)
    return runs


def temporal_table(runs: dict, steps: int) -> list[str]:
    tail = max(1, steps // 5)
    out = ["| method | train accuracy, first / last " + f"{tail} steps | eval ordered (rule) | "
           "eval shuffled (rule) | ordered - shuffled | eval strict (ordered / shuffled) | "
           "temporal_fired | p / p~ (train) | wall s/run (train) |",
           "|---|---|---:|---:|---:|---|---:|---|---:|"]
    for name, rs in runs.items():
        first = mean_sd([column(rows, "rewards/accuracy", 0, tail) for rows, _, _ in rs])
        last = mean_sd([column(rows, "rewards/accuracy", steps - tail) for rows, _, _ in rs])
        ordered = [e["ordered"][0] for _, _, e in rs]
        mixed = [e["shuffled"][0] for _, _, e in rs]
        strict = (f"{mean_sd([e['ordered'][1] for _, _, e in rs])} / "
                  f"{mean_sd([e['shuffled'][1] for _, _, e in rs])}")
        p = (f"{mean_sd([column(r, 'temporal_p') for r, _, _ in rs])} / "
             f"{mean_sd([column(r, 'temporal_p_shuffled') for r, _, _ in rs])}")
        out.append(f"| {name} | {first} → {last} | {mean_sd(ordered)} | {mean_sd(mixed)} | "
                   f"{mean_sd([a - b for a, b in zip(ordered, mixed)])} | {strict} | "
                   f"{mean_sd([column(r, 'temporal_fired') for r, _, _ in rs])} | "
                   f"{p if name != 'GRPO' else '-'} | {mean_sd([s for _, s, _ in rs])} |")
    return out


# ---------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="few steps, 2 seeds, print only")
    quick = ap.parse_args().quick
    trust_steps, temporal_steps = (40, 20) if quick else (200, 100)
    seeds = [0, 1] if quick else [0, 1, 2]
    from thinkpipe.core.models import build_tiny
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, "rules.py"), "w") as f:
            f.write(RULES)
        build_tiny("llama", os.path.join(root, "llama"))
        build_tiny("qwen2-vl", os.path.join(root, "qwen2-vl"))
        trust = trust_runs(root, os.path.join(root, "llama"), trust_steps, seeds)
        temporal = temporal_runs(root, os.path.join(root, "qwen2-vl"), temporal_steps, seeds)
    text = report(trust, temporal, trust_steps, temporal_steps, seeds, time.perf_counter() - t0)
    if not quick:
        write_section(text, "grpo-variants")
    print(text)


def report(trust: dict, temporal: dict, trust_steps: int, temporal_steps: int, seeds: list[int],
           seconds: float) -> str:
    return "\n".join([
        "<!-- grpo-variants:start -->", "## grpo reward variants: Trust-GRPO, T-GRPO "
        "(bench/grpo_variants.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}. "
        f"Command: `python bench/grpo_variants.py` ({seconds / 60:.1f} min, two runs at a time, "
        "one thread each).", "",
        *trust_table(trust, trust_steps), "",
        *temporal_table(temporal, temporal_steps), "",
        "<!-- grpo-variants:end -->"]) + "\n"


if __name__ == "__main__":
    main()
