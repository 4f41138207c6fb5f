"""Tasks (sub-datasets) and the predicted network's loss on them: the inner part of PudNet's
meta-training, shared by training, validation and prediction.

A classification task picks `ways` classes, relabels them 0..ways-1 in the order drawn, and
takes `shots` support and `queries` query images of each; the hypernetwork sees the support,
the predicted network is scored on the query. A denoising task is a set of images: the
support is made noisy and the predicted U-Net is scored on it by the blind-spot loss (the
Noise2Void setting: the images to denoise are the training signal).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from .maths import add_noise, blind_spot, cosine_logits, masked_l1, prototypes
from .targets import support_rows


@dataclass
class Task:
    xs: torch.Tensor        # (n_s, C, S, S) support images
    ys: torch.Tensor        # (n_s,) support labels 0..ways-1
    xq: torch.Tensor        # (n_q, C, S, S) query images
    yq: torch.Tensor        # (n_q,) query labels
    classes: list           # the data's class indices, in label order
    query_index: np.ndarray  # the query images' indices in the data


def pick(pool: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    if k <= 0 or k >= len(pool):
        return rng.permutation(pool)
    return rng.choice(pool, size=k, replace=False)


def sample(data, classes: list[int], ways: int, shots: int, queries: int,
           rng: np.random.Generator, query_split: str = "train") -> Task:
    """An N-way task over `ways` of `classes` (all of them, in the given order, when ways is
    0). Support from the train split; query from `query_split` (the rest of train, or test);
    queries <= 0 takes every image left."""
    chosen = list(rng.choice(classes, size=ways, replace=False)) if 0 < ways < len(classes) \
        else list(classes)
    sup, qry, ys, yq = [], [], [], []
    for label, c in enumerate(chosen):
        train = data.where("train", [c])
        if len(train) == 0:
            raise ValueError(f"class {data.names[c]} has no train-split images for a support set")
        s = pick(train, shots, rng)
        rest = np.setdiff1d(train if query_split == "train" else data.where("test", [c]), s)
        q = pick(rest, queries, rng)
        sup.append(s)
        qry.append(q)
        ys += [label] * len(s)
        yq += [label] * len(q)
    s, q = np.concatenate(sup), np.concatenate(qry)
    return Task(data.images[s], torch.tensor(ys), data.images[q], torch.tensor(yq),
                [int(c) for c in chosen], q)


def classify(hyper, net, task: Task) -> tuple[torch.Tensor, torch.Tensor]:
    """(query cross-entropy, query accuracy) of the network PudNet predicts from the support."""
    params = hyper(task.xs, task.ys)
    n = len(task.xs)
    with support_rows(net, n):
        f = functional_call(net, params, (torch.cat([task.xs, task.xq]),), {"head": False},
                            strict=False)                              # (n_s + n_q, D)
    ways = len(task.classes)
    logits = cosine_logits(f[n:], prototypes(f[:n], task.ys, ways), hyper.temperature)
    loss = F.cross_entropy(logits, task.yq)
    return loss, (logits.argmax(-1) == task.yq).float().mean()


def denoise(hyper, net, images: torch.Tensor, cfg, gen: torch.Generator) -> torch.Tensor:
    """The blind-spot L1 of the U-Net PudNet predicts from noisy `images` (B, C, S, S)."""
    noisy = add_noise(images, cfg.sigma, gen)
    params = hyper(noisy, torch.zeros(len(noisy), dtype=torch.long))
    masked, mask = blind_spot(noisy, cfg.mask_ratio, cfg.mask_window, gen)
    with support_rows(net, len(noisy)):
        out = functional_call(net, params, (masked,), strict=False)
    return masked_l1(out, noisy, mask)
