"""FreeKD on Cora: base vs kd-teacher vs freekd vs freekd++, 10 seeds per GNN pair.

    python bench/freekd.py                         # GCN/GCN, SAGE/SAGE, GAT/GAT, 10 seeds
    python bench/freekd.py --archs gcn --seeds 3   # quicker

Every row is `freekd --planetoid ../shared/data/planetoid --name cora --mode M --arch A
--runs N` run as a user would (200 epochs, Planetoid's public split, each network's test
accuracy at its best validation epoch; a run's accuracy is the mean of its networks). The
--judge random row replaces the two policies by coin flips: what the RL adds over mutual
distillation in random directions. Skipped, with a note, when ../shared/data is absent.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORA = os.path.join(ROOT, "..", "shared", "data", "planetoid")
ROWS = [("base", []), ("kd-teacher", []), ("freekd", []), ("freekd++", []),
        ("freekd, --judge random", ["--judge", "random"])]


def one(arch: str, label: str, extra: list[str], seeds: int, work: str) -> dict:
    mode = label.split(",")[0]
    metrics = os.path.join(work, f"{arch}-{mode}-{len(extra)}.jsonl")
    t0 = time.time()
    r = subprocess.run(["freekd", "--planetoid", CORA, "--name", "cora", "--mode", mode,
                        "--arch", arch, "--runs", str(seeds), "--log-every", "50",
                        "--metrics", metrics, "-o", os.devnull, "-q", *extra],
                       stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f"freekd {mode} {arch} failed:\n{r.stderr.decode()[-3000:]}")
    summary = json.loads(open(metrics).read().splitlines()[-1])
    summary["wall"] = time.time() - t0
    return summary


def table(results: list[tuple[str, str, dict]], seeds: int) -> str:
    lines = ["| GNNs | mode | test accuracy (mean ± std) | per network | s / epoch | wall s |",
             "| --- | --- | ---: | --- | ---: | ---: |"]
    for arch, label, s in results:
        nets = ", ".join(f"{name} {100 * n['test_acc_mean']:.1f}" for name, n in s["nets"].items())
        lines.append(f"| {arch.upper()}/{arch.upper()} | {label} | "
                     f"{100 * s['test_acc_mean']:.2f} ± {100 * s['test_acc_std']:.2f} | {nets} | "
                     f"{s['seconds_per_epoch']:.3f} | {s['wall']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--archs", default="gcn,sage,gat")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--ablation-archs", default="gcn",
                    help="architectures that also get the --judge random row")
    args = ap.parse_args()
    head = (f"## FreeKD on Cora (bench/freekd.py)\n\n{time.strftime('%Y-%m-%d')}, {machine()}.\n\n")
    if not os.path.exists(os.path.join(CORA, "ind.cora.x")):
        write_section(f"<!-- freekd:start -->\n{head}Skipped: {CORA} is absent (Cora's raw "
                      "Planetoid files come with the project's shared data).\n<!-- freekd:end -->\n",
                      "freekd")
        print("skipped: no Cora files at", CORA)
        return
    results = []
    with tempfile.TemporaryDirectory() as work:
        for arch in args.archs.split(","):
            for label, extra in ROWS:
                if extra and arch not in args.ablation_archs.split(","):
                    continue
                results.append((arch, label, one(arch, label, extra, args.seeds, work)))
                print(table(results[-1:], args.seeds).splitlines()[-1], flush=True)
                write_section(f"<!-- freekd:start -->\n{head}{args.seeds} seeds per row "
                              f"(seeds 0..{args.seeds - 1}), 200 epochs; s / epoch is the mean over the "
                              f"runs of one row.\n\n{table(results, args.seeds)}\n<!-- freekd:end -->\n",
                              "freekd")


if __name__ == "__main__":
    main()
