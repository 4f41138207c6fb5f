import pytest

from thinkpipe.tools.plot import PlotConfig, collect, missing, smooth


def test_smoothing_is_tensorboards_debiased_ema_by_hand():
    # W = 0.5: m1 = 0.5, s1 = 0.5 / 0.5 = 1; m2 = 0.25 + 1.5 = 1.75, s2 = 1.75 / 0.75
    assert smooth([1.0, 3.0], 0.5) == pytest.approx([1.0, 1.75 / 0.75])
    assert smooth([2.0, 5.0], 0.0) == [2.0, 5.0]
    assert smooth([4.0] * 5, 0.9) == pytest.approx([4.0] * 5)     # no pull towards 0


def test_curves_per_file_or_label_skip_non_numbers_and_fall_back_to_the_index():
    a = [{"step": 1, "loss": 2.0, "reward": 0.1}, {"step": 2, "loss": 1.0},
         {"summary": True, "loss": "n/a"}, {"loss": True}]
    b = [{"model": "m1", "reward": 0.5}, {"model": "m2", "reward": 0.7}, {"model": "m1", "reward": 0.9}]
    curves = collect([("a.jsonl", iter(a)), ("b.jsonl", iter(b))], PlotConfig(y=("loss", "reward")))
    assert curves["loss"] == {"a.jsonl": ([1.0, 2.0], [2.0, 1.0])}       # strings, bools left out
    assert curves["reward"]["a.jsonl"] == ([1.0], [0.1])
    assert curves["reward"]["b.jsonl"] == ([0, 1, 2], [0.5, 0.7, 0.9])  # no step: the index
    by_model = collect([("b.jsonl", iter(b))], PlotConfig(y=("reward",), label="model"))
    assert by_model["reward"] == {"m1": ([0, 1], [0.5, 0.9]), "m2": ([0], [0.7])}
    assert missing(collect([("a", iter(a))], PlotConfig(y=("kl",)))) == ["kl"]


def test_config_refuses_what_cannot_be_drawn():
    with pytest.raises(ValueError, match="--smooth"):
        PlotConfig(y=("loss",), smooth=1.0)
    with pytest.raises(ValueError, match="--y"):
        PlotConfig(y=())
