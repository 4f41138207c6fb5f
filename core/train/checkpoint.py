"""Atomic, resumable checkpoints: `output_dir/checkpoint-<step>/`.

A checkpoint holds what an exact resume needs: the engine's model/optimizer/scheduler state
(engines.py), every rank's RNG state, and `trainer_state.json` (step, epoch, the position in the
data, the resolved config). It is written under `checkpoint-<step>.tmp` and renamed when every
rank has finished, so a crash mid-save leaves the previous checkpoint as the latest one.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
from dataclasses import asdict, dataclass

import numpy as np
import torch

from .dist import DistInfo, barrier

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")


@dataclass
class TrainerState:
    step: int = 0              # optimizer steps done
    epoch: int = 0             # epoch of the next micro-batch
    micro: int = 0             # global micro-batches already consumed in that epoch
    tokens: int = 0            # training tokens seen (all ranks)
    config: dict | None = None


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoints(output_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints in output_dir, oldest first."""
    if not os.path.isdir(output_dir):
        return []
    found = [(int(m.group(1)), os.path.join(output_dir, name))
             for name in os.listdir(output_dir) if (m := _NAME.match(name))]
    return sorted(f for f in found if os.path.exists(os.path.join(f[1], STATE_FILE)))


def latest(output_dir: str) -> str | None:
    found = checkpoints(output_dir)
    return found[-1][1] if found else None


def save(engine, state: TrainerState, output_dir: str, info: DistInfo, keep: int = 0) -> str:
    """Write checkpoint-<step> atomically on every rank; returns its path."""
    final = os.path.join(output_dir, f"checkpoint-{state.step}")
    tmp = final + ".tmp"
    if info.is_main:
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
    barrier()
    engine.save(tmp)
    torch.save(rng_state(), os.path.join(tmp, f"rng-rank{info.rank}.pt"))
    barrier()
    if info.is_main:
        with open(os.path.join(tmp, STATE_FILE), "w") as f:
            json.dump(asdict(state), f, indent=2)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        if keep > 0:
            for _, old in checkpoints(output_dir)[:-keep]:
                shutil.rmtree(old, ignore_errors=True)
    barrier()
    return final


def load(engine, path: str, info: DistInfo) -> TrainerState:
    """Restore engine state and this rank's RNG from a checkpoint; returns its trainer state."""
    with open(os.path.join(path, STATE_FILE)) as f:
        state = TrainerState(**json.load(f))
    engine.load(path)
    rng_file = os.path.join(path, f"rng-rank{info.rank}.pt")
    if os.path.exists(rng_file):
        set_rng_state(torch.load(rng_file, weights_only=False))
    return state
