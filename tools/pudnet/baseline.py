"""The baseline PudNet is measured against: the same plain target network trained from
scratch on the same support set (Adam, as in the paper's comparisons; `--baseline sgd` names
gradient training in general), with the seconds it takes.

Classification trains the cosine head's rows with the backbone (rows start at norm 10, the
temperature PudNet starts from) on cross-entropy over mini-batches of the support set;
denoising trains the U-Net on the blind-spot L1 of the noisy support. Normalisation layers
train in train mode and run in eval mode on their running statistics. `checkpoints` lists
steps at which `probe(net)` is called (its time excluded), for accuracy-vs-seconds curves.
"""
from __future__ import annotations

import time
from typing import Callable

import torch
import torch.nn.functional as F

from .maths import add_noise, blind_spot, masked_l1
from .targets import build


def train_from_scratch(spec: dict, xs: torch.Tensor, ys: torch.Tensor, cfg, steps: int,
                       lr: float, batch: int, seed: int, checkpoints: tuple = (),
                       probe: Callable | None = None) -> tuple[torch.nn.Module, float, list]:
    """(network in eval mode, training seconds, [(step, seconds, probe(net)) ...])."""
    torch.manual_seed(seed)
    net = build(spec, plain=True)
    if spec["arch"] != "unet":
        with torch.no_grad():
            net.head.weight.copy_(10 * F.normalize(net.head.weight, dim=-1))
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    noisy = add_noise(xs, cfg.sigma, gen) if spec["arch"] == "unet" else xs
    seconds, curve = 0.0, []
    for step in range(1, steps + 1):
        start = time.perf_counter()
        net.train()
        pick = torch.randint(len(xs), (min(batch, len(xs)),), generator=gen)
        if spec["arch"] == "unet":
            masked, mask = blind_spot(noisy[pick], cfg.mask_ratio, cfg.mask_window, gen)
            loss = masked_l1(net(masked), noisy[pick], mask)
        else:
            loss = F.cross_entropy(net(xs[pick]), ys[pick])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - start
        if probe is not None and step in checkpoints:
            curve.append((step, seconds, probe(net.eval())))
    return net.eval(), seconds, curve
