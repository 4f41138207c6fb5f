"""PudNet: predicted ConvNet weights vs training the same ConvNet from scratch, per task.

    python bench/pudnet.py                      # MNIST 0-5 meta-training, 3000 episodes
    python bench/pudnet.py --episodes 500       # quicker
    python bench/pudnet.py --only denoise       # the denoising rows alone

The hypernetwork is meta-trained as a user would (`pudnet-predict train --data MNIST
--classes 0,1,2,3,4,5`, 28x28, the default ConvNet). Then, per 5-way task with 10 support
images per class: intra-dataset, MNIST tasks that include the unseen classes 6-9 (held-out
images from t10k); inter-dataset, scikit-learn's 8x8 digits upsampled to 28x28. Each task
reports the predicted network's accuracy and seconds, and Adam from scratch on the same
support set (batch 50, lr 1e-3) with its accuracy after 1, 2, 5, ... 1000 steps: the SGD
accuracy at equal wall-clock, and the seconds SGD needs to reach the predicted accuracy
(the speed ratio the paper reports, >2300x for ResNet-18 on ImageNet). Controls: the same
support set with shuffled labels (chance), kernels predicted from another task's support
(do the kernels depend on the data? "kernel change" is |W - W'| / |W| over all kernels), and
the untrained hypernetwork. Without
../shared/data/mnist the section says so and the intra rows use digits.
"""
from __future__ import annotations

import argparse
import dataclasses
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

from thinkpipe.tools.pudnet import episodes, load_hyper, predict  # noqa: E402
from thinkpipe.tools.pudnet.baseline import train_from_scratch  # noqa: E402
from thinkpipe.tools.pudnet.data import load  # noqa: E402
from thinkpipe.tools.pudnet.predict import build_hyper, realise  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MNIST = os.path.join(ROOT, "..", "shared", "data", "mnist")
STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


@torch.no_grad()
def accuracy(net, task) -> float:
    return float((net.eval()(task.xq).argmax(-1) == task.yq).float().mean())


def timed_predict(hyper, cfg, task, sketch=None):
    best = None
    for _ in range(3):                      # the best of 3: one pass, timed without noise
        state, spec, secs = predict(hyper, cfg, task.xs, task.ys, len(task.classes), sketch)
        best = secs if best is None else min(best, secs)
    return accuracy(realise(state, spec), task), best, spec, state


def kernel_change(a: dict, b: dict) -> float:
    """|W_a - W_b| / |W_a| over every generated conv kernel of two predictions."""
    keys = [k for k in a if k.endswith(".weight") and a[k].dim() == 4]
    diff = sum(float((a[k] - b[k]).pow(2).sum()) for k in keys)
    return (diff / sum(float(a[k].pow(2).sum()) for k in keys)) ** 0.5


def one_task(hyper, fresh, cfg, task, other, seed) -> dict:
    acc, secs, spec, state = timed_predict(hyper, cfg, task)
    shuffled = dataclasses.replace(task, ys=task.ys[torch.randperm(len(task.ys))])
    other_acc, _, _, other_state = timed_predict(hyper, cfg, task, (other.xs, other.ys))
    row = {"classes": task.classes, "predicted": acc, "predict_s": secs,
           "shuffled": timed_predict(hyper, cfg, shuffled)[0], "other_kernels": other_acc,
           "kernel_change": kernel_change(state, other_state),
           "untrained": timed_predict(fresh, cfg, task)[0]}
    _, total, curve = train_from_scratch(spec, task.xs, task.ys, cfg, STEPS[-1], 1e-3, 50, seed,
                                         STEPS, lambda net: accuracy(net, task))
    row["sgd_curve"] = curve
    within = [a for _, s, a in curve if s <= secs]
    row["sgd_equal_time"] = within[-1] if within else None    # None: not one step in that time
    reach = [s for _, s, a in curve if a >= acc]
    row["sgd_s_to_match"] = reach[0] if reach else None
    row["sgd_final"] = curve[-1][2]
    row["sgd_final_s"] = total
    return row


def tasks(data, sets, shots, cap, seed):
    rng = np.random.default_rng(seed)
    made = [episodes.sample(data, data.class_index([str(c) for c in s]), 0, shots, cap, rng,
                            "test") for s in sets]
    return made


def evaluate(hyper_path, name, data, sets, shots, cap, seed) -> list[dict]:
    hyper, cfg, _ = load_hyper(hyper_path)
    torch.manual_seed(0)
    fresh = build_hyper(cfg)[0].eval()
    made = tasks(data, sets, shots, cap, seed)
    rows = []
    for i, task in enumerate(made):
        row = one_task(hyper, fresh, cfg, task, made[(i + 1) % len(made)], seed + i)
        row["setting"] = name
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "sgd_curve"}), flush=True)
    return rows


def _mean(rows, key):
    vals = [r[key] for r in rows if r[key] is not None]
    return (f"{100 * np.mean(vals):.1f} ± {100 * np.std(vals):.1f}" if vals else "—")


def table(rows: list[dict]) -> str:
    lines = ["| setting | tasks | predicted | predict ms | SGD at equal time | SGD 1000 steps "
             "(s) | SGD s to match | speed ratio | shuffled labels | other task's kernels "
             "(kernel change) | untrained hypernet |", "| --- | ---: | ---: | ---: | ---: | "
             "---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in dict.fromkeys(r["setting"] for r in rows):
        rs = [r for r in rows if r["setting"] == name]
        match = [r["sgd_s_to_match"] for r in rs if r["sgd_s_to_match"] is not None]
        ms = np.median([r["predict_s"] for r in rs]) * 1000
        ratio = (f"{np.median(match) / (ms / 1000):.0f}× ({len(match)}/{len(rs)} reached)"
                 if match else "never reached")
        lines.append(f"| {name} | {len(rs)} | {_mean(rs, 'predicted')} | {ms:.1f} | "
                     f"{_mean(rs, 'sgd_equal_time')} | {_mean(rs, 'sgd_final')} "
                     f"({np.mean([r['sgd_final_s'] for r in rs]):.1f}) | "
                     f"{np.median(match) if match else float('nan'):.2f} | {ratio} | "
                     f"{_mean(rs, 'shuffled')} | {_mean(rs, 'other_kernels')} "
                     f"({100 * np.mean([r['kernel_change'] for r in rs]):.2f}%) | "
                     f"{_mean(rs, 'untrained')} |")
    return "\n".join(lines)


def curve_table(rows) -> str:
    lines = ["| setting | " + " | ".join(f"{s} steps" for s in STEPS) + " |",
             "| --- |" + " ---: |" * len(STEPS)]
    for name in dict.fromkeys(r["setting"] for r in rows):
        rs = [r for r in rows if r["setting"] == name]
        cells = [f"{100 * np.mean([r['sgd_curve'][i][2] for r in rs]):.1f} "
                 f"({np.mean([r['sgd_curve'][i][1] for r in rs]):.2f} s)" for i in range(len(STEPS))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cli(args: list[str]) -> list[dict]:
    r = subprocess.run(["pudnet-predict", *args, "-q"], capture_output=True)
    if r.returncode:
        sys.exit(r.stderr.decode()[-3000:])
    return [json.loads(x) for x in r.stdout.decode().splitlines()]


def denoising(episodes: int) -> None:
    """The released variant: a U-Net predicted from 50 noisy images (sigma 25), PSNR on the
    test split against Adam from scratch on the same blind-spot loss and images."""
    sources = ["digits"] + ([MNIST] if os.path.exists(os.path.join(MNIST, "train-images-idx3-"
                                                                   "ubyte.gz")) else [])
    lines = ["| meta-trained on | predicted for | noisy PSNR | predicted PSNR (ms) | "
             "Adam 50 steps (s) | Adam 300 steps (s) |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    with tempfile.TemporaryDirectory() as work:
        for src in sources:
            hyper = os.path.join(work, "den.pt")
            _cli(["train", "--task", "denoise", "--target", "unet", "--data", src, "--image-size",
                  "16", "--episodes", str(episodes), "--shots", "5", "--eval-every", "0", "-o", hyper])
            runs = [_cli(["--hyper", hyper, "--data", "digits", "--eval", "--shots", "5",
                          "--baseline", "sgd", "--steps", str(n)])[-1] for n in (50, 300)]
            a, b = runs
            lines.append(f"| {os.path.basename(src)} | digits | {a['psnr_noisy']:.2f} | "
                         f"{a['psnr']:.2f} ({1000 * a['predict_seconds']:.0f}) | "
                         f"{a['baseline_psnr']:.2f} ({a['baseline_seconds']:.1f}) | "
                         f"{b['baseline_psnr']:.2f} ({b['baseline_seconds']:.1f}) |")
            print(lines[-1], flush=True)
    write_section(f"<!-- pudnet-denoise:start -->\n## PudNet denoising (bench/pudnet.py "
                  f"--only denoise)\n\n{time.strftime('%Y-%m-%d')}, {machine()}.\n\n"
                  f"{episodes} meta-training episodes (16x16, U-Net width 16, 5 images per "
                  f"class per task, sigma 25/255); prediction from 5 noisy images per digit class "
                  f"(50), PSNR in dB on the 539 digits test images.\n\n" + "\n".join(lines)
                  + "\n<!-- pudnet-denoise:end -->\n", "pudnet-denoise")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, default=3000)
    ap.add_argument("--shots", type=int, default=10)
    ap.add_argument("--held-out", type=int, default=200, help="test images per class")
    ap.add_argument("--only", choices=["classify", "denoise"])
    ap.add_argument("--denoise-episodes", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    if args.only != "classify":
        denoising(args.denoise_episodes)
    if args.only == "denoise":
        return
    has_mnist = os.path.exists(os.path.join(MNIST, "train-images-idx3-ubyte.gz"))
    source = MNIST if has_mnist else "digits"
    intra = [[c, 6, 7, 8, 9] for c in range(6)] + [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9],
                                                   [0, 1, 2, 3, 9], [4, 5, 6, 7, 8]]
    inter = [sorted(np.random.default_rng(i).choice(10, 5, replace=False).tolist())
             for i in range(10)]
    with tempfile.TemporaryDirectory() as work:
        hyper = os.path.join(work, "hyper.pt")
        t0 = time.time()
        r = subprocess.run(["pudnet-predict", "train", "--data", source, "--classes",
                            "0,1,2,3,4,5", "--val-classes", "5,6,7,8,9", "--episodes",
                            str(args.episodes), "--shots", str(args.shots), "--eval-every", "500",
                            "--log-every", "500", "-q", "-o", hyper], capture_output=True)
        if r.returncode:
            sys.exit(r.stderr.decode()[-3000:])
        train_s = time.time() - t0
        metrics = [json.loads(x) for x in r.stdout.decode().splitlines()]
        rows = evaluate(hyper, "intra: MNIST, tasks with unseen 6-9" if has_mnist else
                        "intra: digits, tasks with unseen 6-9", load(source, 28, 1), intra,
                        args.shots, args.held_out, 0)
        rows += evaluate(hyper, "inter: digits 8x8 -> 28x28", load("digits", 28, 1), inter,
                         args.shots, args.held_out, 100)
    curve = ", ".join(f"{m['step']}: {100 * m['val_accuracy']:.1f}" for m in metrics
                      if "val_accuracy" in m)
    text = (f"<!-- pudnet:start -->\n## PudNet: predicted weights vs SGD from scratch "
            f"(bench/pudnet.py)\n\n{time.strftime('%Y-%m-%d')}, {machine()}.\n\n"
            + ("" if has_mnist else "../shared/data/mnist is absent: intra rows use digits.\n\n")
            + f"Meta-training: {args.episodes} episodes on classes 0-5 of {os.path.basename(source)}"
            f" ({train_s:.0f} s wall); validation accuracy on 5-way tasks over 5-9 by episode: "
            f"{curve}. Tasks: 5-way, {args.shots} support images per class, up to "
            f"{args.held_out} held-out test images per class; accuracy % mean ± std over "
            f"tasks.\n\n{table(rows)}\n\nSGD at equal time is the accuracy after the steps that fit "
            f"in the prediction's time (the mean over the tasks where at least one fits; — where "
            f"none does). Speed ratio: the median over tasks of the seconds SGD needs to reach the "
            f"predicted accuracy, divided by the prediction's.\n\n"
            f"SGD from scratch (Adam, lr 1e-3, batch 50) on the same "
            f"support sets, mean accuracy (training seconds) after N steps:\n\n"
            f"{curve_table(rows)}\n<!-- pudnet:end -->\n")
    write_section(text, "pudnet")
    print(text)


if __name__ == "__main__":
    main()
