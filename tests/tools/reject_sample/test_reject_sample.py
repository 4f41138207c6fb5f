"""reject-sample: requirements, keep rules and counts on samples with known outcomes."""
import pytest

from thinkpipe.core.rewards import load_reward
from thinkpipe.tools.reject_sample import RejectConfig, Requirement, process, sample_seed

GOOD = "<think>look</think><answer>B</answer>"
DRAW = ('<think>mark it</think> Action: Object Mapper\n```json\n[{"index": 1, "bbox_2d": [1, 1, 9, 9], '
        '"label": "x"}]\n```')
REDRAW = DRAW.replace("[1, 1, 9, 9]", "[2, 2, 9, 9]")
ANSWER = "<think>so</think> Action: Answer\n<answer>B</answer>"


def judged(record, **kw):
    cfg = RejectConfig(**kw)
    fns = [load_reward(s) for s in cfg.rewards]
    (index, samples), = list(process(iter([(0, "f:1", record)]), cfg, None, fns))
    return samples


def test_requirements_and_reasons():
    rec = {"id": "r", "options": ["x", "y"], "answer": "B",
           "responses": [GOOD, "<answer>B</answer>", "<think>no</think><answer>A</answer>", "???"]}
    samples = judged(rec, require=Requirement.parse("correct,format"))
    assert [s.accepted for s in samples] == [True, False, False, False]
    assert samples[1].failed == ["format"] and samples[2].failed == ["correct"]
    assert samples[3].failed == ["correct", "format"] and samples[3].status == "unparseable"


def test_multi_turn_responses_reflection_and_min_turns():
    convo = [{"role": "assistant", "content": DRAW}, {"role": "user", "content": "seen"},
             {"role": "assistant", "content": REDRAW}, {"role": "user", "content": "seen"},
             {"role": "assistant", "content": ANSWER}]
    flat = [{"role": "assistant", "content": ANSWER}]
    rec = {"id": "m", "options": ["x", "y"], "answer": "B", "responses": [convo, flat]}
    samples = judged(rec, require=Requirement.parse("correct,format,reflection,min-turns=3"))
    assert samples[0].accepted and samples[0].turns == 3 and samples[0].reflection == 1
    assert set(samples[1].failed) == {"reflection", "min-turns=3"}


@pytest.mark.parametrize("keep, want", [("all", [0, 1, 2]), ("first", [0]), ("2", [0, 1]),
                                        ("best", [2])])
def test_keep_rules_and_kept_out_samples_say_why(keep, want):
    rec = {"id": "k", "answer": "3", "question_type": "regression",
           "responses": ["<answer>2.7</answer>", "<answer>2.8</answer>", "<answer>3</answer>"]}  # MRA .9 .9 1
    samples = judged(rec, require=Requirement.parse("min-reward=0.1"), keep=keep)
    assert [s.k for s in samples if s.accepted] == want
    assert all(s.failed == ["keep"] for s in samples if not s.accepted)


def test_bad_requirement_specs():
    for spec in ("corect", "min-turns", "format=1"):
        with pytest.raises(ValueError):
            Requirement.parse(spec)


def test_seeds_depend_on_record_and_sample_only():
    assert sample_seed(0, "a", 1) == sample_seed(0, "a", 1) != sample_seed(0, "a", 2)
    assert sample_seed(1, "a", 1) != sample_seed(0, "a", 1)
