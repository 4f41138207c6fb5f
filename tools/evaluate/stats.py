"""Confidence intervals and paired tests for evaluation summaries.

    wilson(k, n)          95% Wilson score interval of a proportion (0/1 scores): stays inside
                          [0, 1] and behaves at 0% and 100%, unlike mean +- 1.96 SE
    mean_ci(xs)           mean and 95% normal interval, mean +- 1.96 s / sqrt(n) (partial credit)
    Moments               a line's scores as exact count, sum and sum of squares (constant
                          memory); .interval() is Wilson for 0/1 scores, else mean_ci's, clipped
    mcnemar(b, c)         exact two-sided McNemar p: b items only A got right, c only B got right;
                          p = min(1, 2 P[X <= min(b, c)]), X ~ Binomial(b + c, 1/2)
    paired(a, b)          mean difference of paired scores with its 95% interval: for 0/1
                          scores Newcombe's (1998) method 10, which combines the two Wilson
                          intervals with the pairs' correlation and stays inside [-1, 1] (the
                          normal interval gives +-1.96 = +-196 points for two discordant pairs);
                          for partial credit the normal interval, clipped to [-1, 1]
"""
from __future__ import annotations

import math
from fractions import Fraction

Z = 1.959963984540054


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    if n == 0:
        return (math.nan, math.nan)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def mean_ci(xs: list[float], z: float = Z) -> tuple[float, float, float]:
    n = len(xs)
    if n == 0:
        return (math.nan, math.nan, math.nan)
    mean = sum(xs) / n
    if n == 1:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = z * sd / math.sqrt(n)
    return mean, mean - half, mean + half


class Moments:
    """The count, sum and sum of squares of a line's scores, in constant memory and exact: a
    finite float is p / 2^k with k <= 1074, so sums are kept as integers in units of 2^-SHIFT
    (squares 2^-2·SHIFT). Adding scores one at a time, or merging the moments of consecutive
    slices (--workers), gives the same bits in any order; 0 and 1 are counted apart (most scores).
        mean = S1 / n,   s^2 = (n S2 - S1^2) / (n (n - 1))   (exact, then rounded once)"""
    SHIFT = 1100
    __slots__ = ("ones", "zeros", "n_other", "s1", "s2", "nonfinite")

    def __init__(self):
        self.ones = self.zeros = self.n_other = self.s1 = self.s2 = self.nonfinite = 0

    def add(self, x: float) -> None:
        if x == 1.0:
            self.ones += 1
        elif x == 0.0:
            self.zeros += 1
        elif not math.isfinite(x):
            self.nonfinite += 1
        else:
            p, q = x.as_integer_ratio()               # q = 2^k
            k = q.bit_length() - 1
            self.n_other += 1
            self.s1 += p << (self.SHIFT - k)
            self.s2 += (p * p) << (2 * (self.SHIFT - k))

    def merge(self, other: "Moments") -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __len__(self) -> int:
        return self.ones + self.zeros + self.n_other + self.nonfinite

    def interval(self) -> tuple[float, float, float]:
        """(mean, low, high) of scores in [0, 1]: Wilson for 0/1 scores, else the normal
        interval clipped to [0, 1]."""
        n = len(self)
        if n == 0 or self.nonfinite:
            return (math.nan, math.nan, math.nan)
        if self.n_other == 0:
            return (self.ones / n, *wilson(self.ones, n))
        s1 = Fraction(self.s1, 1 << self.SHIFT) + self.ones
        s2 = Fraction(self.s2, 1 << (2 * self.SHIFT)) + self.ones
        mean = float(s1 / n)
        if n == 1:
            return mean, math.nan, math.nan
        half = Z * math.sqrt(float(max(n * s2 - s1 * s1, 0) / (n * (n - 1))) / n)
        return mean, max(0.0, mean - half), min(1.0, mean + half)


def interval(xs) -> tuple[float, float, float]:
    """(mean, low, high) of a list of scores in [0, 1] (Moments.interval)."""
    moments = Moments()
    for x in xs:
        moments.add(float(x))
    return moments.interval()


def mcnemar(b: int, c: int) -> float:
    n = b + c
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(b, c) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def newcombe_paired(both: int, only_a: int, only_b: int, neither: int,
                    z: float = Z) -> tuple[float, float, float]:
    """Difference p_a - p_b of paired proportions and its interval (Newcombe 1998, method 10):
        L = D - sqrt((p_a - l_a)^2 - 2 phi (p_a - l_a)(u_b - p_b) + (u_b - p_b)^2)
        U = D + sqrt((p_b - l_b)^2 - 2 phi (p_b - l_b)(u_a - p_a) + (u_a - p_a)^2)
    with (l, u) the Wilson intervals of the marginals and phi the continuity-corrected
    correlation (AD - BC - n/2 when AD > BC) / sqrt of the margins' product (0 if one is 0)."""
    n = both + only_a + only_b + neither
    if n == 0:
        return math.nan, math.nan, math.nan
    pa, pb = (both + only_a) / n, (both + only_b) / n
    la, ua = wilson(both + only_a, n, z)
    lb, ub = wilson(both + only_b, n, z)
    cross = both * neither - only_a * only_b
    cross = max(cross - n / 2, 0.0) if cross > 0 else cross
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = cross / math.sqrt(margins) if margins else 0.0
    d = pa - pb
    down_a, up_a, down_b, up_b = pa - la, ua - pa, pb - lb, ub - pb
    low = d - math.sqrt(max(0.0, down_a ** 2 - 2 * phi * down_a * up_b + up_b ** 2))
    high = d + math.sqrt(max(0.0, down_b ** 2 - 2 * phi * down_b * up_a + up_a ** 2))
    return d, max(-1.0, low), min(1.0, high)


def paired(a: list[float], b: list[float]) -> tuple[float, float, float]:
    if a and all(x in (0.0, 1.0) for x in a + b):
        cells = [sum(1 for x, y in zip(a, b) if (x, y) == cell)
                 for cell in ((1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0))]
        return newcombe_paired(*cells)
    mean, lo, hi = mean_ci([x - y for x, y in zip(a, b)])
    return mean, (lo if math.isnan(lo) else max(-1.0, lo)), (hi if math.isnan(hi) else min(1.0, hi))
