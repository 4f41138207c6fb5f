"""Atomic, resumable checkpoints: `output_dir/checkpoint-<step>/`.

A checkpoint holds what an exact resume needs: the engine's model/optimizer/scheduler state
(engines.py), every rank's RNG state, and `trainer_state.json` (step, epoch, the position in the
data, the resolved config).

Save protocol (save()); each rename is atomic, so a kill at any instant (SIGKILL: no handler
runs) leaves the newest complete checkpoint findable and whole:
  1. rank 0 tidies what a killed save left (clean(), also run on resume): it deletes `*.tmp`,
     `*.del` and superseded `*.old` folders and renames a lone complete `.old` back;
  2. every rank writes its part into `checkpoint-<step>.tmp/` (engine state, rng-rank<r>.pt);
     rank 0 then writes trainer_state.json last and fsyncs every file and folder of it;
  3. an existing `checkpoint-<step>` (a run resumed from an older checkpoint reaches that step
     again) is renamed to `checkpoint-<step>.old`; `.tmp` is renamed to `checkpoint-<step>` and
     output_dir is fsynced (durable against power loss too, not only against a kill);
  4. the `.old` folder and checkpoints beyond --save-total-limit (never the new one) are renamed
     to `<name>.del`, then deleted.
A folder counts as a checkpoint (checkpoints(), latest()) when it is `checkpoint-<step>` holding
trainer_state.json, or `checkpoint-<step>.old` holding it with no complete `checkpoint-<step>`
beside it (a kill between the two renames of step 3). A `.tmp` folder (maybe half written, its
trainer_state.json too) and a `.del` one (maybe half deleted) never count.

A save the disk refuses (ENOSPC, EDQUOT, EFBIG, on any rank) removes its `.tmp` folder, keeps
the previous checkpoints and raises OutputError (exit 73) on every rank.
"""
from __future__ import annotations

import json
import os
import random
import re
import shutil
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np
import torch

from ..errors import OutputError
from .dist import DistInfo, all_reduce_sum
from .files import write_failure

STATE_FILE = "trainer_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)$")
_LEFT = re.compile(r"^checkpoint-(\d+)\.(tmp|old|del)$")


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


def _complete(path: str) -> bool:
    return os.path.isfile(os.path.join(path, STATE_FILE))


def checkpoints(output_dir: str) -> list[tuple[int, str]]:
    """Complete checkpoints in output_dir, oldest first (see the module docstring)."""
    if not os.path.isdir(output_dir):
        return []
    found = {}
    for name in os.listdir(output_dir):
        path = os.path.join(output_dir, name)
        if (m := _NAME.match(name)) and _complete(path):
            found[int(m.group(1))] = path
    for name in os.listdir(output_dir):
        m = _LEFT.match(name)
        if m and m.group(2) == "old" and int(m.group(1)) not in found \
                and _complete(os.path.join(output_dir, name)):
            found[int(m.group(1))] = os.path.join(output_dir, name)
    return sorted(found.items())


def latest(output_dir: str) -> str | None:
    found = checkpoints(output_dir)
    return found[-1][1] if found else None


def _discard(path: str) -> None:
    """Rename path to `<name>.del` (which never counts), then delete it."""
    trash = re.sub(r"\.(tmp|old)$", "", path) + ".del"
    if trash != path:
        shutil.rmtree(trash, ignore_errors=True)
        os.replace(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def clean(output_dir: str) -> None:
    """Tidy what a killed save left (rank 0, before a save and on resume, while no other rank
    looks): delete `.tmp` and `.del` folders and superseded `.old` ones, and rename an `.old`
    that is its step's checkpoint back to `checkpoint-<step>`."""
    if not os.path.isdir(output_dir):
        return
    for name in sorted(os.listdir(output_dir)):
        m = _LEFT.match(name)
        if not m:
            continue
        path = os.path.join(output_dir, name)
        final = os.path.join(output_dir, f"checkpoint-{m.group(1)}")
        if m.group(2) != "old":
            shutil.rmtree(path, ignore_errors=True)
        elif _complete(final):
            _discard(path)
        elif _complete(path) and not os.path.exists(final):
            os.replace(path, final)          # the step's checkpoint, back under its name


def _fsync(path: str, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_tree(root: str) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            _fsync(os.path.join(folder, name))
        _fsync(folder, directory=True)


def _write_error(e: BaseException, folder: str) -> str | None:
    """The reason when e is the disk refusing a write (files.write_failure), else None: an
    OSError, or the RuntimeError torch.save's zip writer raises on a full disk."""
    if isinstance(e, OSError):
        return e.strerror or str(e)
    if isinstance(e, RuntimeError) and any(
            k in str(e) for k in ("inline_container", "PytorchStreamWriter", "write")):
        return write_failure(e, folder)
    return None


def _together(phase: Callable[[], None], info: DistInfo, final: str) -> None:
    """Run this rank's part of a phase; when any rank failed, every rank drops the `.tmp`
    folder and raises (OutputError for a refused write), so no rank waits on another."""
    failure = None
    try:
        phase()
    except Exception as e:          # noqa: BLE001 - reported below, on every rank
        failure = e
    if all_reduce_sum(float(failure is not None), info.device) == 0:
        return
    reason = None if failure is None else _write_error(failure, os.path.dirname(final) or ".")
    if info.is_main:
        shutil.rmtree(final + ".tmp", ignore_errors=True)
    if failure is None:
        raise OutputError(f"{final}: cannot write: another rank failed")
    if reason is None:
        raise failure
    raise OutputError(f"{final}: cannot write: {reason}") from None


def save(engine, state: TrainerState, output_dir: str, info: DistInfo, keep: int = 0) -> str:
    """Write checkpoint-<step> atomically on every rank (the module's protocol); returns its
    path. `keep` > 0: keep that many newest checkpoints (and always the new one)."""
    final = os.path.join(output_dir, f"checkpoint-{state.step}")
    tmp = final + ".tmp"

    def begin():
        if info.is_main:
            clean(output_dir)
            os.makedirs(tmp)

    def write():
        engine.save(tmp)
        torch.save(rng_state(), os.path.join(tmp, f"rng-rank{info.rank}.pt"))

    _together(begin, info, final)
    _together(write, info, final)
    _together(lambda: _publish(state, tmp, final, keep) if info.is_main else None, info, final)
    return final


def _publish(state: TrainerState, tmp: str, final: str, keep: int) -> None:
    """Steps 2 (end) to 4 of the protocol, on rank 0."""
    output_dir, old = os.path.dirname(final), final + ".old"
    with open(os.path.join(tmp, STATE_FILE), "w") as f:
        json.dump(asdict(state), f, indent=2)
    _sync_tree(tmp)
    if _complete(final):                 # kept as the step's checkpoint until replaced
        if os.path.exists(old):
            _discard(old)
        os.replace(final, old)
    elif os.path.exists(final):          # no trainer_state.json: not a checkpoint
        _discard(final)
    os.replace(tmp, final)
    _fsync(output_dir or ".", directory=True)
    if os.path.exists(old):
        _discard(old)
    if keep > 0:
        for _, path in checkpoints(output_dir)[:-keep]:
            if path != final:
                _discard(path)


def load(engine, path: str, info: DistInfo) -> TrainerState:
    """Restore engine state and this rank's RNG from a checkpoint; returns its trainer state."""
    with open(os.path.join(path, STATE_FILE)) as f:
        state = TrainerState(**json.load(f))
    engine.load(path)
    rng_file = os.path.join(path, f"rng-rank{info.rank}.pt")
    if os.path.exists(rng_file):
        set_rng_state(torch.load(rng_file, weights_only=False))
    return state
