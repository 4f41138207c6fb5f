"""thinkpipe eval: statistics, summaries, official loaders, the judge cache, the command."""
import os

import pytest

from thinkpipe.core.records import ErrorPolicy
from thinkpipe.core.rewards import Judge
from thinkpipe.tools.evaluate import EvalConfig, Summary, evaluate, loaders
from thinkpipe.tools.evaluate.stats import mcnemar, wilson

HERE = os.path.dirname(__file__)


def fixture(name):
    return os.path.join(HERE, "fixtures", name)


def test_wilson_and_mcnemar_hand_computed():
    lo, hi = wilson(8, 10)           # textbook value: [0.4902, 0.9433]
    assert lo == pytest.approx(0.4902, abs=1e-4) and hi == pytest.approx(0.9433, abs=1e-4)
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == pytest.approx(1.0)
    assert mcnemar(0, 5) == pytest.approx(2 / 32)   # 2 * (1/2)^5
    assert mcnemar(3, 3) == 1.0


def run(items, **kw):
    cfg = EvalConfig(**kw)
    summary = Summary(cfg.group_by, cfg.macro)
    out = list(evaluate(items, cfg, ErrorPolicy(), summary))
    return out, {(r["group"], r["label"]): r for r in summary.rows()}


def test_mme_reasoning_loader_and_multi_label_groups():
    items = loaders.load("mme_reasoning", [fixture("mme_reasoning.tsv")], ErrorPolicy())
    out, rows = run(items, benchmark="mme_reasoning", group_by=("capability", "reasoning_type"))
    assert [r["status"] for r in out] == ["correct"] * 5
    assert out[1]["capability"] == ["calculation", "pattern analysis"]
    assert rows[("capability", "calculation")]["n"] == 3        # item 2 counts in both
    assert rows[("capability", "pattern analysis")]["n"] == 2


def test_av_odyssey_official_versus_strict():
    load = lambda: loaders.load("av_odyssey", [fixture("av_odyssey.json")], ErrorPolicy())  # noqa
    strict, _ = run(load(), benchmark="av_odyssey")
    official, _ = run(load(), benchmark="av_odyssey", compat="official")
    assert [r["score"] for r in strict] == [1.0, 1.0]
    assert [r["extracted"] for r in official] == ["A", "A"]    # "Answer: B" read as A
    assert strict[0]["options"][0] == "violin" and strict[0]["audios"] == ["audio/q1.wav"]


def test_vsibench_macro_average_merges_direction_levels():
    items = loaders.load("vsibench", [fixture("vsibench.jsonl")], ErrorPolicy())
    out, rows = run(items, benchmark="vsibench", macro="vsi_type")
    assert rows[("vsi_type", "object_rel_direction")]["n"] == 2
    macro = rows[("overall", "macro over vsi_type")]["mean"]
    # counting 1.0, room size MRA(22 vs 20) = 0.9 (e = 0.1), direction 0.5 -> mean of 3 tasks
    assert macro == pytest.approx((1.0 + 0.9 + 0.5) / 3)


def test_judge_is_asked_only_when_rules_fail_and_is_cached(tmp_path, monkeypatch):
    mod = tmp_path / "fakejudge.py"
    mod.write_text("CALLS = []\ndef judge(record, output):\n    CALLS.append(output)\n"
                   "    return '1' if 'second' in output else '0'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    items = [("f:1", {"id": "a", "options": ["x", "y"], "answer": "B",
                      "response": "I pick the second one"}),
             ("f:2", {"id": "b", "options": ["x", "y"], "answer": "B", "response": "<answer>B</answer>"})]
    judge = Judge("fakejudge:judge", cache_dir=str(tmp_path / "cache"))
    assert judge.decide(items[0][1], items[0][1]["response"]) == 1.0
    import fakejudge
    assert len(fakejudge.CALLS) == 1
    out, _ = run([(w, dict(r)) for w, r in items], judge="fakejudge:judge",
                 judge_cache=str(tmp_path / "cache"))
    assert [r["status"] for r in out] == ["correct", "correct"]
    assert out[0]["verifier"] == "judge:fakejudge:judge"
    # asked once, for the answer rules could not read; the cache answered the second time and
    # the rule-read "<answer>B</answer>" never reached the judge
    assert fakejudge.CALLS == ["I pick the second one"]


def test_judge_failures_are_not_counted_as_wrong(tmp_path, monkeypatch):
    (tmp_path / "mute.py").write_text("def judge(record, output):\n    return 'maybe'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out, rows = run([("f:1", {"options": ["x", "y"], "answer": "A", "response": "unsure"})],
                    judge="mute:judge", judge_cache=str(tmp_path / "c"))
    assert out[0]["status"] == "judge_failed" and out[0]["score"] is None
    assert rows[("overall", "all")]["scored"] == 0


def test_official_compat_needs_a_benchmark():
    with pytest.raises(ValueError):
        EvalConfig(compat="official")


def test_paired_difference_interval_stays_in_range_and_is_newcombes():
    from thinkpipe.tools.evaluate.stats import newcombe_paired, paired
    # two discordant pairs: Wilson(1, 2) = 0.5 +- 0.40549, phi = -1, so D = 0 +- 2 x 0.40549
    d, lo, hi = paired([1.0, 0.0], [0.0, 1.0])
    assert d == 0 and lo == pytest.approx(-0.81098, abs=1e-4) and hi == pytest.approx(0.81098, abs=1e-4)
    d, lo, hi = newcombe_paired(both=12, only_a=9, only_b=2, neither=21)   # Newcombe 1998, Table II:
    assert d == pytest.approx(7 / 44)                                     # method 10 gives
    assert (lo, hi) == pytest.approx((0.0112, 0.2955), abs=5e-4)         # 0.0112 to 0.2955
    assert paired([1.0] * 5, [0.0] * 5)[2] <= 1.0 and paired([0.5, 1.0], [0.0, 0.0])[2] <= 1.0


GOOD_TURNS = ['<think>Start and goal first.</think> Action: Object Mapper\n```json\n[{"index": 1, '
              '"bbox_2d": [0, 0, 10, 10], "label": "start S"}]\n```',
              '<think>S is not connected to G.</think> Action: Answer\n<answer>B</answer>']


def test_trajectory_rates_come_from_generated_turns_and_pair_groups_cross():
    def item(i, model, split, turns):
        return (f"x:{i}", {"id": f"m{i}", "question": "Can G be reached?", "options": ["Yes", "No"],
                           "answer": "B", "model": model, "split": split, "prompt_template": "vilasr",
                           "turns": turns, "response": turns[-1],
                           "messages": [{"role": "assistant", "content": t} for t in GOOD_TURNS]})
    items = [item(0, "a", "train", GOOD_TURNS), item(1, "a", "held", ["rambling"]),
             item(2, "b", "train", ["no <answer>"]), item(3, "b", "train", GOOD_TURNS)]
    out, rows = run(iter(items), group_by=("model+split",))
    assert [o["format"] for o in out] == [1.0, 0.0, 0.0, 1.0]      # the gold messages are ignored
    assert set(rows) == {("overall", "all"), ("model+split", "a · train"),
                         ("model+split", "a · held"), ("model+split", "b · train")}
    b = rows[("model+split", "b · train")]
    assert b["n"] == 2 and b["mean"] == 0.5 and b["rates"]["format"]["mean"] == 0.5
    lo, hi = wilson(1, 2)
    assert (b["rates"]["format"]["ci_low"], b["rates"]["format"]["ci_high"]) == (lo, hi)
    assert rows[("overall", "all")]["rates"]["reflection"]["mean"] == 0.0


def test_records_that_are_not_trajectories_get_no_rates():
    out, rows = run(iter([("x:1", {"id": "q", "question": "2+2?", "answer": "4", "response": "4"})]))
    assert "format" not in out[0] and "rates" not in rows[("overall", "all")]
