"""How each tool's cost grows with the work: two measured points per tool (bench/RESULTS.md).

    python bench/scaling.py            # about ten minutes on 2 cores
    python bench/scaling.py --only freekd,sft --rounds 1

For every tool the benchmarks above measure at one size, this runs the same command at two
sizes of its main work dimension (records, sequence length, samples per prompt, nodes, support
images, expert episodes) and fits cost(w) = a + b*w through the two medians: `a` is the fixed
cost (interpreter, imports, model load), `b` the cost of one more unit of work, so a user can
extrapolate to their data. The two sizes alternate within a round (small, large, small, large);
wall time of the whole command, startup included; tiny models from `thinkpipe init-model`.
eval's scoring, convert, grpo and generation state their own growth in their sections.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402

BIN = os.path.dirname(sys.executable)


@dataclass(frozen=True)
class Case:
    tool: str                            # the command, as a user types it
    grows: str                           # the work dimension, in words
    unit: str                            # what one unit of w is
    points: tuple[int, int]              # the two sizes measured
    command: Callable[[str, int], list[list[str]]]   # (root, w) -> commands run in order
    seconds: Callable[[str], float] | None = None    # the last command's stdout -> its own
                                                     # timing (None: wall time of all commands)


def run(cmds: list[list[str]], root: str) -> tuple[float, str]:
    """(wall seconds, the last command's stdout)."""
    start, out = time.perf_counter(), ""
    for cmd in cmds:
        done = subprocess.run([os.path.join(BIN, cmd[0]), *cmd[1:]], cwd=root, capture_output=True,
                              text=True)
        if done.returncode:
            sys.exit(f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
        out = done.stdout
    return time.perf_counter() - start, out


def write_jsonl(path: str, records: list[dict]) -> str:
    with open(path, "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    return path


def letters(n: int, words: int = 0) -> list[dict]:
    """n prompts "Reply with the letter A/B." (with `words` filler words of context)."""
    pad = " ".join(["context"] * words)
    return [{"id": f"p{i}", "question": f"{pad} Reply with the letter {'AB'[i % 2]}.".strip(),
             "answer": "AB"[i % 2]} for i in range(n)]


def chats(n: int, words: int) -> list[dict]:
    return [{"id": f"c{i}", "messages": [
        {"role": "user", "content": f"Say {words} words, number {i}."},
        {"role": "assistant", "content": " ".join(f"word{(i + k) % 50}" for k in range(words))}]}
        for i in range(n)]


def synth_draw(root: str, w: int) -> list[list[str]]:
    return [["synth-draw", "--task", "maze", "--count", str(w), "--workers", "1", "-q", "-o", "m.jsonl"]]


def sft(root: str, w: int) -> list[list[str]]:
    data = write_jsonl(os.path.join(root, f"sft-{w}.jsonl"), chats(64, w))
    return [["sft", "--model", "llama", "--output-dir", "sft-out", "--overwrite-output-dir",
             "--max-steps", "20", "--per-device-train-batch-size", "8", "--max-seq-length", "2048",
             "-q", data]]


def reject_sample(root: str, w: int) -> list[list[str]]:
    data = write_jsonl(os.path.join(root, "rs.jsonl"), letters(16))
    return [["reject-sample", "--model", "llama", "--num-samples", str(w), "--max-turn-tokens", "32",
             "--temperature", "1.0", "--keep", "all", "-q", "-o", "rs-out.jsonl", data]]


THINK = '''def reward(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    text = turns[-1] if turns else ""
    return min(1.0, text.count(record["answer"]) / 4)
'''


def grpo_trust(root: str, w: int) -> list[list[str]]:
    with open(os.path.join(root, "think.py"), "w") as f:
        f.write(THINK)
    data = write_jsonl(os.path.join(root, "g.jsonl"), letters(64))
    return [["grpo", "--model", "llama", "--output-dir", "g-out", "--overwrite-output-dir",
             "--reward", "accuracy", "--trust", "paper", "--thinking-reward", "think:reward",
             "--num-generations", str(w), "--per-device-train-batch-size", str(2 * w),
             "--max-completion-length", "32", "--max-steps", "10", "-q", data]]


def eval_model(root: str, w: int) -> list[list[str]]:
    data = write_jsonl(os.path.join(root, f"e-{w}.jsonl"), letters(w))
    return [["thinkpipe", "eval", "--model", "llama", "--max-new-tokens", "32", "--batch-size", "16",
             "-q", "-o", "e-out.jsonl", data]]


def fira(root: str, w: int) -> list[list[str]]:
    text = write_jsonl(os.path.join(root, "text.jsonl"),
                       [{"text": " ".join(f"w{(i * 7 + k) % 97}" for k in range(600))} for i in range(64)])
    return [["fira-pretrain", "--tokenizer", "llama", "--optimizer", "fira", "--seq-len", str(w),
             "--max-steps", "20", "--per-device-train-batch-size", "8", "--output-dir", "fira-out",
             "--overwrite-output-dir", "-q", text]]


def kpod(root: str, w: int) -> list[list[str]]:
    return [["distill-kpod", "--make", str(w), "--seed", "1", "-o", f"arith-{w}.jsonl"],
            ["distill-kpod", "--model", "llama", "--output-dir", "kpod-out", "--overwrite-output-dir",
             "--num-train-epochs", "1", "--per-device-train-batch-size", "8", "--weighting-epochs", "1",
             "-q", f"arith-{w}.jsonl", "-o", "kpod-metrics.jsonl"]]


def freekd(root: str, w: int) -> list[list[str]]:
    return [["freekd", "--synthetic", str(w), "--mode", "freekd", "--epochs", "60", "-q",
             "--metrics", "fk.jsonl", "-o", "fk-pred.jsonl"]]


def pudnet(root: str, w: int) -> list[list[str]]:
    train = ["pudnet-predict", "train", "--data", "digits", "--classes", "0,1,2,3,4,5", "--image-size",
             "16", "--shots", "5", "--episodes", "20", "--eval-every", "20", "-q", "-o", "hyper.pt"]
    predict = ["pudnet-predict", "--hyper", "hyper.pt", "--data", "digits", "--classes", "5,6,7,8,9",
               "--shots", str(w), "--eval", "-q", "-o", "w.safetensors"]
    if not os.path.exists(os.path.join(root, "hyper.pt")):
        run([train], root)
    return [predict]


def plankd(root: str, w: int) -> list[list[str]]:
    data = f"plankd-{w}.parquet"
    if not os.path.exists(os.path.join(root, data)):
        run([["distill-plankd", "collect", "--episodes", str(w), "--seed", "0", "--route", "150",
              "--timeout", "12", "-q", "-o", data]], root)
    return [["distill-plankd", "train", "--role", "teacher", "--epochs", "5", "-q", "-o", "t.pt", data]]


CASES = {
    "synth-draw": Case("synth-draw --task maze", "records", "record", (100, 400), synth_draw),
    "sft": Case("sft (20 steps, batch 8)", "sequence length", "word of each answer", (32, 256), sft),
    "reject-sample": Case("reject-sample (16 prompts, 32 new tokens)", "samples per prompt", "sample of each prompt",
                          (2, 8), reject_sample),
    "grpo-trust": Case("grpo --trust paper (10 steps, 2 prompts a step)", "group size G", "completion per group",
                       (4, 8), grpo_trust),
    "eval-model": Case("thinkpipe eval --model (32 new tokens)", "items", "item", (32, 128), eval_model),
    "fira-pretrain": Case("fira-pretrain --optimizer fira (20 steps, batch 8)", "sequence length",
                          "token of a sequence", (64, 256), fira),
    "distill-kpod": Case("distill-kpod (1 epoch, with its weighting module)", "rationales",
                         "rationale", (48, 192), kpod),
    "freekd": Case("freekd --mode freekd (60 epochs)", "graph nodes (--synthetic)", "node", (400, 1600),
                   freekd),
    "pudnet-predict": Case("pudnet-predict (the prediction alone)", "support images per class", "shot",
                           (5, 20), pudnet, lambda out: json.loads(out.splitlines()[-1])["predict_seconds"]),
    "distill-plankd": Case("distill-plankd train --role teacher (5 epochs)", "expert episodes",
                           "episode", (4, 16), plankd),
}


def measure(case: Case, root: str, rounds: int) -> list[float]:
    """Median seconds at each of the case's two points, alternated over rounds."""
    times: dict[int, list[float]] = {w: [] for w in case.points}
    run(case.command(root, case.points[0]), root)   # warm-up, not counted (caches, first imports)
    for _ in range(rounds):
        for w in case.points:
            wall, out = run(case.command(root, w), root)
            times[w].append(case.seconds(out) if case.seconds else wall)
    return [statistics.median(times[w]) for w in case.points]


def row(case: Case, medians: list[float]) -> str:
    (w1, w2), (t1, t2) = case.points, medians
    b = (t2 - t1) / (w2 - w1)
    a = t1 - b * w1
    return (f"| {case.tool} | {case.grows} | {w1:,} → {w2:,} ({w2 / w1:.0f}×) | {t1:.2f} → {t2:.2f} "
            f"({t2 / t1:.2f}×) | {a:.2f} + {b * 1000:.2f} ms × {case.unit} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", default=",".join(CASES), help="comma-separated case names")
    args = ap.parse_args()
    rows = ["| command | work grows in | work | seconds (median) | cost(w) = a + b·w |",
            "|---|---|---|---|---|"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as root:
        subprocess.run([os.path.join(BIN, "thinkpipe"), "init-model", "--arch", "llama",
                        os.path.join(root, "llama"), "-q"], check=True, stdout=subprocess.DEVNULL)
        for name in args.only.split(","):
            medians = measure(CASES[name], root, args.rounds)
            rows.append(row(CASES[name], medians))
            print(rows[-1], flush=True)
    text = "\n".join([
        "<!-- scaling:start -->", "## How cost grows with the work (bench/scaling.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}. "
        f"Load average before: {os.getloadavg()[0]:.2f}. {args.rounds} alternated rounds, "
        f"{time.perf_counter() - start:.0f} s in all.",
        "Each command at two sizes of its work, after one uncounted warm-up run, wall seconds of the "
        "whole command (start-up and model load included; pudnet-predict: its own predict_seconds), tiny models from "
        "`thinkpipe init-model`. `a` is the fixed cost, `b` the cost of one more unit: "
        "cost(w) = a + b·w, fitted through the two medians, extrapolates a run to other sizes "
        "while the work stays in the same regime (memory, cores).", "", *rows, "",
        "<!-- scaling:end -->"]) + "\n"
    write_section(text, "scaling")
    print(text)


if __name__ == "__main__":
    main()
