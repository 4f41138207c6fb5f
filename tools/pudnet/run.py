"""The two actions of pudnet-predict: `train` (meta-train a hypernetwork, metrics out) and
predict (a support set in, weights and records out), with the evaluation and the from-scratch
baseline measured in the same run.
"""
from __future__ import annotations

import logging
import os

import numpy as np
import torch

from thinkpipe.core.errors import InputError, UsageError

from . import episodes
from .baseline import train_from_scratch
from .maths import add_noise, psnr
from .predict import load_hyper, predict, realise, save_weights
from .train import meta_train

log = logging.getLogger("thinkpipe.pudnet")


def _classes(data, wanted: list[str]) -> list[int]:
    return data.class_index(wanted) if wanted else list(range(len(data.names)))


def train_command(data, cfg, classes: list[str], val_classes: list[str], output: str,
                  metrics, resume: bool, best: str | None = None) -> dict:
    """Meta-train on tasks over `classes` (default: all), validating on `val_classes`
    (default: the same classes' test split)."""
    train_c = _classes(data, classes)
    val_c = _classes(data, val_classes) if val_classes else train_c
    if cfg.task == "classify" and cfg.ways > len(train_c):
        raise UsageError(f"--ways {cfg.ways} needs as many training classes; --classes gives "
                         f"{len(train_c)}")
    if cfg.task == "classify" and cfg.eval_every and cfg.ways > len(val_c):
        raise UsageError(f"--ways {cfg.ways} needs as many --val-classes; there are {len(val_c)}")
    state = None
    if resume and os.path.exists(output):
        _, saved_cfg, state = load_hyper(output)
        if {**saved_cfg.__dict__, "episodes": 0} != {**cfg.__dict__, "episodes": 0}:
            raise UsageError(f"--resume: {output} was trained with other options; give the "
                             "same ones (only --episodes may change)")
    elif resume:
        log.info("--resume: no %s yet, starting fresh", output)
    if best and not cfg.eval_every:
        raise UsageError("--keep-best needs validation: --eval-every N")
    return meta_train(data, train_c, val_c, cfg, output, metrics, state, best)


def _support(data, classes, shots, queries, seed, task):
    rng = np.random.default_rng(seed)
    if task == "denoise":   # the same draw per class; labels unused
        s = np.concatenate([episodes.pick(data.where("train", [c]), shots, rng) for c in classes])
        q = np.concatenate([episodes.pick(data.where("test", [c]), queries, rng) for c in classes])
        return episodes.Task(data.images[s], torch.zeros(len(s), dtype=torch.long),
                             data.images[q], torch.zeros(len(q), dtype=torch.long), classes, q)
    return episodes.sample(data, classes, 0, shots, queries, rng, query_split="test")


def predict_command(hyper_path: str, load_data, classes: list[str], shots: int, queries: int,
                    weights: str | None, out, emit: bool, evaluate: bool, baseline: str | None,
                    steps: int, baseline_lr: float, batch: int, seed: int) -> dict | None:
    """Predict weights from a support set of `classes`; write them, the held-out predictions
    and (with evaluate) a summary record. `load_data(image_size, channels)` gives the data at
    the hypernetwork's image size."""
    hyper, cfg, ckpt = load_hyper(hyper_path)
    data = load_data(cfg.image_size, cfg.channels)
    chosen = _classes(data, classes)
    if cfg.task == "classify" and len(chosen) < 2:
        raise UsageError("--classes: a classifier needs at least 2 classes")
    try:
        task = _support(data, chosen, shots, queries, seed, cfg.task)
    except ValueError as e:
        raise InputError(f"{data.source}: {e}") from None
    if len(task.xq) == 0 and (evaluate or emit):
        raise InputError(f"{data.source}: no test-split images of those classes to evaluate on")
    names = [data.names[c] for c in task.classes]
    state, spec, seconds = predict(hyper, cfg, task.xs, task.ys, len(task.classes))
    if weights:
        save_weights(weights, state, spec, names)
    net = realise(state, spec)
    scores = _score(net, task, cfg, seed)
    if emit:
        for row in _records(data, task, names, scores):
            out.write(row)
    if not evaluate:
        return None
    summary = {"summary": True, "task": cfg.task, "data": data.source, "classes": names,
               "n_support": len(task.xs), "n_eval": len(task.xq), **scores["summary"],
               "predict_seconds": round(seconds, 4)}
    if baseline:
        summary.update(_baseline(spec, task, cfg, steps, baseline_lr, batch, seed, seconds))
    summary["trained_classes"] = ckpt.get("train_classes")
    out.write(summary)
    return summary


@torch.no_grad()
def _score(net, task, cfg, seed) -> dict:
    """Per-image results on the held-out images and their summary."""
    if cfg.task == "denoise":
        noisy = add_noise(task.xq, cfg.sigma, torch.Generator().manual_seed(seed))
        out = net(noisy)
        each = [(float(psnr(noisy[i:i + 1], task.xq[i:i + 1])),
                 float(psnr(out[i:i + 1], task.xq[i:i + 1]))) for i in range(len(noisy))]
        return {"each": each, "summary": {"psnr": round(float(psnr(out, task.xq)), 3),
                                          "psnr_noisy": round(float(psnr(noisy, task.xq)), 3)}}
    probs = net(task.xq).softmax(-1)
    pred = probs.argmax(-1)
    accuracy = float((pred == task.yq).float().mean())
    return {"each": list(zip(pred.tolist(), probs.max(-1).values.tolist())),
            "summary": {"accuracy": round(accuracy, 4), "chance": round(1 / probs.shape[1], 4)}}


def _records(data, task, names, scores):
    for i, at in enumerate(task.query_index):
        row = {"id": data.ids[at], "split": str(data.split[at])}
        if "accuracy" in scores["summary"]:
            pred, p = scores["each"][i]
            row.update(label=names[int(task.yq[i])], pred=names[pred], score=round(p, 5))
        else:
            row.update(psnr_noisy=round(scores["each"][i][0], 3),
                       psnr=round(scores["each"][i][1], 3))
        yield row


def _baseline(spec, task, cfg, steps, lr, batch, seed, predict_seconds) -> dict:
    net, seconds, _ = train_from_scratch(spec, task.xs, task.ys, cfg, steps, lr, batch, seed)
    scores = _score(net, task, cfg, seed)["summary"]
    key = "psnr" if cfg.task == "denoise" else "accuracy"
    return {"baseline": "sgd", "baseline_steps": steps, f"baseline_{key}": scores[key],
            "baseline_seconds": round(seconds, 4),
            "speedup": round(seconds / max(predict_seconds, 1e-9), 1)}
