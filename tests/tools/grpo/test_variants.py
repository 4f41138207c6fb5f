"""Trust-GRPO and T-GRPO through the real trainer with a stub sampler: every reward component
in the rollouts recomputes from the data alone; metrics report the variants."""
import json
import math
import signal

import pytest

from thinkpipe.core.drawing.rollout import RolloutConfig, Trajectory
from thinkpipe.core.records import ErrorPolicy
from thinkpipe.core.train import TrainConfig
from thinkpipe.tools.grpo import GRPOConfig, ShapingConfig, train

TEXTS = ["A", "B", "A B", "B B B B"]
PLUGINS = {
    "plug": '''
def accuracy(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return float(turns[-1].startswith(record["answer"]))

def thinking(record, response):
    return len(response) / 10
''',
    "graded": '''
def accuracy(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return {"A": 0.6, "B": 0.0, "A B": 0.3, "B B B B": 0.25}[turns[-1]]
''',
    "frames": '''
def accuracy(record):
    """1 when the prompt shows the record's frames in their own order."""
    shown = [p["image"] for m in record["messages"] if isinstance(m.get("content"), list)
             for p in m["content"] if p.get("type") == "image"]
    return float(shown == record["images"])
'''}


class StubSampler:
    def __init__(self, model_path):
        from transformers import AutoTokenizer
        self.tok = AutoTokenizer.from_pretrained(model_path)
        self.prompts = 0

    def generate(self, prompts, seeds):
        self.prompts += len(prompts)
        out = []
        for j, (prompt, seed) in enumerate(zip(prompts, seeds)):
            text = TEXTS[j % len(TEXTS)]
            ids = self.tok(text, add_special_tokens=False)["input_ids"]
            out.append(Trajectory(list(prompt) + [{"role": "assistant", "content": text}], seed,
                                  turns=1, tokens=len(ids), done=True, reason="eos",
                                  turn_ids=[ids + [self.tok.eos_token_id]]))
        return out

    def sync(self):
        pass


@pytest.fixture
def run(tiny_models, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name, text in PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(text)
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def go(records, reward, shaping, model="llama", steps=2):
        train_cfg = TrainConfig(output_dir=str(tmp_path / "out"), max_steps=steps,
                                per_device_train_batch_size=4 * len(records),
                                learning_rate=1e-3, metrics=str(tmp_path / "m.jsonl"),
                                overwrite_output_dir=True)
        cfg = GRPOConfig(model=tiny_models[model], train=train_cfg, num_generations=4,
                         rewards=(reward,), rollout=RolloutConfig(max_total_tokens=16),
                         shaping=shaping, rollouts_path=str(tmp_path / "r.jsonl"))
        sampler = StubSampler(tiny_models[model])
        train(iter([(f"x:{i}", r) for i, r in enumerate(records)]), cfg, ErrorPolicy(),
              sampler=sampler)
        metrics = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
        rollouts = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
        return metrics, rollouts, sampler
    yield go
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


QUESTIONS = [{"id": f"q{i}", "question": "Say A.", "answer": "A"} for i in range(2)]


def test_trust_grpo_paper_rewards_recompute_from_the_rollouts(run):
    metrics, rows, _ = run(QUESTIONS, "plug:accuracy",
                           ShapingConfig(thinking_reward="plug:thinking", anneal_steps=4))
    assert len(rows) == 16 and len(metrics) == 2
    for step in (1, 2):
        w0 = 0.3 * math.exp(-(step - 1) / 4)         # annealed at the step that sampled it
        for r in (r for r in rows if r["step"] == step):
            assert r["rewards"]["outcome"] == r["rewards"]["accuracy"]
            assert r["rewards"]["thinking"] == pytest.approx(len(r["response"]) / 10)
            # C = {"A", "A B"}: R^t 0.1, 0.3 -> mu_c 0.2; W = {"B", "B B B B"}: mu_w 0.4
            assert r["trust_gamma"] == pytest.approx(math.exp(0.2 - 0.4))
            assert r["think_weight"] == pytest.approx(w0 * math.exp(-0.2))
            assert r["reward"] == pytest.approx(r["rewards"]["outcome"] +
                                                r["think_weight"] * r["rewards"]["thinking"])
    m = metrics[0]
    assert m["thinking_calls"] == 8 and m["thinking_failures"] == 0 and m["trust_fired"] == 1.0
    assert m["trust_gamma"] == pytest.approx(math.exp(-0.2)) and m["thinking_s"] >= 0


def test_trust_grpo_released_scores_only_outcomes_above_the_threshold(run):
    metrics, rows, _ = run(QUESTIONS, "graded:accuracy",
                           ShapingConfig(thinking_reward="plug:thinking", trust="released",
                                         anneal_steps=4), steps=1)
    # outcomes 0.6, 0.0, 0.3, 0.25: the reward model sees the three >= 0.2
    assert metrics[0]["thinking_calls"] == 6
    by_text = {r["response"]: r for r in rows}
    assert by_text["B"]["rewards"]["thinking"] == 0.0
    # C = {0.6}: R^t 0.1; W = {0, 0.3, 0.25} with R^t 0, 0.3, 0.7 -> mu_w 1/3
    g = math.exp(0.1 - 1 / 3)
    assert by_text["A"]["trust_gamma"] == pytest.approx(g)
    assert by_text["A"]["reward"] == pytest.approx(0.6 + 0.3 * g * 0.1)


def test_format_gate_zeroes_outcomes_without_think_answer(run):
    metrics, rows, _ = run(QUESTIONS, "plug:accuracy", ShapingConfig(format_gate=True), steps=1)
    assert all(r["rewards"]["outcome"] == 0.0 and r["reward"] == 0.0 for r in rows)
    assert metrics[0]["format_broken"] == 1.0


def frames_records(red_png, tmp_path):
    from PIL import Image
    paths = []
    for i, colour in enumerate([(200, 0, 0), (0, 200, 0), (0, 0, 200)]):
        p = tmp_path / f"f{i}.png"
        Image.new("RGB", (56, 56), colour).save(p)
        paths.append(str(p))
    framed = [{"id": f"v{i}", "question": "What happens?", "answer": "A", "images": paths,
               "frames": True} for i in range(2)]
    return framed + [{"id": "still", "question": "What is it?", "answer": "A", "images": [red_png]}]


@pytest.mark.slow
def test_t_grpo_bonus_when_order_helps_and_shuffled_samples_are_recorded(run, red_png, tmp_path,
                                                                         caplog):
    shaping = ShapingConfig(temporal=True, length_bonus=0.2, length_range=(1, 2))
    with caplog.at_level("WARNING", logger="thinkpipe.grpo"):
        metrics, rows, sampler = run(frames_records(red_png, tmp_path), "frames:accuracy",
                                     shaping, model="qwen2-vl", steps=1)
    # every framed group's ordered responses are all correct: the bonus is constant there
    assert "reward temporal is constant within every group" in caplog.text
    assert "only rescales rewards" not in caplog.text      # the length bonus keeps it
    ordered = [r for r in rows if not r["frames_shuffled"]]
    shuffled = [r for r in rows if r["frames_shuffled"]]
    assert len(ordered) == 12 and len(shuffled) == 4 and sampler.prompts == 16   # 2 per framed
    assert all(not r["trained"] and r["advantage"] == 0.0 and r["rewards"]["accuracy"] == 0.0
               and sorted(r["frame_order"]) == [0, 1, 2] and r["frame_order"] != [0, 1, 2]
               for r in shuffled)
    framed = [r for r in ordered if r["prompt_id"] != "still"]
    assert all(r["rewards"]["temporal"] == 0.3 for r in framed)        # p = 1 >= p~ = 0
    assert all("temporal" not in r["rewards"] for r in ordered if r["prompt_id"] == "still")
    for r in ordered:          # R = accuracy + temporal + length, each recorded
        assert r["reward"] == pytest.approx(r["rewards"]["accuracy"] +
                                            r["rewards"].get("temporal", 0) + r["rewards"]["length"])
    assert {r["rewards"]["length"] for r in ordered} == {0.0, 0.2}   # in range or not
    assert metrics[0]["temporal_fired"] == 1.0 and metrics[0]["temporal_p_shuffled"] == 0.0


def test_variant_flags_are_checked_before_loading(cli, tiny_models):
    base = ["grpo", "--model", tiny_models["llama"], "--output-dir", "/tmp/never-made-grpo"]
    for bad in (["--trust", "maybe"], ["--length-range", "512"], ["--shuffled-fraction", "0"],
                ["--length-range", "9,3"], ["--thinking-reward", "no/such/folder"]):
        r = cli(base + bad, b'{"question": "q", "answer": "A"}\n')
        assert r.rc == 2 and r.stderr.strip().count("\n") <= 3, (bad, r.stderr)


def test_sft_records_for_a_thinking_reward_model():
    from thinkpipe.core.rewards.thinking import sft_record
    rec = {"id": "r1", "question": "2 + 2?", "response": "<think>2 and 2 make 4</think> 4",
           "rewards": {"thinking": 0.66}, "images": ["a.png"]}
    out = sft_record(rec, "rewards.thinking")
    user, assistant = out["messages"]
    assert assistant == {"role": "assistant", "content": "<answer>0.7</answer>"}
    assert user["content"][0] == {"type": "image", "image": "a.png"}
    assert "2 + 2?" in user["content"][1]["text"] and "make 4" in user["content"][1]["text"]
    with pytest.raises(ValueError, match="score"):
        sft_record({**rec, "rewards": {"thinking": 3}}, "rewards.thinking")


@pytest.mark.slow
def test_sft_trains_a_thinking_reward_model_grpo_then_loads(cli, tiny_models, tmp_path):
    data = "".join(json.dumps({"id": f"r{i}", "question": "Say A.", "response": f"<think>{'x ' * i}</think>A",
                               "score": i / 10}) + "\n" for i in range(6)).encode()
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path / "trm"),
             "--as-thinking-reward", "score", "--max-steps", "2", "-q"], data)
    assert r.rc == 0, r.stderr
    from thinkpipe.core.rewards.thinking import load_thinking_scorer
    scorer = load_thinking_scorer(str(tmp_path / "trm"))
    scores = scorer.score([({"question": "Say A."}, "<think>x</think>A")])
    assert 0.0 <= scores[0] <= 1.0 and scorer.stats()["calls"] == 1
    bad = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path / "t2"),
               "--as-thinking-reward", "score", "-q"], b'{"id": "x", "question": "q", "response": "r"}\n')
    assert bad.rc == 65 and "<stdin>:1" in bad.stderr and "score" in bad.stderr


def test_ranks_with_fewer_shuffled_samples_pad_to_the_most(monkeypatch):
    """ZeRO-3 needs every rank to generate as many prompts: the short rank adds throw-aways."""
    from thinkpipe.tools.grpo import collect
    monkeypatch.setattr(collect.dist, "all_reduce_max", lambda value, device: 7)

    class Cfg:
        shaping = ShapingConfig(temporal=True)
    c = collect.Collector.__new__(collect.Collector)
    c.cfg, c.info = Cfg(), type("Info", (), {"device": "cpu"})()
    prompts, seeds, owners = [["p"]] * 4, [1, 2, 3, 4], [("a", 1, k, None) for k in range(4)]
    c._pad_in_lock_step(prompts, seeds, owners)
    assert len(prompts) == 7 and [o[0] for o in owners[4:]] == [None] * 3


@pytest.mark.slow
def test_each_variant_runs_end_to_end_with_real_sampling(cli, tiny_models, red_png, tmp_path):
    (tmp_path / "judge.py").write_text("def score(record, response):\n    return min(1.0, len(response) / 40)\n")
    (tmp_path / "letter.py").write_text(
        "def reward(record):\n    turns = [m['content'] for m in record['messages'] if m['role'] == 'assistant']\n"
        "    return float(record['answer'] in turns[-1])\n")
    text = "".join(json.dumps({"id": f"p{i}", "question": f"Reply with {'AB'[i % 2]}.",
                               "answer": "AB"[i % 2]}) + "\n" for i in range(4)).encode()
    common = ["--num-generations", "4", "--per-device-train-batch-size", "8",
              "--max-completion-length", "12", "--max-steps", "2", "--reward", "letter:reward",
              "--overwrite-output-dir", "-q"]
    env = {"PYTHONPATH": str(tmp_path)}
    for trust in ("paper", "released"):
        r = cli(["grpo", "--model", tiny_models["llama"], "--output-dir", str(tmp_path / trust),
                 "--thinking-reward", "judge:score", "--trust", trust, *common], text, env=env)
        rows = [json.loads(x) for x in r.out.splitlines()]
        assert r.rc == 0 and len(rows) == 2, r.stderr
        assert {"thinking", "trust_gamma", "think_weight", "thinking_calls"} <= rows[0].keys()
    frames = frames_records(red_png, tmp_path)
    data = "".join(json.dumps(x) + "\n" for x in frames[:2]).encode()
    r = cli(["grpo", "--model", tiny_models["qwen2-vl"], "--output-dir", str(tmp_path / "t"),
             "--temporal", "--rollouts", str(tmp_path / "t.jsonl"), *common[:-6],
             "--max-steps", "1", "--reward", "accuracy", "--overwrite-output-dir", "-q"], data)
    rows = [json.loads(x) for x in r.out.splitlines()]
    assert r.rc == 0 and {"temporal_fired", "temporal_p", "temporal_p_shuffled"} <= rows[0].keys(), r.stderr
    rollouts = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert sum(x["frames_shuffled"] for x in rollouts) == 4 and len(rollouts) == 12


@pytest.mark.parametrize("scale,length,warns", [("group", 0.0, True), ("batch", 0.0, False),
                                                 ("group", 0.2, False)])
def test_a_temporal_bonus_that_only_rescales_is_reported(caplog, scale, length, warns):
    """Video-R1 #51: (1, 0) -> (1.3, 0) is undone by per-group std normalisation."""
    from types import SimpleNamespace

    from thinkpipe.tools.grpo.collect import Group
    from thinkpipe.tools.grpo.variants import TemporalBonus

    def comp(acc):
        return SimpleNamespace(reward=acc, rewards={"accuracy": acc})
    group = Group([comp(1.0), comp(0.0)])
    group.shuffled = [comp(0.0)]
    bonus = TemporalBonus(ShapingConfig(temporal=True, length_bonus=length), scale)
    with caplog.at_level("WARNING", logger="thinkpipe.grpo"):
        bonus([group], 0)
    assert ("only rescales rewards" in caplog.text) == warns
    assert [c.reward for c in group] == pytest.approx([1.3, 0.0])
