"""LR multipliers, hand-computed."""
import math

import pytest

from thinkpipe.core.train.schedules import multiplier


def test_warmup_is_linear_from_zero():
    f = multiplier("constant", warmup=4, total=10)
    assert [f(s) for s in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_linear_and_cosine_reach_zero():
    lin, cos = multiplier("linear", 0, 10), multiplier("cosine", 0, 10)
    assert lin(5) == 0.5 and lin(10) == 0.0
    assert cos(0) == 1.0 and cos(5) == pytest.approx(0.5) and cos(10) == pytest.approx(0.0)


def test_cosine_min_ends_at_the_floor():
    f = multiplier("cosine_min", warmup=2, total=12, min_lr_ratio=0.1)
    assert f(2) == 1.0
    assert f(7) == pytest.approx(0.1 + 0.9 * 0.5)
    assert f(12) == pytest.approx(0.1) and f(50) == pytest.approx(0.1)
    assert f(4) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.2)))
