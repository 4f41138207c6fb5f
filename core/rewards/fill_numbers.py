"""MME-Reasoning's twelve "fill the numbers" checkers (`calculate_answer_function_1..12`).

Each item asks the model to put numbers on the lettered cells of a figure; its answer, parsed
from JSON, is a dict letter -> number. A checker takes (answer, gold, info) and ignores gold and
info: any assignment meeting the constraints counts. Restated from the official function4eval.py:

    id  keys            values                                  constraints
    1   A B C           any numbers                             A/B = 3, C/B = 2 (B = 0 fails)
    2   A-F             any numbers                             ABC, CEF, ADF each sum to 25
    3   A-O (15)        the set {1..15}                         diamonds ADEH CEGH IGJH NMJH OMHL
                                                                KLHF BFHD each sum to 30
    4   A-I (9)         the set {1..9}                          ABED BCEF DEGH EFHI BDHF ACIG = 20
    5   A-Q (17)        each in {5,10,15,20}; at most five      ABC AGO OPQ CKQ ADINQ CFILO BEIMP
                        20s, three 15s, three 10s, six 5s       GHIJK each sum to 55
    6   A-S (19)        the set {1..19}                         AJS CJQ EJO GJM IJK LJH NJF PJD
                                                                RJB each sum to 30
    7   A-L (12)        the set {1..12}                         ACFH ADGK BCDE HIJK BFIL EGJL = 26
    8   A-M (13)        distinct integers in 1..15              ABC AFK BDE BEH CHM DGJ EGI FIL
                                                                HJI KLM each sum to 20
    9   A-S (19)        the set {1..19}                         ABC ADH AEJ CFJ CGL HIJ HMQ JKL
                                                                JNQ JOS LPS QRS each sum to 22
    10  A-F             the set {1..6}                          A+B+D = D+E+F = A+C+F
    11  A-G (7)         values of A-G are exactly               A+C+9 = B+C+D = F+E+D = E+G+6 = 19
                        {1,2,3,5,7,8} (one repeats)
    12  A C T D O G     any numbers (official);                 CAT + DOG = PETS read as decimal
        P E S           distinct digits, C D P != 0 (strict)    numbers

"The set {1..n}" is the set of ALL the dict's values, as in the official `set(answer.values())`:
an extra key holding a new value fails, one repeating a value passes. Checker 5 likewise counts
all values. Elsewhere extra keys are ignored: strict 8 and 11 look at the listed keys only,
the official ones at every value of the dict, as function4eval.py does.

Numbers are int or float; bools, NaN, infinities, strings (even "5") and anything else make the
answer False. The official code does arithmetic on the JSON values, so a numeric string never
passes there either. Arithmetic is exact: floats are read as the decimal they print as
(Fraction("0.1")), so A=0.3, B=0.1, C=0.2 passes checker 1 where the official float division
gives 2.9999999999999996. Integer sets and ranges hold integral values only, and 5.0 counts as 5.
The functions never raise: of the official ones only 1 and 2 catch exceptions, the others crash
on e.g. unhashable values or a string compared with a number; here anything unexpected is False.

Where the official code is impossible or lax (both kept, in both modes):
    8   never True: BDE and BEH share B and E, so D = H, but the values must be distinct
        (the official range test also lets 2.5 through; moot, and not kept).
    11  strict never True: no cell can hold 1 (A or C = 1 needs the other to be 9, E or G = 1
        needs 12, B, D or F = 1 leaves two cells summing to 18 > 8 + 8), yet 1 must appear.
        Officially the set is over every value, so an extra key can bring the 1
        ({"A": 2, "B": 3, "C": 8, "D": 8, "E": 8, "F": 3, "G": 5, "X": 1, "Y": 7} passes).
    12  official accepts any numbers, all zeros included; the strict CHECKERS want a real
        cryptarithm solution (e.g. 239 + 857 = 1096). Checkers 1-7, 9 and 10 are the same in
        both modes. Values are numbers in both (official arithmetic on strings is not kept).
"""
from __future__ import annotations

import math
import re
from collections import Counter
from fractions import Fraction
from string import ascii_uppercase
from typing import Any, Callable, NamedTuple

Values = Callable[[list, int], bool]     # (values in scope, number of listed keys) -> ok


class Spec(NamedTuple):
    keys: str                            # letters that must all be present
    equations: tuple[str, ...]           # linear equations, e.g. "A+B+D = D+E+F", "A = 3B"
    values: Values | None = None         # rule on the values; None: any numbers
    over_all: bool = False               # rule sees every value in the dict, not just `keys`
    nonzero: str = ""                    # letters that must not be 0


_COINS = {20: 5, 15: 3, 10: 3, 5: 6}    # value -> how many times it may appear (checker 5)


def _integral(values: list, low: int, high: int) -> bool:
    return all(v.denominator == 1 and low <= v <= high for v in values)


def _perm(values: list, n: int) -> bool:
    return set(values) == set(range(1, n + 1))


def _coins(values: list, n: int) -> bool:
    counts = Counter(values)
    return all(v in _COINS for v in counts) and all(counts[v] <= most for v, most in _COINS.items())


def _distinct_upto_15(values: list, n: int) -> bool:
    return len(set(values)) == len(values) and _integral(values, 1, 15)


def _distinct_in_1_15(values: list, n: int) -> bool:
    """The official checker 8: every value of the dict distinct and within 1..15 (2.5 too)."""
    return len(set(values)) == len(values) and all(1 <= v <= 15 for v in values)


def _set_11(values: list, n: int) -> bool:
    return set(values) == {1, 2, 3, 5, 7, 8}


def _digits(values: list, n: int) -> bool:
    return len(set(values)) == len(values) and _integral(values, 0, 9)


def _sums(lines: str, target: int) -> tuple[str, ...]:
    """"ABC ADF" and 25 -> ("A+B+C = 25", "A+D+F = 25")."""
    return tuple(f"{'+'.join(line)} = {target}" for line in lines.split())


_TERM = re.compile(r"(\d*)([A-Z]?)")


def _linear(equation: str) -> dict[str, int]:
    """"A+C+9 = 19" -> {"A": 1, "C": 1, "": -10}: coefficients of left minus right, "" the
    constant; the equation holds when sum(coef * value) + constant == 0."""
    form: Counter = Counter()
    for sign, side in zip((1, -1), equation.replace(" ", "").split("=")):
        for term in side.split("+"):
            coef, key = _TERM.fullmatch(term).groups()
            form[key] += sign * int(coef or 1)
    return {k: c for k, c in form.items() if c}


def _number(v: Any) -> Fraction | None:
    """int or finite float -> exact Fraction (a float as the decimal it prints as); else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    if isinstance(v, float):
        return Fraction(repr(v)) if math.isfinite(v) else None
    return Fraction(v)


def _holds(spec: Spec, forms: list[dict[str, int]], answer: Any) -> bool:
    if not isinstance(answer, dict) or any(k not in answer for k in spec.keys):
        return False
    nums = {k: _number(answer[k]) for k in spec.keys}
    if any(v is None for v in nums.values()):
        return False
    if spec.values is not None:
        scope = [_number(v) for v in answer.values()] if spec.over_all else list(nums.values())
        if any(v is None for v in scope) or not spec.values(scope, len(spec.keys)):
            return False
    if any(nums[k] == 0 for k in spec.nonzero):
        return False
    return all(sum(c * nums[k] for k, c in form.items() if k) + form.get("", 0) == 0
               for form in forms)


def _checker(spec: Spec) -> Callable[[Any, Any, dict], bool]:
    forms = [_linear(e) for e in spec.equations]

    def check_answer(answer: Any, gold: Any = None, info: Any = None) -> bool:
        try:
            return bool(_holds(spec, forms, answer))
        except Exception:                # garbage of any shape is simply a wrong answer
            return False
    return check_answer


def _letters(n: int) -> str:
    return ascii_uppercase[:n]


_CAT_DOG = "100C+10A+T + 100D+10O+G = 1000P+100E+10T+S"
SPECS: dict[int, Spec] = {
    1: Spec("ABC", ("A = 3B", "C = 2B"), nonzero="B"),
    2: Spec(_letters(6), _sums("ABC CEF ADF", 25)),
    3: Spec(_letters(15), _sums("ADEH CEGH IGJH NMJH OMHL KLHF BFHD", 30), _perm, over_all=True),
    4: Spec(_letters(9), _sums("ABED BCEF DEGH EFHI BDHF ACIG", 20), _perm, over_all=True),
    5: Spec(_letters(17), _sums("ABC AGO OPQ CKQ ADINQ CFILO BEIMP GHIJK", 55), _coins, over_all=True),
    6: Spec(_letters(19), _sums("AJS CJQ EJO GJM IJK LJH NJF PJD RJB", 30), _perm, over_all=True),
    7: Spec(_letters(12), _sums("ACFH ADGK BCDE HIJK BFIL EGJL", 26), _perm, over_all=True),
    8: Spec(_letters(13), _sums("ABC AFK BDE BEH CHM DGJ EGI FIL HJI KLM", 20), _distinct_upto_15),
    9: Spec(_letters(19), _sums("ABC ADH AEJ CFJ CGL HIJ HMQ JKL JNQ JOS LPS QRS", 22), _perm,
            over_all=True),
    10: Spec(_letters(6), ("A+B+D = D+E+F", "D+E+F = A+C+F"), _perm, over_all=True),
    11: Spec(_letters(7), ("A+C+9 = 19", "B+C+D = 19", "F+E+D = 19", "E+G+6 = 19"), _set_11),
    12: Spec("ACTDOGPES", (_CAT_DOG,), _digits, nonzero="CDP"),
}
OFFICIAL_SPECS: dict[int, Spec] = {
    **SPECS, 8: SPECS[8]._replace(values=_distinct_in_1_15, over_all=True),
    11: SPECS[11]._replace(over_all=True), 12: Spec("ACTDOGPES", (_CAT_DOG,))}

CHECKERS: dict[str, Callable[[Any, Any, dict], bool]] = {
    f"calculate_answer_function_{n}": _checker(spec) for n, spec in SPECS.items()}
OFFICIAL: dict[str, Callable[[Any, Any, dict], bool]] = {
    f"calculate_answer_function_{n}": _checker(spec) for n, spec in OFFICIAL_SPECS.items()}


def check(n: int, answer: Any, strict: bool = True) -> bool:
    """Checker `n` (1..12) on a parsed answer; strict=False gives the official semantics.
    An unknown `n` is the caller's mistake and raises ValueError; answers never raise."""
    table = CHECKERS if strict else OFFICIAL
    fn = table.get(f"calculate_answer_function_{n}") if isinstance(n, int) else None
    if fn is None:
        raise ValueError(f"no fill-the-numbers checker {n!r}; expected 1..12")
    return fn(answer, None, {})
