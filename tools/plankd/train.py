"""Fitting a planner: a teacher or a student alone, or a student distilled from a frozen
teacher by one of methods.py's objectives. AdamW with a linear warm-up and a cosine decay,
gradient clipping, the IB module stepped by its own Adam on detached features after each main
step; an open-loop validation L1 on held-out episodes after each epoch, and a checkpoint
(rewritten atomically after every epoch; --resume continues it exactly).
"""
from __future__ import annotations

import dataclasses
import logging
import math
import time

import numpy as np
import torch

from thinkpipe.core.progress import current
from thinkpipe.core.train.files import atomic, uninterrupted

from . import maths
from .methods import Step, objective
from .models import FORMAT, VIB, Planner, WaypointAttention

log = logging.getLogger("thinkpipe.plankd")


def split(frames, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Train and validation frame indices: the last `fraction` of the episodes (at least one
    when there are two or more) are held out whole."""
    episodes = np.unique(frames.episode)
    n_val = min(len(episodes) - 1, math.ceil(fraction * len(episodes))) if fraction else 0
    held = np.isin(frames.episode, episodes[len(episodes) - n_val:]) if n_val else \
        np.zeros(len(frames), bool)
    return np.flatnonzero(~held), np.flatnonzero(held)


@dataclasses.dataclass
class Modules:
    student: Planner
    teacher: Planner | None
    vib: VIB | None
    attention: WaypointAttention | None


def build(frames, cfg, teacher: Planner | None) -> Modules:
    torch.manual_seed(cfg.seed)
    spec = {**cfg.shape(), "bev": tuple(frames.bev.shape[2:]), "channels": frames.bev.shape[1],
            "meas": frames.meas.shape[1], "waypoints": frames.waypoints.shape[1],
            "masked": [int(i) for i in cfg.mask_measurements]}
    if any(not 0 <= i < spec["meas"] for i in spec["masked"]):
        raise ValueError(f"--mask-measurements: the records have {spec['meas']} measurements")
    if teacher is not None:
        for key in ("bev", "channels", "meas", "waypoints"):
            if tuple(np.atleast_1d(teacher.spec[key])) != tuple(np.atleast_1d(spec[key])):
                raise ValueError(f"the teacher was trained on {key} {teacher.spec[key]}, these "
                                 f"records have {spec[key]}")
    student = Planner(spec)
    vib = att = None
    if cfg.method == "plankd":
        vib = VIB(Planner.feature_dim(spec), frames.label_classes, cfg.ib_hidden, cfg.ib_z)
        att = WaypointAttention(spec)
    return Modules(student, teacher.eval() if teacher is not None else None, vib, att)


def _optimisers(m: Modules, cfg, steps: int):
    params = list(m.student.parameters())
    params += list(m.attention.parameters()) if m.attention else []
    params += list(m.vib.parameters()) if m.vib and cfg.ib_in_main else []
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = max(1, int(cfg.warmup_epochs * steps / max(1, cfg.epochs)))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, max(0, s + 1 - warm) / max(1, steps - warm)))))
    ib_opt = torch.optim.Adam(m.vib.parameters(), lr=cfg.ib_lr) if m.vib else None
    return opt, sched, ib_opt


def step(m: Modules, batch, cfg, loss_fn, opt, sched, ib_opt) -> dict:
    """One main step, then (plankd) one IB step on the detached features."""
    with torch.no_grad():
        t_out = m.teacher(batch.bev, batch.meas, batch.target) if m.teacher else None
    s_out = m.student(batch.bev, batch.meas, batch.target)
    terms = loss_fn(Step(batch, s_out, t_out, m.vib, m.attention), cfg)
    opt.zero_grad(set_to_none=True)
    terms["loss"].backward()
    torch.nn.utils.clip_grad_norm_([p for g in opt.param_groups for p in g["params"]], cfg.clip)
    opt.step()
    sched.step()
    if ib_opt is not None:
        ib_opt.zero_grad(set_to_none=True)
        ib = sum(_ib(m.vib, f.detach(), batch.labels, cfg.beta)
                 for f in (t_out["feature"], s_out["feature"]))
        ib.backward()
        ib_opt.step()
        terms["ib"] = ib.detach()
    return {k: float(v.detach()) for k, v in terms.items()}


def _ib(vib: VIB, h: torch.Tensor, labels: torch.Tensor, beta: float) -> torch.Tensor:
    _, mu, sigma, logits = vib(h)
    return maths.ib_loss(logits, labels, mu, sigma, beta)


@torch.no_grad()
def open_loop_l1(model: Planner, frames, batch: int = 256) -> float:
    """Mean L1 (metres, over x, y and the K waypoints) against the expert's waypoints."""
    if not len(frames):
        return float("nan")
    total = 0.0
    for i in range(0, len(frames), batch):
        b = frames.take(range(i, min(len(frames), i + batch)))
        total += float(maths.waypoint_l1(model(b.bev, b.meas, b.target)["waypoints"],
                                         b.waypoints).sum())
    return total / (len(frames) * frames.waypoints.shape[1])


def save(path: str, m: Modules, cfg, state: dict) -> None:
    extra = {k: getattr(m, k).state_dict() for k in ("vib", "attention") if getattr(m, k)}
    atomic(path, lambda tmp: torch.save({"format": FORMAT, "spec": m.student.spec,
                                         "config": dataclasses.asdict(cfg),
                                         "model": m.student.state_dict(), **extra, **state}, tmp))


def fit(frames, cfg, teacher: Planner | None, output: str, metrics, resume: dict | None) -> dict:
    """Train on `frames` (held-out episodes validate); write `output`; return the last row."""
    m = build(frames, cfg, teacher)
    train_idx, val_idx = split(frames, cfg.val_fraction)
    per_epoch = max(1, math.ceil(len(train_idx) / cfg.batch_size))
    opt, sched, ib_opt = _optimisers(m, cfg, per_epoch * cfg.epochs)
    start, row = 0, {}
    if resume is not None:
        start = _restore(m, resume, opt, sched, ib_opt)
        log.info("resuming after epoch %d of %d", start, cfg.epochs)
    loss_fn, val = objective(cfg.method, cfg.variant), frames.take(val_idx)
    progress, clock, epoch, saved = current(), time.perf_counter(), start, start
    progress.begin("steps", total=per_epoch * cfg.epochs, done=per_epoch * start)
    state = lambda: {"epoch": epoch, "optimizer": opt.state_dict(), "scheduler":  # noqa: E731
                     sched.state_dict(), "ib_optimizer": ib_opt and ib_opt.state_dict(),
                     "val_l1": row.get("val_l1"), "train_episodes": len(np.unique(
                         frames.episode[train_idx])), "torch_rng": torch.get_rng_state()}
    try:
        for epoch in range(start + 1, cfg.epochs + 1):
            order = torch.randperm(len(train_idx), generator=torch.Generator().manual_seed(
                cfg.seed * 1_000_003 + epoch))
            sums = {}
            m.student.train()
            for i in range(0, len(order), cfg.batch_size):
                batch = frames.take(train_idx[order[i:i + cfg.batch_size]])
                terms = step(m, batch, cfg, loss_fn, opt, sched, ib_opt)
                for k, v in terms.items():
                    sums[k] = sums.get(k, 0.0) + v
                progress.advance(1, loss=f"{terms['loss']:.3f}")
            m.student.eval()
            row = {"epoch": epoch, "step": epoch * per_epoch,
                   **{k: round(v / per_epoch, 6) for k, v in sums.items()},
                   "val_l1": round(open_loop_l1(m.student, val), 5),
                   "lr": sched.get_last_lr()[0], "seconds": round(time.perf_counter() - clock, 2)}
            with uninterrupted():   # a printed row always means its epoch is on disk
                save(output, m, cfg, state())
                metrics.log(row)
                saved = epoch
    except KeyboardInterrupt:   # the last epoch's checkpoint stands: a resume redoes this one
        if saved:
            log.warning("interrupted: %s holds epoch %d (--resume continues)", output, saved)
        raise
    progress.end()
    return row


def _restore(m: Modules, saved: dict, opt, sched, ib_opt) -> int:
    m.student.load_state_dict(saved["model"])
    for key in ("vib", "attention"):
        if getattr(m, key) is not None:
            getattr(m, key).load_state_dict(saved[key])
    opt.load_state_dict(saved["optimizer"])
    sched.load_state_dict(saved["scheduler"])
    if ib_opt is not None:
        ib_opt.load_state_dict(saved["ib_optimizer"])
    torch.set_rng_state(saved["torch_rng"])
    return int(saved["epoch"])
