"""MME-Reasoning "fill the numbers" checkers: real solutions pass, broken ones and garbage fail."""
from itertools import product

import pytest

from thinkpipe.core.rewards.fill_numbers import CHECKERS, OFFICIAL, check

# Solutions found by a small backtracking search, then hard-coded. 8 and 11 have none.
SOLUTIONS = {
    1: dict(A=6, B=2, C=4),
    2: dict(A=10, B=10, C=5, D=5, E=10, F=10),
    3: dict(A=1, B=12, C=5, D=8, E=14, F=3, G=4, H=7, I=13, J=6, K=9, L=11, M=2, N=15, O=10),
    4: dict(A=1, B=6, C=7, D=8, E=5, F=2, G=3, H=4, I=9),
    5: dict(A=15, B=20, C=20, D=5, E=5, F=5, G=20, H=5, I=5, J=10, K=15, L=5, M=10, N=10, O=20,
            P=15, Q=20),
    6: dict(A=1, B=11, C=2, D=12, E=3, F=13, G=4, H=14, I=5, J=10, K=15, L=6, M=16, N=7, O=17,
            P=8, Q=18, R=9, S=19),
    7: dict(A=1, B=8, C=2, D=9, E=7, F=11, G=10, H=12, I=3, J=5, K=6, L=4),
    9: dict(A=1, B=9, C=12, D=18, E=19, F=8, G=6, H=3, I=17, J=2, K=16, L=4, M=14, N=15, O=13,
            P=11, Q=5, R=10, S=7),
    10: dict(A=1, B=4, C=6, D=5, E=2, F=3),
    12: dict(C=2, A=3, T=9, D=8, O=5, G=7, P=1, E=0, S=6),          # 239 + 857 = 1096
}
SETS = (3, 4, 6, 7, 9, 10)                  # "the set {1..n}" over all of the dict's values
BOTH = pytest.mark.parametrize("strict", [True, False])


def run(n, answer, strict):
    return check(n, answer, strict)


@BOTH
@pytest.mark.parametrize("n", sorted(SOLUTIONS))
def test_real_solutions_pass_and_gold_info_are_ignored(n, strict):
    sol = SOLUTIONS[n]
    assert run(n, sol, strict)
    table = CHECKERS if strict else OFFICIAL
    assert table[f"calculate_answer_function_{n}"](dict(sol), {"A": 999}, {"whatever": 1})
    assert run(n, {k: float(v) for k, v in sol.items()}, strict)          # 5.0 counts as 5


def _swapped(sol):
    keys = list(sol)
    k1 = keys[0]
    k2 = next(k for k in keys if sol[k] != sol[k1])
    return {**sol, k1: sol[k2], k2: sol[k1]}


@BOTH
@pytest.mark.parametrize("n", sorted(SOLUTIONS))
def test_broken_variants_fail(n, strict):
    sol = SOLUTIONS[n]
    first = next(iter(sol))
    assert not run(n, _swapped(sol), strict)
    assert not run(n, {k: v for k, v in sol.items() if k != first}, strict)      # missing key
    assert not run(n, {**sol, first: str(sol[first])}, strict)                  # "5" is no number
    assert not run(n, {**sol, first: sol[first] + 0.5}, strict)                 # e.g. 2.5
    assert not run(n, {**sol, first: None}, strict)
    assert not run(n, {**sol, first: [sol[first]]}, strict)                     # unhashable


@BOTH
def test_extra_keys(strict):
    for n in SETS:
        sol = SOLUTIONS[n]
        assert not run(n, {**sol, "Z": len(sol) + 1}, strict)   # the set of values grows
        assert run(n, {**sol, "Z": 1}, strict)                  # official set(): a repeat passes
        assert not run(n, {**sol, "Z": "note"}, strict)
    assert not run(5, {**SOLUTIONS[5], "Z": 5}, strict)         # a seventh 5
    for n in (1, 2, 12):                                        # extra keys are ignored
        assert run(n, {**SOLUTIONS[n], "Z": "note", "note": None}, strict)


@BOTH
def test_any_number_checkers_compare_exactly(strict):
    assert run(1, {"A": 0.3, "B": 0.1, "C": 0.2}, strict)      # official float: 2.9999999999999996
    assert run(1, {"A": 3 * 10 ** 400, "B": 10 ** 400, "C": 2 * 10 ** 400}, strict)
    assert run(1, {"A": 1.5e308, "B": 0.5e308, "C": 1e308}, strict)
    assert not run(1, {"A": 0, "B": 0, "C": 0}, strict)         # B = 0: the official divides by 0
    assert not run(1, {"A": 6, "B": 2, "C": 4.000000001}, strict)
    assert run(2, {"A": 12.5, "B": 7.5, "C": 5, "D": 2.5, "E": 10, "F": 10}, strict)
    assert not run(2, {"A": 12.5, "B": 7.5, "C": 5, "D": 2.5, "E": 10, "F": 10.1}, strict)
    assert not run(2, {**SOLUTIONS[2], "A": 10 ** 400}, strict)


def test_coins_of_checker_5():
    sol = SOLUTIONS[5]
    assert sorted(sol.values()).count(20) == 5
    assert not check(5, {**sol, "A": 25, "B": 10})              # 25 is no allowed value
    # every line sums to 55, but with eight 5s and six 20s
    over = dict(A=15, B=20, C=20, D=5, E=5, F=5, G=20, H=5, I=5, J=5, K=20, L=5, M=5, N=15, O=20,
                P=20, Q=15)
    lines = "ABC AGO OPQ CKQ ADINQ CFILO BEIMP GHIJK".split()
    assert all(sum(over[k] for k in line) == 55 for line in lines)
    assert not check(5, over) and not check(5, over, strict=False)


@BOTH
def test_checker_8_is_impossible(strict):
    # BDE and BEH both sum to 20, so D = H, which distinctness forbids: brute force the four.
    rng = range(1, 16)
    assert all(d == h for b, d, e, h in product(rng, repeat=4) if b + d + e == 20 == b + e + h)
    # every line sums to 20 here; only the repeated values (D = H among them) are wrong
    near = dict(A=1, B=4, C=15, D=4, E=12, F=8, G=4, H=4, I=4, J=12, K=11, L=8, M=1)
    lines = "ABC AFK BDE BEH CHM DGJ EGI FIL HJI KLM".split()
    assert all(sum(near[k] for k in line) == 20 for line in lines)
    assert not run(8, near, strict)
    assert not run(8, dict(zip("ABCDEFGHIJKLM", range(1, 14))), strict)


@BOTH
def test_checker_11_is_impossible(strict):
    keys, pool = "ABCDEFG", (1, 2, 3, 5, 7, 8)
    fits = [dict(zip(keys, p)) for p in product(pool, repeat=7)
            if p[0] + p[2] == 10 and p[1] + p[2] + p[3] == 19 == p[5] + p[4] + p[3]
            and p[4] + p[6] == 13]
    assert fits and all(1 not in a.values() for a in fits)      # no cell can hold a 1
    assert not any(run(11, a, strict) for a in fits)
    assert not run(11, dict(A=1, B=2, C=3, D=5, E=7, F=8, G=8), strict)   # the set, wrong sums


def test_checker_12_strict_and_official():
    zeros = dict.fromkeys("ACTDOGPES", 0)
    assert check(12, zeros, strict=False) and not check(12, zeros)
    repeats = dict(C=5, A=0, T=0, D=5, O=0, G=0, P=1, E=0, S=0)   # 500 + 500 = 1000
    assert check(12, repeats, strict=False) and not check(12, repeats)
    halves = dict(C=0, A=0, T=0, D=0, O=0, G=0.5, P=0, E=0, S=0.5)
    assert check(12, halves, strict=False) and not check(12, halves)
    assert not check(12, {**SOLUTIONS[12], "S": 16}, strict=False)
    lead = dict(C=1, A=2, T=5, D=6, O=3, G=4, P=0, E=7, S=9)     # 125 + 634 = 0759, P = 0
    assert check(12, lead, strict=False) and not check(12, lead)


GARBAGE = [None, [], [1, 2], "A=6", 42, set(), {}, {"A": None}, {"A": True, "B": True, "C": True},
           dict.fromkeys("ABCDEFGHIJKLMNOPQRS", True), dict.fromkeys("ABCDEFGHIJKLMNOPQRS", 10 ** 400),
           dict.fromkeys("ABCDEFGHIJKLMNOPQRS", float("nan")),
           dict.fromkeys("ABCDEFGHIJKLMNOPQRS", float("inf")),
           dict.fromkeys("ABCDEFGHIJKLMNOPQRS", [1]), dict.fromkeys("ABCDEFGHIJKLMNOPQRS", {})]


@BOTH
@pytest.mark.parametrize("n", range(1, 13))
def test_garbage_is_false_never_an_exception(n, strict):
    for answer in GARBAGE:
        assert run(n, answer, strict) is False
    assert run(n, {**SOLUTIONS.get(n, {}), "A": True}, strict) is False
    with pytest.raises(ValueError):
        check(13, {}, strict)
