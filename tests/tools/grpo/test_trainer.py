"""The trainer's branches, end to end with a stub sampler whose completions are known.

With one iteration the ratio is exactly 1, so a step's loss is -sum_i A_i w_i over the batch,
with w_i the loss type's weight of completion i: grpo 1/N (per-sequence mean; the centred
advantages of a group sum to 0), dapo L_i / sum L, dr_grpo L_i / (N L_max) - which tells the
three normalisers apart. L_i counts completion i's trained tokens (its text's ids and the end
token).
"""
import json
import signal

import pytest
import torch

from thinkpipe.core.drawing.rollout import RolloutConfig, Trajectory
from thinkpipe.core.records import ErrorPolicy
from thinkpipe.core.train import TrainConfig
from thinkpipe.tools.grpo import GRPOConfig, train
from thinkpipe.tools.grpo.losses import group_advantages

TEXTS = ["A", "A B", "A B C D", "A B C D E F G H"]     # G = 4 completions of growing length
REWARD = '''def reward(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    if "tie" in record["question"]:
        return 0.0
    return len(turns[-1]) / 10
'''


class StubSampler:
    """Sample k of every prompt is TEXTS[k], ended by the end token: lengths fixed, seeds
    ignored (the trainer's sampling is tested elsewhere)."""

    def __init__(self, model_path):
        from transformers import AutoTokenizer
        self.tok = AutoTokenizer.from_pretrained(model_path)
        self.ids = [self.tok(t, add_special_tokens=False)["input_ids"] for t in TEXTS]

    def generate(self, prompts, seeds):
        out = []
        for j, (prompt, seed) in enumerate(zip(prompts, seeds)):
            k = j % len(TEXTS)
            out.append(Trajectory(list(prompt) + [{"role": "assistant", "content": TEXTS[k]}],
                                  seed, turns=1, tokens=len(self.ids[k]), done=True, reason="eos",
                                  turn_ids=[self.ids[k] + [self.tok.eos_token_id]]))
        return out

    def sync(self):
        pass

    def lengths(self):
        return [len(i) + 1 for i in self.ids]


@pytest.fixture
def run(tiny_models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lengthy.py").write_text(REWARD)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def go(questions, name, **options):
        train_cfg = TrainConfig(output_dir=str(tmp_path / name), max_steps=options.pop("steps", 1),
                                per_device_train_batch_size=4 * len(questions),
                                learning_rate=options.pop("lr", 1e-2), lr_scheduler_type="constant",
                                metrics=str(tmp_path / f"{name}.jsonl"))
        cfg = GRPOConfig(model=tiny_models["llama"], train=train_cfg, num_generations=4,
                         rewards=("lengthy:reward",), rollout=RolloutConfig(max_total_tokens=32),
                         **options)
        items = [(f"q:{i}", {"id": f"p{i}", "question": q}) for i, q in enumerate(questions)]
        sampler = StubSampler(tiny_models["llama"])
        train(iter(items), cfg, ErrorPolicy(), sampler=sampler)
        rows = [json.loads(x) for x in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        return rows, sampler.lengths()
    yield go
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


def expected_loss(loss_type, lengths, max_len=32):
    rewards = torch.tensor([len(t) / 10 for t in TEXTS])
    adv = group_advantages(rewards, 4).tolist()
    weights = {"grpo": [1 / 4] * 4, "dapo": [n / sum(lengths) for n in lengths],
               "dr_grpo": [n / (4 * max_len) for n in lengths]}[loss_type]
    return -sum(a * w for a, w in zip(adv, weights))


@pytest.mark.parametrize("loss_type", ["grpo", "dapo", "dr_grpo"])
def test_each_loss_type_divides_by_its_own_normaliser(run, loss_type):
    rows, lengths = run(["Say something."], loss_type, loss_type=loss_type)
    assert rows[0]["trained_tokens"] == sum(lengths)
    assert rows[0]["loss"] == pytest.approx(expected_loss(loss_type, lengths), abs=1e-6)


def test_a_second_iteration_uses_the_old_log_probs(run):
    one, lengths = run(["Say something."], "one", loss_type="dapo")
    two, _ = run(["Say something."], "two", loss_type="dapo", num_iterations=2, steps=2, lr=5e-2)
    assert [r["iteration"] for r in two] == [0, 1]
    assert two[0]["loss"] == pytest.approx(one[0]["loss"], abs=1e-6)   # ratio 1 before an update
    assert two[1]["loss"] != pytest.approx(two[0]["loss"], abs=1e-4)   # pi/pi_old moved
    assert two[1]["reward"] == two[0]["reward"]                        # the same rollouts


def test_dynamic_sampling_pads_a_short_batch_with_untrained_copies(run):
    rows, lengths = run(["Say something.", "This one is a tie."], "pad", filter_groups=True,
                        max_filter_rounds=1)
    assert rows[0]["tied_group_fraction"] == 0.5 and rows[0]["sampling_rounds"] == 1
    assert rows[0]["trained_tokens"] == sum(lengths)        # the padding copy trains nothing


def test_tied_groups_are_reported_without_dynamic_sampling(run):
    rows, _ = run(["A tie.", "Another tie."], "ties")
    assert rows[0]["tied_group_fraction"] == 1.0 and rows[0]["loss"] == 0.0


def test_masked_truncations_and_batch_scaling(run):
    rows, lengths = run(["Say something."], "scale", scale_rewards="batch", loss_type="dapo")
    assert rows[0]["loss"] == pytest.approx(expected_loss("dapo", lengths), abs=1e-6)  # 1 group
    rows, _ = run(["Say something."], "none", scale_rewards="none", loss_type="grpo")
    assert rows[0]["loss"] == pytest.approx(0.0, abs=1e-7)   # centred rewards still sum to 0
