"""PlanKD: teacher, student alone, student + output KD, + feature KD, + PlanKD (paper and
released variants), open-loop and closed-loop in highway-env.

    python bench/plankd.py                          # 60 training episodes, 50 driven per row
    python bench/plankd.py --train 20 --drive 10    # quicker

Every row is made the way a user would: `distill-plankd collect` (the IDM/MOBIL expert;
training episodes seeded 0.., a held-out open-loop test set seeded 500..), `distill-plankd
train` (the teacher at --size teacher, every student at --size student, the same epochs and
seed), `distill-plankd drive` over the same seeded episodes (1000..) for every row. Open-loop:
mean waypoint L1 in metres on the test set. Closed-loop: collision rate, progress and the
driving-score analogue (progress x 0.60 per collision, 0.65 off the road) with its 95%
interval over episodes. Inference: median ms of one forward pass at batch 1 (teacher and
student alternated), and the parameter counts. Controls: what a broken system would print
(an untrained student; PlanKD from an untrained teacher must not beat the student alone) and
the planners with the ego-speed input they do not get by default.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, write_section  # noqa: E402

from thinkpipe.tools.plankd import data  # noqa: E402
from thinkpipe.tools.plankd.models import load_planner  # noqa: E402
from thinkpipe.tools.plankd.train import open_loop_l1  # noqa: E402

ROWS = [("student alone", ["--method", "none"]), ("student + KD (outputs)", ["--method", "kd"]),
        ("student + KD (features, L2)", ["--method", "feature"]),
        ("student + PlanKD (paper)", ["--method", "plankd"]),
        ("student + PlanKD (released)", ["--method", "plankd", "--variant", "released"])]
CONTROLS = [("control: student + PlanKD from the untrained teacher", ["--method", "plankd"]),
            ("control: student untrained (lr 0)", ["--method", "none", "--lr", "0"]),
            ("control: student alone, speed input kept", ["--method", "none",
                                                          "--mask-measurements", "none"]),
            ("control: teacher, speed input kept", ["--method", "none", "--size", "teacher",
                                                    "--mask-measurements", "none"])]


def sh(args: list[str]) -> list[dict]:
    p = subprocess.run(["distill-plankd", *args, "--quiet"], capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"distill-plankd {' '.join(args)}: {p.stderr}")
    return [json.loads(x) for x in p.stdout.splitlines()]


def test_frames(path: str):
    from thinkpipe.core.records import ErrorPolicy, read_records
    reader = read_records([path], ErrorPolicy.parse("fail"))
    return data.load((reader.where, r) for r in reader)


def timing(models: dict, frames, n: int = 300) -> dict:
    b = frames.take([0])
    ms = {k: [] for k in models}
    with torch.no_grad():
        for _ in range(n):
            for k, m in models.items():
                t = time.perf_counter()
                m(b.bev, b.meas, b.target)
                ms[k].append(1000 * (time.perf_counter() - t))
    return {k: float(np.median(v)) for k, v in ms.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=60, help="expert episodes to train on")
    ap.add_argument("--test", type=int, default=10, help="held-out episodes, open-loop")
    ap.add_argument("--drive", type=int, default=50, help="closed-loop episodes per row")
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()
    clock = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tr, te = os.path.join(d, "train.parquet"), os.path.join(d, "test.parquet")
        sh(["collect", "--episodes", str(a.train), "--seed", "0", "-o", tr])
        sh(["collect", "--episodes", str(a.test), "--seed", "500", "-o", te])
        frames = test_frames(te)
        paths, seconds = {"teacher": os.path.join(d, "teacher.pt")}, {}
        t = time.perf_counter()
        sh(["train", "--role", "teacher", "--epochs", str(a.epochs), "-o", paths["teacher"], tr])
        seconds["teacher"] = time.perf_counter() - t
        paths["untrained teacher"] = os.path.join(d, "random.pt")
        sh(["train", "--role", "teacher", "--epochs", "1", "--lr", "0", "-o",
            paths["untrained teacher"], tr])
        for name, extra in ROWS + CONTROLS:
            paths[name] = os.path.join(d, f"{len(paths)}.pt")
            teacher = paths["untrained teacher" if "untrained" in name else "teacher"]
            t = time.perf_counter()
            sh(["train", "--role", "student", "--epochs", str(a.epochs), *extra,
                *(["--teacher", teacher] if "none" not in extra else []), "-o", paths[name], tr])
            seconds[name] = time.perf_counter() - t
        drive = {"expert": sh(["drive", "--expert", "--episodes", str(a.drive), "--seed", "1000"])[-1]}
        models = {}
        for name, path in paths.items():
            drive[name] = sh(["drive", "--model", path, "--episodes", str(a.drive), "--seed", "1000"])[-1]
            models[name] = load_planner(path)[0]
        l1 = {name: open_loop_l1(m, frames) for name, m in models.items()}
        ms = timing({"teacher": models["teacher"], "student": models["student alone"]}, frames)
        params = {k: sum(p.numel() for p in models[n].parameters())
                  for k, n in (("teacher", "teacher"), ("student", "student alone"))}
    report(a, drive, l1, seconds, ms, params, len(frames), time.perf_counter() - clock)


def report(a, drive, l1, seconds, ms, params, n_test, total) -> None:
    lines = ["| row | open-loop L1 (m) | collision rate | progress | score (95% CI) | mean speed | train s |",
             "|---|---|---|---|---|---|---|"]
    for name, s in drive.items():
        ol = f"{l1[name]:.3f}" if name in l1 else "—"
        lines.append(f"| {name} | {ol} | {s['collision_rate']:.2f} | {s['progress_mean']:.3f} | "
                     f"{s['score_mean']:.3f} ± {s['score_ci95']:.3f} | {s['mean_speed']:.1f} | "
                     f"{seconds.get(name, 0):.0f} |")
    text = (f"<!-- plankd:start -->\n## PlanKD (bench/plankd.py)\n\n{machine()}; "
            f"{time.strftime('%Y-%m-%d')}; {total:.0f} s in all.\n\n"
            f"highway-env 1.12, 3 lanes, 20 vehicles, a 400 m route, 40 s timeout. "
            f"Training: {a.train} expert episodes (seeds 0..), {a.epochs} epochs, every row "
            f"seed 0. Open-loop: {n_test} frames of {a.test} held-out episodes (seeds 500..). "
            f"Closed-loop: the same {a.drive} episodes (seeds 1000..) for every row.\n\n"
            + "\n".join(lines) + "\n\n"
            f"Inference, batch 1, median of 300 alternated passes: teacher "
            f"{ms['teacher']:.2f} ms ({params['teacher'] / 1e6:.2f} M parameters), student "
            f"{ms['student']:.2f} ms ({params['student'] / 1e6:.3f} M): "
            f"{ms['teacher'] / ms['student']:.1f}x faster.\n\n<!-- plankd:end -->\n")
    write_section(text, "plankd")
    print(text)


if __name__ == "__main__":
    main()
