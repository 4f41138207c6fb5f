"""The three actions of distill-plankd: collect (expert episodes -> records), train (records ->
a planner checkpoint, metrics out) and drive (a planner or the expert -> episode records and a
summary)."""
from __future__ import annotations

import dataclasses
import logging
import os

import torch

from thinkpipe.core.errors import UsageError
from thinkpipe.core.progress import current
from thinkpipe.core.train.files import check_writable

from . import data, episode
from .drive import drive
from .models import load_planner
from .train import fit

log = logging.getLogger("thinkpipe.plankd")


def collect_command(world, episodes: int, seed: int, horizon: int, write) -> dict:
    """Drive the IDM/MOBIL expert for `episodes` seeded episodes; write(record) per frame."""
    progress, frames, crashed = current(), 0, 0
    progress.begin("episodes", total=episodes)
    for i in range(episodes):
        out = episode.run(world, seed + i)
        rows = data.frame_records(out, seed + i, horizon)
        for row in rows:
            write(row)
        frames, crashed = frames + len(rows), crashed + out.collided
        progress.advance(1, frames=frames)
    progress.end()
    log.info("%d frames from %d episode%s (the expert crashed in %d)", frames, episodes,
             "s" * (episodes != 1), crashed)
    return {"frames": frames, "episodes": episodes, "expert_collisions": crashed}


def train_command(items, cfg, teacher: str | None, output: str, metrics, resume: bool) -> dict:
    if cfg.method != "none" and not teacher:
        raise UsageError(f"--method {cfg.method} distils a teacher: give --teacher FILE")
    if cfg.method == "none" and teacher:
        raise UsageError("--teacher is for --method kd, feature or plankd")
    check_writable(output)
    saved = None
    if resume and os.path.exists(output):
        saved = torch.load(output, map_location="cpu", weights_only=False)
        same = lambda c: {**c, "epochs": 0}  # noqa: E731
        if same(saved.get("config", {})) != same(dataclasses.asdict(cfg)):
            raise UsageError(f"--resume: {output} was trained with other options; give the same "
                             "ones (only --epochs may change)")
    elif resume:
        log.info("--resume: no %s yet, starting fresh", output)
    frames = data.load(items)
    model = load_planner(teacher)[0] if teacher else None
    try:
        return fit(frames, cfg, model, output, metrics, saved)
    except ValueError as e:
        raise UsageError(str(e)) from None


def drive_command(model_path: str | None, world, episodes: int, seed: int, write) -> dict:
    model = load_planner(model_path)[0] if model_path else None
    row = drive(model, world, episodes, seed, write)
    row["model"] = model_path or "expert"
    write(row)
    return row
