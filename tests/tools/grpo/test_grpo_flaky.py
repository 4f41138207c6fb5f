"""grpo with a reward endpoint on 127.0.0.1 (tests/flaky_server.py): a batch's reward calls go
out --reward-concurrency at a time, and an endpoint that dies after K requests stops the run
before the unscored step trains, with a ServiceError (exit 69) naming it and a checkpoint of the
last completed step that --resume continues from exactly as an uninterrupted run would. Runs are
in-process (train()) but one, which checks the command's exit status and message."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from thinkpipe.core.errors import ServiceError
from thinkpipe.core.records import ErrorPolicy
from thinkpipe.core.train import TrainConfig
from thinkpipe.tools.grpo import GRPOConfig, rollout_config, train

from ...flaky_server import FlakyServer, fail_after

pytestmark = pytest.mark.slow   # real training steps of a tiny model
BIN = os.path.dirname(sys.executable)
PROMPTS = [{"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.",
            "answer": "AB"[i % 2]} for i in range(16)]


def letter_reward(request: dict) -> bytes:
    """1 when the last assistant turn holds the record's answer letter."""
    record = request["record"]
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return json.dumps({"reward": float(record["answer"] in (turns[-1] if turns else ""))}).encode()


@pytest.fixture
def flaky():
    made = []

    def start(script=("ok",), hold=0.0):
        made.append(FlakyServer(letter_reward, script, hold=hold))
        return made[-1]
    yield start
    for s in made:
        s.close()


@pytest.fixture
def grpo(tiny_models, tmp_path):
    """grpo(name, url, steps=2, **options) -> metrics rows: 2 prompts x G 4 a step, in-process."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def go(name, url, steps=2, resume=None, **options):
        metrics = tmp_path / f"{name}.jsonl"
        train_cfg = TrainConfig(output_dir=str(tmp_path / name), max_steps=steps, learning_rate=1e-3,
                                per_device_train_batch_size=8, metrics=str(metrics), resume=resume)
        cfg = GRPOConfig(model=tiny_models["llama"], train=train_cfg, num_generations=4,
                         rewards=(url,), rollout=rollout_config("none", 8, 8), **options)
        if metrics.exists():
            metrics.unlink()
        try:
            train(iter((f"p:{i}", dict(r)) for i, r in enumerate(PROMPTS)), cfg, ErrorPolicy())
        finally:
            rows = [json.loads(x) for x in metrics.read_text().splitlines()] \
                if metrics.exists() else []
            go.rows = rows
        return rows
    yield go
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def test_a_batch_of_reward_calls_goes_out_concurrently(grpo, flaky):
    srv = flaky(hold=0.2)
    rows = grpo("c", srv.url, steps=1, reward_concurrency=4)
    assert len(rows) == 1 and srv.count == 8
    assert 1 < srv.max_active <= 4, srv.max_active
    one = flaky(hold=0.01)
    assert grpo("s", one.url, steps=1, reward_concurrency=1)[0]["reward"] == rows[0]["reward"]
    assert one.max_active == 1


def test_an_endpoint_that_dies_stops_the_run_with_a_checkpoint(grpo, flaky, tmp_path):
    full = grpo("full", flaky().url)
    srv = flaky(fail_after(8))                       # the first step's 8 calls, then 500s
    with pytest.raises(ServiceError, match=f"reward endpoint {srv.url} failed 3 times"):
        grpo("cut", srv.url)
    assert [r["step"] for r in grpo.rows] == [1]     # step 2 was never trained on
    saved = sorted(os.listdir(tmp_path / "cut"))
    assert "checkpoint-1" in saved and "checkpoint-2" not in saved
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    assert srv.count > 8 and set(srv.modes[8:]) == {"500"}
    srv.script[:] = ["ok"]                            # the endpoint is back
    again = grpo("cut", srv.url, resume="auto")
    assert [r["step"] for r in again] == [2]          # the unscored batch, regenerated
    assert again[0]["reward"] == full[1]["reward"]
    assert again[0]["loss"] == pytest.approx(full[1]["loss"], rel=1e-5, abs=1e-7)


def test_the_command_exits_69_naming_the_endpoint(tiny_models, tmp_path, flaky):
    srv = flaky(["500"])
    data = "".join(json.dumps(r) + "\n" for r in PROMPTS[:2])
    p = subprocess.run([os.path.join(BIN, "grpo"), "--model", tiny_models["llama"], "--output-dir",
                        str(tmp_path / "o"), "--reward", srv.url, "--num-generations", "4",
                        "--max-completion-length", "4", "--per-device-train-batch-size", "8",
                        "--max-steps", "1", "-q"], input=data, capture_output=True, text=True,
                       timeout=300)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 69 and p.stdout == "", p.stderr[-2000:]
    assert lines[-1].startswith(f"grpo: error: reward endpoint {srv.url} failed 3 times")
    assert not os.path.exists(tmp_path / "o" / "checkpoint-1")
