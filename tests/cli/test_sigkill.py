"""Real SIGKILLs (no handler runs) at chosen moments, then `--resume auto`; a full disk.

sft (saves at steps 2, 4 and 5, the end) and grpo (saves every step to 3) with
--save-total-limit 1 are killed in turn: right after a step's metrics line (sft: mid-step 4;
grpo: during checkpoint-2's save or step 3), as soon as `checkpoint-N.tmp` appears (sft: 4, mid
run; grpo: 3, its last) and, for sft, as soon as the final model's config.json appears (during
the final save), each time resuming the same folder. Every kill leaves a complete checkpoint,
the resumed run starts right after the newest one and its losses equal an uninterrupted
reference run's from there on, and the finished folder holds the reference's weights (a run
resumed at its last step writes the model again). A save that meets a full tmpfs exits 73 and
keeps the previous checkpoint. A data tool killed while writing `-o FILE` leaves FILE as it was
(or absent); only its hidden temporary (`.tmp-*-FILE`) stays, which no later run reads or
removes.
"""
import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from safetensors.torch import load_file

from thinkpipe.core.train import checkpoint

from ..tmpfs import mounted
from ..tools.grpo.test_grpo_runs import ENV, REWARD   # a launch's environment; a letter reward

pytestmark = pytest.mark.slow   # real training runs, each a few seconds
BIN = os.path.dirname(sys.executable)


class Launch:
    """A trainer as a subprocess; its stdout lines are collected as they come."""

    def __init__(self, cmd: list[str], cwd):
        self.err = open(os.path.join(cwd, f"stderr-{time.monotonic_ns()}.txt"), "w+")
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, text=True,
                                  env=ENV, cwd=cwd)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.p.stdout), daemon=True)
        self.reader.start()

    def rows(self) -> list[dict]:
        return [json.loads(x) for x in list(self.lines)]

    def kill_when(self, cond, timeout=300) -> bool:
        """SIGKILL as soon as cond() holds; False when the run ended first."""
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            if cond():
                self.p.send_signal(signal.SIGKILL)
                self.finish()
                return True
            time.sleep(0.001)                 # a checkpoint's .tmp lives ~40 ms (fsyncs)
        assert self.p.poll() is not None, "timed out"
        return False

    def finish(self) -> list[dict]:
        self.p.wait(timeout=300)
        self.reader.join()
        self.err.seek(0)
        self.stderr = self.err.read()
        self.err.close()
        return self.rows()


def _trainer(tool: str, args: list[str], cwd):
    def launch(out, *extra):
        return Launch([os.path.join(BIN, tool), *args, "--output-dir", str(out), "-q", *extra],
                      cwd)
    return launch


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_models):
    """sft and grpo launchers, and their uninterrupted reference runs (started at once)."""
    root = tmp_path_factory.mktemp("sigkill")
    with open(root / "chat.jsonl", "w") as f:
        for i in range(16):
            f.write(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                             {"role": "assistant",
                                              "content": f"<answer>{i}</answer>"}]}) + "\n")
    (root / "letter.py").write_text(REWARD)
    with open(root / "letters.jsonl", "w") as f:
        for i in range(32):
            f.write(json.dumps({"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.",
                                "answer": "AB"[i % 2]}) + "\n")
    model, common = tiny_models["llama"], ["--save-total-limit", "1"]
    sft = _trainer("sft", ["--model", model, "--max-steps", "5", "--save-steps", "2",
                           "--learning-rate", "5e-3", "--per-device-train-batch-size", "4",
                           *common, str(root / "chat.jsonl")], root)
    grpo = _trainer("grpo", ["--model", model, "--reward", "letter:reward", "--num-generations",
                             "4", "--max-completion-length", "16", "--learning-rate", "1e-2",
                             "--max-steps", "3", "--save-steps", "1",
                             "--per-device-train-batch-size", "8", *common,
                             str(root / "letters.jsonl")], root)
    refs = {"sft": sft(root / "sft-ref"), "grpo": grpo(root / "grpo-ref")}
    yield root, {"sft": sft, "grpo": grpo}, refs
    for ref in refs.values():
        if ref.p.poll() is None:
            ref.p.kill()


def _ref(runs, tool):
    root, _, refs = runs
    if not hasattr(refs[tool], "stderr"):
        refs[tool].finish()
    assert refs[tool].p.returncode == 0, refs[tool].stderr[-3000:]
    return refs[tool].rows(), root / f"{tool}-ref"


def _resume_and_compare(launch, out, ref, kill=None) -> bool:
    """Resume `out`, maybe killing it at kill(out, launch); the steps it ran must be the
    reference's from the newest checkpoint on. True when the kill came."""
    found = checkpoint.checkpoints(str(out))
    assert found, f"no complete checkpoint in {sorted(os.listdir(out))}"
    start = found[-1][0]
    run = launch(out, "--resume", "auto")
    killed = run.kill_when(lambda: kill(out, run)) if kill else False
    rows = run.finish() if not killed else run.rows()
    assert killed or run.p.returncode == 0, run.stderr[-3000:]
    assert [r["step"] for r in rows] == [r["step"] for r in ref[start:start + len(rows)]]
    assert [r["loss"] for r in rows] == pytest.approx([r["loss"] for r in ref[start:start +
                                                       len(rows)]], rel=1e-6, abs=1e-9)
    return killed


def _after_step(k):
    return lambda out, run: any(json.loads(x)["step"] >= k for x in list(run.lines))


def _writing(step):
    def writing(out, run):
        return os.path.isdir(out / f"checkpoint-{step}.tmp")
    writing.__name__ = f"writing checkpoint-{step}"
    return writing


def _saving_model(out, run):
    return os.path.exists(out / "config.json")


def _same_weights(a, b) -> None:
    x, y = load_file(str(a / "model.safetensors")), load_file(str(b / "model.safetensors"))
    assert x.keys() == y.keys()
    for k in x:
        assert (x[k] - y[k]).abs().max().item() <= 1e-6, k


def _chain(runs, tool: str, first: int, kills: list) -> None:
    """Kill a fresh run after step `first`'s metrics line, then resume it and kill it at each
    of `kills`, then resume it to the end: every run continues the reference exactly."""
    root, launchers, _ = runs
    launch, out = launchers[tool], root / f"{tool}-cut"
    run = launch(out)
    assert run.kill_when(lambda: _after_step(first)(out, run)), run.stderr[-3000:]
    ref, ref_out = _ref(runs, tool)
    assert [r["loss"] for r in run.rows()] == pytest.approx(
        [r["loss"] for r in ref[:len(run.rows())]], rel=1e-6, abs=1e-9)
    for kill in kills:
        assert _resume_and_compare(launch, out, ref, kill), f"{tool} ran past {kill.__name__}"
    assert not _resume_and_compare(launch, out, ref)                  # runs to the end
    assert [s for s, _ in checkpoint.checkpoints(str(out))] == [len(ref)]
    assert not [n for n in os.listdir(out) if n.endswith((".tmp", ".old", ".del"))]
    _same_weights(out, ref_out)


def test_killed_runs_resume_with_the_uninterrupted_losses(runs):
    """sft saves at steps 2, 4 and 5 (the end), grpo at every step; the two chains run side by
    side (each launch is mostly a single-threaded start-up)."""
    with ThreadPoolExecutor(2) as pool:
        sft = pool.submit(_chain, runs, "sft", 3, [_writing(4), _saving_model])
        grpo = pool.submit(_chain, runs, "grpo", 2, [_writing(3)])
        sft.result()
        grpo.result()


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs (the kernel's own ENOSPC): one checkpoint of the tiny model fits, not two."""
    with mounted(tmp_path / "disk", "4m") as disk:
        yield disk


def test_a_full_disk_at_a_save_exits_73_and_keeps_the_previous_checkpoint(runs, small_disk):
    run = runs[1]["sft"](small_disk / "out")
    rows = run.finish()
    assert run.p.returncode == 73, run.stderr[-3000:]
    assert run.stderr.strip().splitlines()[-1].endswith(
        "checkpoint-4: cannot write: No space left on device"), run.stderr[-3000:]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert [s for s, _ in checkpoint.checkpoints(str(small_disk / "out"))] == [2]
    assert not [n for n in os.listdir(small_disk / "out") if n.startswith("checkpoint-4")]


def test_a_data_tool_killed_mid_output_leaves_the_old_file_or_none(tmp_path):
    cmd = [os.path.join(BIN, "thinkpipe"), "synth-draw", "--task", "maze", "--canvas", "200",
           "-q", "-o"]
    target = tmp_path / "tasks.jsonl"
    temps = lambda: [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]   # noqa: E731
    for before in (None, b'{"id": "old"}\n'):
        if before is not None:
            target.write_bytes(before)
        old = set(temps())
        p = subprocess.Popen([*cmd, str(target), "--count", "100000"], env=ENV, cwd=tmp_path)
        end = time.monotonic() + 120
        while p.poll() is None and time.monotonic() < end and not any(
                os.path.getsize(tmp_path / n) > 0 for n in set(temps()) - old):
            time.sleep(0.001)
        p.send_signal(signal.SIGKILL)                      # with records written to the temp
        assert p.wait() == -signal.SIGKILL
        assert (target.read_bytes() if target.exists() else None) == before
        assert len(set(temps()) - old) == 1                # hidden, left behind, never read
    done = subprocess.run([*cmd, str(target), "--count", "3"], env=ENV, cwd=tmp_path)
    assert done.returncode == 0 and len(target.read_bytes().splitlines()) == 3
