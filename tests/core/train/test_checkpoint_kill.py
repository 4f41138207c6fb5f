"""checkpoint.save's protocol against real kills, a full disk and a killed save's leftovers.

The kill test forks a child that saves steps 1, 2, 3 and step 3 again (a run resumed from an
older checkpoint reaching a saved step) with --save-total-limit 1, and SIGKILLs itself at the
k-th point of the protocol's file operations (before and after every rename, makedirs, rmtree,
torch.save and json.dump, and half-way through the writes and deletions), for every k. After
each kill the newest complete checkpoint must load whole, and the next save tidies everything.
The disk-full test mounts a small tmpfs (we are root in CI's container; skipped where mount is
not permitted), so the ENOSPC is the kernel's own.
"""
import io
import json
import os
import shutil
import signal
import traceback

import pytest
import torch

from thinkpipe.core.errors import OutputError
from thinkpipe.core.train import checkpoint
from thinkpipe.core.train.dist import DistInfo

from ...tmpfs import mounted

INFO = DistInfo(0, 1, 0, torch.device("cpu"))
# (step, engine value) of the child's saves; the last re-saves step 3 with other weights
SAVES = [(1, 1), (2, 2), (3, 3), (3, 33)]


class Engine:
    def __init__(self, value=0, size=64):
        self.value, self.size = value, size

    def save(self, path):
        torch.save({"value": self.value, "pad": torch.zeros(self.size)},
                   os.path.join(path, "engine.pt"))

    def load(self, path):
        self.value = torch.load(os.path.join(path, "engine.pt"))["value"]


def _instrument(kill_at: int, counter: list) -> None:
    """Wrap the file operations checkpoint.py uses; SIGKILL this process at tick kill_at."""
    def tick():
        counter[0] += 1
        if counter[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def around(fn):
        def wrapped(*a, **kw):
            tick()
            out = fn(*a, **kw)
            tick()
            return out
        return wrapped
    real_save, real_rmtree = torch.save, shutil.rmtree

    def half_save(obj, path, *a, **kw):       # a kill with half of the file written
        buf = io.BytesIO()
        real_save(obj, buf, *a, **kw)
        with open(path, "wb") as f:
            f.write(buf.getvalue()[:len(buf.getvalue()) // 2])
        tick()
        real_save(obj, path, *a, **kw)

    def half_dump(obj, f, **kw):
        text = json.dumps(obj, **kw)
        f.write(text[:len(text) // 2])
        f.flush()
        tick()
        f.write(text[len(text) // 2:])

    def half_rmtree(path, *a, **kw):          # a kill with part of the folder deleted
        if os.path.isdir(path):
            for name in sorted(os.listdir(path))[:1]:
                os.remove(os.path.join(path, name))
            tick()
        real_rmtree(path, *a, **kw)
    os.replace, os.makedirs = around(os.replace), around(os.makedirs)
    torch.save, json.dump, shutil.rmtree = around(half_save), around(half_dump), around(half_rmtree)


def _child(out: str, log: str, kill_at: int) -> int:
    counter = [0]
    _instrument(kill_at, counter)
    for step, value in SAVES:
        checkpoint.save(Engine(value), checkpoint.TrainerState(step=step), out, INFO, keep=1)
        with open(log, "a") as f:
            f.write(f"{step}\n")
    return counter[0]


def _fork(out, log, kill_at: int) -> tuple[int, int]:
    """(signal that ended the child or 0, ticks it counted when it finished)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                              # the child never returns into pytest
        os.close(r)
        try:
            os.write(w, str(_child(str(out), str(log), kill_at)).encode())
            os._exit(0)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
    os.close(w)
    got = os.read(r, 64)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    return (os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0), int(got or 0)


def _check_after_kill(out, log) -> None:
    done = [int(x) for x in log.read_text().split()] if log.exists() else []
    found = checkpoint.checkpoints(str(out))
    if not done:
        assert len(found) <= 1                # the first save: there or not, never half
    else:
        assert found, f"no complete checkpoint after saves of steps {done} returned"
        assert found[-1][0] >= done[-1]
    for step, path in found:                  # every checkpoint that counts loads whole
        engine = Engine()
        state = checkpoint.load(engine, path, INFO)
        assert state.step == step and (step, engine.value) in SAVES
    latest = checkpoint.latest(str(out))
    checkpoint.clean(str(out))                # what a resume does first: the same answer
    if latest is not None:
        assert checkpoint.latest(str(out)) == os.path.join(str(out), f"checkpoint-{found[-1][0]}")
    checkpoint.save(Engine(4), checkpoint.TrainerState(step=4), str(out), INFO, keep=1)
    assert sorted(os.listdir(out)) == ["checkpoint-4"]


def test_a_sigkill_at_any_point_of_a_save_leaves_a_whole_checkpoint(tmp_path):
    signal_, ticks = _fork(tmp_path / "dry", tmp_path / "dry.log", kill_at=-1)
    assert signal_ == 0 and ticks > 40
    for k in range(1, ticks + 1):
        out, log = tmp_path / f"k{k}", tmp_path / f"k{k}.log"
        assert _fork(out, log, k)[0] == signal.SIGKILL, k
        _check_after_kill(out, log)


def test_leftovers_of_a_killed_save_are_ignored_and_tidied(tmp_path):
    checkpoint.save(Engine(2), checkpoint.TrainerState(step=2), str(tmp_path), INFO)
    (tmp_path / "checkpoint-4.tmp").mkdir()                    # killed mid-write,
    (tmp_path / "checkpoint-4.tmp" / "trainer_state.json").write_text('{"step": 4, "ep')
    (tmp_path / "checkpoint-6").mkdir()                        # no trainer_state.json
    (tmp_path / "checkpoint-6" / "engine.pt").write_bytes(b"PK\x03")
    (tmp_path / "checkpoint-8.del").mkdir()                    # half deleted
    (tmp_path / "checkpoint-8.del" / "trainer_state.json").write_text('{"step": 8}')
    assert checkpoint.latest(str(tmp_path)) == str(tmp_path / "checkpoint-2")
    engine = Engine()
    assert checkpoint.load(engine, checkpoint.latest(str(tmp_path)), INFO).step == 2
    assert engine.value == 2
    checkpoint.clean(str(tmp_path))
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-2", "checkpoint-6"]
    shutil.move(str(tmp_path / "checkpoint-2"), str(tmp_path / "checkpoint-2.old"))
    assert checkpoint.latest(str(tmp_path)) == str(tmp_path / "checkpoint-2.old")
    checkpoint.clean(str(tmp_path))                            # renamed back
    assert checkpoint.latest(str(tmp_path)) == str(tmp_path / "checkpoint-2")
    checkpoint.save(Engine(6), checkpoint.TrainerState(step=6), str(tmp_path), INFO, keep=1)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint-6"]
    assert checkpoint.load(engine, str(tmp_path / "checkpoint-6"), INFO).step == 6


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs (a real ENOSPC)."""
    with mounted(tmp_path / "disk", "1m") as disk:
        yield disk


def test_a_full_disk_keeps_the_previous_checkpoint(small_disk):
    out = str(small_disk / "run")
    checkpoint.save(Engine(1), checkpoint.TrainerState(step=1), out, INFO, keep=1)
    for size in (300_000, 1_000_000):         # 1.2 and 4 MB: the engine's file does not fit
        with pytest.raises(OutputError, match="checkpoint-2: cannot write: No space left"):
            checkpoint.save(Engine(2, size=size), checkpoint.TrainerState(step=2), out, INFO,
                            keep=1)
        assert os.listdir(out) == ["checkpoint-1"]
        engine = Engine()
        assert checkpoint.load(engine, checkpoint.latest(out), INFO).step == 1
        assert engine.value == 1
