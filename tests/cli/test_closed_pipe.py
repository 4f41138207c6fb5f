"""Training metrics to a closed pipe (`sft ... | head -1`): the lines are dropped with one warning,
the run, its checkpoints and its trackers go on to the end, exit 0. Metrics to a full device
(`> /dev/full`) are exit 73 in one line (core/train/metrics.py)."""
import json
import logging
import os
import subprocess
import threading

import pytest

from ..conftest import BIN, CACHE

ENV = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1",
       "XDG_CACHE_HOME": CACHE}
SFT = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                       {"role": "assistant", "content": str(i)}]}) + "\n"
              for i in range(8))
GRPO = "".join(json.dumps({"id": str(i), "question": "Say A.", "answer": "A"}) + "\n"
               for i in range(4))


class _Report:
    def __init__(self):
        self.rows, self.closed = [], False

    def log(self, row):
        self.rows.append(row)

    def close(self):
        self.closed = True


def test_a_metrics_reader_that_goes_away_costs_one_warning_and_no_row_for_the_trackers(tmp_path):
    from thinkpipe.core.train.metrics import Metrics
    fifo = tmp_path / "metrics.fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").readline()))
    reader.start()                               # reads one line, then closes its end
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    logger = logging.getLogger("thinkpipe.train")
    logger.addHandler(handler)
    try:
        report = _Report()
        metrics = Metrics(str(fifo), report=report)
        metrics.log({"step": 1, "loss": 1.0})
        reader.join(timeout=30)
        for step in (2, 3, 4):
            metrics.log({"step": step, "loss": 1.0 / step})
        metrics.close()
    finally:
        logger.removeHandler(handler)
    assert got == [b'{"step":1,"loss":1.0}\n']
    assert [r["step"] for r in report.rows] == [1, 2, 3, 4] and report.closed
    assert len(seen) == 1 and "closed by its reader" in seen[0] and "from step 2" in seen[0]


def _cmd(name, model, out, *extra):
    if name == "sft":
        return ["sft", "--model", model, "--output-dir", str(out), "--max-steps", "3",
                "--per-device-train-batch-size", "2", *extra]
    return ["grpo", "--model", model, "--output-dir", str(out), "--num-generations", "2",
            "--per-device-train-batch-size", "2", "--max-completion-length", "4",
            "--max-steps", "3", *extra]


def _input(tmp_path, name):
    path = tmp_path / "train.jsonl"
    path.write_text(SFT if name == "sft" else GRPO)
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sft", "grpo"])
def test_head_on_the_metrics_does_not_stop_training(name, tiny_models, tmp_path):
    out = tmp_path / "ckpt"
    extra = ["--save-steps", "2"] + (["--report-to", "tensorboard", "--run-name", "r"]
                                     if name == "sft" else [])
    p = subprocess.Popen(_cmd(name, tiny_models["llama"], out, *extra, _input(tmp_path, name)),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    try:
        first = p.stdout.readline()             # what `head -1` takes; then it exits
        p.stdout.close()
        err = p.stderr.read().decode(errors="replace")
        p.wait(timeout=300)
    finally:
        if p.poll() is None:
            p.kill()
    assert json.loads(first)["step"] == 1, err[-2000:]
    assert p.returncode == 0, err[-2000:]
    warnings = [x for x in err.splitlines() if "warning" in x]
    assert len(warnings) == 1 and "stdout was closed by its reader" in warnings[0], err
    assert "Traceback" not in err and "Exception ignored" not in err
    assert (out / "checkpoint-2").is_dir() and (out / "checkpoint-3").is_dir()
    assert (out / "model.safetensors").exists()
    if name == "sft":                            # the trackers still get every row
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(str(out / "runs" / "r"), size_guidance={"scalars": 0})
        acc.Reload()
        assert [e.step for e in acc.Scalars("loss")] == [1, 2, 3]


@pytest.mark.slow
def test_metrics_to_a_full_device_stop_the_run_with_exit_73(tiny_models, tmp_path):
    with open("/dev/full", "wb") as full:
        p = subprocess.run(_cmd("sft", tiny_models["llama"], tmp_path / "ckpt", "--max-steps", "1",
                                _input(tmp_path, "sft")),
                           stdout=full, stderr=subprocess.PIPE, env=ENV, timeout=300)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 73 and err.strip().splitlines() == [
        "sft: error: stdout: cannot write metrics: No space left on device"], err
