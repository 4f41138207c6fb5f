"""The training loop as users launch it: one process, torchrun with DDP and ZeRO-2/3, resume.

Runs `python -m thinkpipe.cli.selfcheck` (a tiny LLaMA on generated text). The first DeepSpeed
start on a machine compiles an op (~40 s, then cached). Each launch uses its own port.
"""
import json
import os
import signal
import subprocess
import sys

import pytest

from thinkpipe.core.errors import UsageError
from thinkpipe.core.train import TrainConfig
from thinkpipe.core.train.engines import deepspeed_config

pytestmark = pytest.mark.slow   # real launches and training runs of a few seconds each
BIN = os.path.dirname(sys.executable)
ENV = {k: v for k, v in os.environ.items()
       if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}


def selfcheck(out, *args, ranks=1, port=None, timeout=400):
    cmd = [sys.executable, "-m", "thinkpipe.cli.selfcheck", "--output-dir", str(out), *args]
    if ranks > 1:
        cmd = [os.path.join(BIN, "torchrun"), "--nproc_per_node", str(ranks), "--master_port",
               str(port), "-m", "thinkpipe.cli.selfcheck", "--output-dir", str(out), *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=timeout)
    assert p.returncode == 0, p.stderr[-3000:]
    return [json.loads(line) for line in p.stdout.splitlines()]


def losses(rows):
    return [r["loss"] for r in rows]


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    return selfcheck(tmp_path_factory.mktemp("single"), "--steps", "4")


def test_single_process_trains_and_saves(single, tmp_path_factory):
    assert [r["step"] for r in single] == [1, 2, 3, 4]
    assert losses(single)[-1] < losses(single)[0]
    assert {"lr", "grad_norm", "tokens_per_s", "tokens"} <= single[0].keys()


def test_ddp_two_ranks_matches_one_process(single, tmp_path):
    rows = selfcheck(tmp_path, "--steps", "4", "--per-device-train-batch-size", "2",
                     ranks=2, port=29611)
    assert losses(rows) == pytest.approx(losses(single), rel=1e-5)


def test_zero2_two_ranks_matches_one_process(single, tmp_path):
    rows = selfcheck(tmp_path, "--steps", "4", "--per-device-train-batch-size", "2", "--zero", "2",
                     ranks=2, port=29612)
    assert losses(rows) == pytest.approx(losses(single), rel=1e-5)
    assert [r["lr"] for r in rows] == pytest.approx([r["lr"] for r in single])


def test_zero3_with_accumulation_runs_and_exports_the_model(single, tmp_path):
    rows = selfcheck(tmp_path, "--steps", "4", "--per-device-train-batch-size", "1",
                     "--gradient-accumulation-steps", "2", "--zero", "3", ranks=2, port=29613)
    assert losses(rows) == pytest.approx(losses(single), rel=1e-5)
    from thinkpipe.core.models import load
    assert load(str(tmp_path / "final")).model.num_parameters() > 100_000


def test_killed_run_resumes_with_the_uninterrupted_losses(tmp_path):
    full = selfcheck(tmp_path / "full", "--steps", "6")
    cmd = [sys.executable, "-m", "thinkpipe.cli.selfcheck", "--output-dir", str(tmp_path / "cut"),
           "--steps", "6", "--step-sleep", "0.4"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    first = [p.stdout.readline() for _ in range(2)]   # two steps done: stop it
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130 and "resume with --resume" in err and "Traceback" not in err
    done = [json.loads(x) for x in first + out.splitlines()]
    resumed = selfcheck(tmp_path / "cut", "--steps", "6", "--resume")
    assert resumed[0]["step"] == done[-1]["step"] + 1
    assert losses(done + resumed) == losses(full)   # bit for bit


def test_zero2_checkpoint_resumes(tmp_path):
    full = selfcheck(tmp_path / "full", "--steps", "4", "--zero", "2", "--per-device-train-batch-size", "2",
                     ranks=2, port=29614)
    first = selfcheck(tmp_path / "cut", "--steps", "4", "--zero", "2", "--save-steps", "2",
                      "--per-device-train-batch-size", "2", ranks=2, port=29615)
    # throw away the end of the run, keep the step-2 checkpoint, and resume from it
    import shutil
    shutil.rmtree(tmp_path / "cut" / "checkpoint-4")
    again = selfcheck(tmp_path / "cut", "--steps", "4", "--zero", "2", "--resume",
                      "--per-device-train-batch-size", "2", ranks=2, port=29616)
    assert [r["step"] for r in again] == [3, 4]
    assert losses(again) == pytest.approx(losses(full)[2:], rel=1e-6) == losses(first)[2:]


def test_deepspeed_config_fills_auto_and_refuses_conflicts(tmp_path):
    path = tmp_path / "ds.json"
    path.write_text(json.dumps({"train_micro_batch_size_per_gpu": "auto",
                                "gradient_accumulation_steps": 4,
                                "zero_optimization": {"stage": 3}}))
    cfg = TrainConfig(output_dir="x", deepspeed=str(path), per_device_train_batch_size=2,
                      gradient_accumulation_steps=4)
    ds = deepspeed_config(cfg, world_size=2)
    assert ds["train_micro_batch_size_per_gpu"] == 2 and ds["train_batch_size"] == 16
    assert ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] is True
    with pytest.raises(UsageError, match="gradient_accumulation_steps"):
        deepspeed_config(TrainConfig(output_dir="x", deepspeed=str(path)), world_size=1)
    assert deepspeed_config(TrainConfig(output_dir="x", zero=1), 1)["zero_optimization"] == {"stage": 1}


def test_too_little_data_is_a_usage_error():
    from thinkpipe.core.train import plan_steps
    with pytest.raises(UsageError, match="do not fill one optimizer step"):
        plan_steps(TrainConfig(output_dir="x", per_device_train_batch_size=4), 3, 1)
    assert plan_steps(TrainConfig(output_dir="x", num_train_epochs=2.5), 10, 1) == 25


@pytest.mark.parametrize("content, says", [
    (b'{"question": "q"}\n', "that is a record file"), (b"PAR1....", "that is a record file"),
    (b"\x1f\x8b\x08\x00", "that is a record file"), (b"weights", "it is a file")])
def test_resume_given_a_file_says_what_the_file_is(tmp_path, content, says):
    path = tmp_path / "thing"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=says):
        TrainConfig(output_dir=str(tmp_path / "o"), resume=str(path))
    with pytest.raises(ValueError, match="a folder with no trainer_state.json"):
        TrainConfig(output_dir=str(tmp_path / "o"), resume=str(tmp_path))
