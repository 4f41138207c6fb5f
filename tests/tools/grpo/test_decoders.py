"""grpo's rollouts decode with `loop` by default; its runs are those of `hf`, step for step.

Same task, seeds and model as the bench (TRL's CPU baseline: "Reply with the letter A/B.", G = 4,
8 completions a step, 32 tokens, beta 0.04): every rollout record (response, seed, reward,
advantage, finish reason) and every metric but the timings must be equal, so the learning
curve is the same curve.
"""
import inspect
import json
import signal

import pytest

from thinkpipe.core.records import ErrorPolicy
from thinkpipe.core.train import TrainConfig
from thinkpipe.tools.grpo import DECODER, GRPOConfig, rollout_config, train

REWARD = '''def reward(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return float(record["answer"] in (turns[-1] if turns else ""))
'''
TIMINGS = {"step_s", "time_rollout", "time_reward", "time_update", "tokens_per_s"}


def test_loop_is_the_default_of_the_tool_and_the_cli():
    from thinkpipe.cli.grpo import grpo
    assert DECODER == "loop"
    assert inspect.signature(grpo).parameters["decoder"].default.value == DECODER
    assert rollout_config("none", 32, 64).decoder == DECODER
    assert rollout_config("none", 32, 64, decoder="hf").decoder == "hf"


@pytest.fixture
def letters(tiny_models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "letter.py").write_text(REWARD)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def go(decoder: str, steps: int = 4):
        name = f"run-{decoder}"
        train_cfg = TrainConfig(output_dir=str(tmp_path / name), max_steps=steps,
                                per_device_train_batch_size=8, learning_rate=1e-3,
                                metrics=str(tmp_path / f"{name}.jsonl"))
        cfg = GRPOConfig(model=tiny_models["llama"], train=train_cfg, num_generations=4,
                         rewards=("letter:reward",), beta=0.04,
                         rollout=rollout_config("none", 32, 32, decoder=decoder),
                         rollouts_path=str(tmp_path / f"{name}-rollouts.jsonl"))
        items = [(f"q:{i}", {"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.",
                             "answer": "AB"[i % 2]}) for i in range(64)]
        train(iter(items), cfg, ErrorPolicy())
        metrics = [{k: v for k, v in json.loads(x).items() if k not in TIMINGS}
                   for x in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        rollouts = [json.loads(x) for x in
                    (tmp_path / f"{name}-rollouts.jsonl").read_text().splitlines()]
        return metrics, rollouts
    yield go
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.mark.slow
def test_a_loop_run_is_the_hf_run(letters):
    hf, loop = letters("hf"), letters("loop")
    assert loop == hf
    metrics, rollouts = hf
    assert len(metrics) == 4 and len(rollouts) == 32
    assert len({r["response"] for r in rollouts}) > 16          # real, varied samples
    assert any(m["loss"] != 0 for m in metrics)                 # and the policy moved
