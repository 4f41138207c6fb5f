"""A line's exact moments (stats.Moments): the intervals of the scores, in constant memory."""
import math
import random

from thinkpipe.tools.evaluate.stats import Z, Moments, interval, mean_ci, wilson


def _moments(xs):
    m = Moments()
    for x in xs:
        m.add(x)
    return m


def test_hand_computed():
    mean, lo, hi = interval([0.5, 1.0, 0.0])          # s = 0.5; half = 1.96 · 0.5 / √3 = 0.566
    assert mean == 0.5 and lo == 0.0 and hi == 1.0
    mean, lo, hi = interval([0.25, 0.5, 0.75, 0.5])   # s = √(0.125/3) = 0.2041
    half = Z * math.sqrt(0.125 / 3) / 2
    assert mean == 0.5 and math.isclose(lo, 0.5 - half) and math.isclose(hi, 0.5 + half)
    assert interval([1.0, 0.0, 1.0, 1.0]) == (0.75, *wilson(3, 4))
    assert all(math.isnan(v) for v in interval([]))
    assert math.isnan(interval([0.3])[1]) and interval([0.3])[0] == 0.3
    assert math.isnan(interval([0.2, float("nan")])[0])


def test_equal_to_the_two_pass_interval_and_the_same_bits_however_merged():
    rng = random.Random(0)
    xs = [rng.choice([0.0, 1.0, rng.random(), round(rng.random(), 2)]) for _ in range(5000)]
    mean, lo, hi = interval(xs)
    ref = mean_ci(xs)
    assert math.isclose(mean, ref[0], rel_tol=1e-13) and math.isclose(lo, ref[1], rel_tol=1e-12)
    whole = _moments(xs).interval()
    for cut in (1, 777, 2500, 4999):
        merged = _moments(xs[:cut])
        merged.merge(_moments(xs[cut:]))
        assert merged.interval() == whole              # bit for bit, as --workers needs
    assert _moments(reversed(xs)).interval() == whole


def test_memory_does_not_grow_with_the_scores():
    small, large = _moments([0.3, 0.7] * 10), _moments([0.3, 0.7] * 100_000)
    assert large.s1.bit_length() - small.s1.bit_length() < 20     # log2(n) bits, not n floats
    assert len(large) == 200_000
