"""Verifiers by question type: (extracted answer, gold answer) -> score in [0, 1].

A verifier raises Unparseable when it cannot read the answer at all (the item's status is then
`unparseable`, not `incorrect`), and BadGold when the record's gold answer is unusable (a bad
record: exit 65 with file:line). A new question type is one function and one VERIFIERS entry.

    multiple_choice  option letters (choices.py: a gold or an answer may also be an option's
                     text); several gold letters means multi-select (sets must be equal)
    numerical        equal after rounding both to 2 decimals in decimal arithmetic, ties away
                     from zero (0.125 ~ 0.13; Video-R1's rule without its binary-float drift and
                     its decimal-point quirk), or within the record's absolute `tolerance`
    regression       MRA = (1/10) sum over theta in {0.50, 0.55, ..., 0.95} of 1[|y^ - y| / |y| <= 1 - theta]
                     computed in exact fractions (no float drift at the thresholds); y = 0 scores 1
                     only for y^ = 0 (the relative error is undefined; ViLaSR's +1e-8 does the same)
    ocr              1 - WER (word-level Levenshtein / reference words), clipped to [0, 1];
                     words NFC-normalised and compared case-sensitively, as Video-R1 and jiwer
                     (SophiaVL-R1) do; ocr_exp: exp(-WER), SophiaVL-R1's variant
    free_form        mean of ROUGE-1, ROUGE-2 and ROUGE-L F1 (lower-cased alphanumeric tokens)
    math             symbolic equivalence (math-verify), else numeric equality
    sequence         the same list of moves/items, case and separators ignored (mazes)
    exact            normalised string equality (NFC, case, whitespace, trailing period)
Official variants live in compat.py (first-letter rule, strict MRA, exp(-WER), ...).
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Any, Callable

from .bounds import MATH_CHARS
from .choices import gold_letters, labels, letters
from .distance import lcs, levenshtein
from .extract import decimal, number, parse_decimal

_WIDE = Context(prec=400, Emax=999999, Emin=-999999)   # quantize never overflows a float's range


class Unparseable(ValueError):
    """The answer cannot be read as this question type."""


class BadGold(ValueError):
    """The record's gold answer cannot be used by its question type: a bad record."""


def multiple_choice(answer: str, gold: Any, record: dict) -> float:
    """Option letters against gold letters (choices.py); several gold letters: multi-select,
    the sets must be equal. Without `options`, labels that are not letters ("2", "44") are
    compared as comma-separated sets, as MME-Reasoning's choice_function does."""
    options = record.get("options") if isinstance(record.get("options"), list) else None
    want = gold_letters(gold, options)
    if want is None:
        if options:
            raise BadGold(f"gold answer {str(gold)[:60]!r} is neither option letters nor the "
                          "text of an option")
        got, want = labels(answer), labels(gold)
        if want and all(w.isdigit() for w in want) and not all(g.isdigit() for g in got):
            got = _numeric_labels(answer, multi=len(want) > 1)   # a sentence naming labels
        if not got:
            raise Unparseable("empty answer")
        return float(got == want)
    got = letters(answer, len(options) if options else None, options, multi=len(want) > 1)
    if got is None:
        raise Unparseable(f"no unambiguous option in {answer[:60]!r}")
    return float(got == want)


def _numeric_labels(text: str, multi: bool) -> set[str]:
    """Numeric option labels named in a sentence: the last one for a single answer, those of
    the last line naming any for multi-select ("The answer is 44." -> {"44"})."""
    lines = [re.findall(r"(?<![\d.])\d+(?!\.?\d)", line) for line in text.splitlines()]
    found = [nums for nums in lines if nums]
    if not found:
        return set()
    return set(found[-1]) if multi else {found[-1][-1]}


def _gold_decimal(gold: Any) -> Decimal:
    if isinstance(gold, bool):
        raise BadGold(f"gold answer {gold!r} is not a number")
    value = parse_decimal(repr(gold)) if isinstance(gold, (int, float)) else decimal(str(gold))
    if value is None:
        raise BadGold(f"gold answer {str(gold)[:60]!r} is not a number")
    return value


def _gold_number(gold: Any) -> float:
    return float(_gold_decimal(gold))


TWO_PLACES = Decimal("0.01")


def numerical(answer: str, gold: Any, record: dict) -> float:
    """Equal after rounding both to 2 decimals, in decimal arithmetic on the numbers as written,
    ties away from zero (0.125 -> 0.13, 1.005 -> 1.01, -0.125 -> -0.13); a record's absolute
    `tolerance` replaces that rule (|got - want| <= tolerance, also exact)."""
    if answer.isdigit() and type(gold) is str and gold.isdigit() and len(answer) < 300 and \
            len(gold) < 300 and answer.isascii() and gold.isascii() and \
            record.get("tolerance") is None:
        return float(int(answer) == int(gold))      # whole numbers round to themselves
    got = decimal(answer)
    if got is None:
        raise Unparseable(f"no number in {answer[:60]!r}")
    want = _gold_decimal(gold)
    if record.get("tolerance") is not None:
        tolerance = _gold_decimal(record["tolerance"])
        return float(abs(got - want) <= tolerance)
    if got == want:             # equal values round alike (finite and < 1e309: never raises)
        return 1.0
    return float(_rounded(got) == _rounded(want))


def _rounded(x: Decimal) -> Decimal:
    return x.quantize(TWO_PLACES, ROUND_HALF_UP, _WIDE)


def mra(pred: float, gold: float, strict: bool = False) -> float:
    """Mean relative accuracy, exact: the share of k = 0..9 with 100|y^-y| <= (50 - 5k)|y|
    (or < if strict), counted at once: with r = 100|y^-y|/|y|, 5k <= 50 - r holds for
    k <= (50 - r)/5, so floor((50 - r)/5) + 1 thresholds pass (ceil((50 - r)/5) if strict),
    clamped to 0..10. Fractions throughout: 10.5 against 10 sits exactly on a threshold."""
    y, y_hat = Fraction(str(gold)), Fraction(str(pred))
    if y == 0:
        return float(y_hat == 0)
    room = (50 - 100 * abs(y_hat - y) / abs(y)) / 5
    hits = math.ceil(room) if strict else math.floor(room) + 1
    return min(max(hits, 0), 10) / 10


def regression(answer: str, gold: Any, record: dict) -> float:
    got = number(answer)                     # None for what is not a finite number (1e999)
    if got is None:
        raise Unparseable(f"no number in {answer[:60]!r}")
    return mra(got, _gold_number(gold))


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def wer(hypothesis: str, reference: str) -> float:
    """Word error rate on NFC-normalised words, case-sensitive (Video-R1's and jiwer's rule)."""
    ref, hyp = _nfc(reference).split(), _nfc(hypothesis).split()
    if not ref:
        return float(bool(hyp))
    return levenshtein(hyp, ref) / len(ref)


def ocr(answer: str, gold: Any, record: dict) -> float:
    return max(0.0, min(1.0, 1.0 - wer(answer, str(gold))))


def ocr_exp(answer: str, gold: Any, record: dict) -> float:
    """SophiaVL-R1's OCR reward: exp(-WER)."""
    return math.exp(-wer(answer, str(gold)))


def _tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def _f1(overlap: int, a: int, b: int) -> float:
    if overlap == 0:
        return 0.0
    p, r = overlap / a, overlap / b
    return 2 * p * r / (p + r)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n))))


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2 (clipped n-gram overlap) and ROUGE-L (longest common subsequence) F1."""
    p, r = _tokens(prediction), _tokens(reference)
    scores = {}
    for n in (1, 2):
        pn, rn = _ngrams(p, n), _ngrams(r, n)
        overlap = sum((pn & rn).values())                   # clipped counts
        scores[f"rouge{n}"] = _f1(overlap, max(1, pn.total()), max(1, rn.total()))
    scores["rougeL"] = _f1(lcs(p, r), max(1, len(p)), max(1, len(r)))
    return scores


def free_form(answer: str, gold: Any, record: dict) -> float:
    scores = rouge(answer, str(gold))
    return sum(scores.values()) / 3


def math_equal(answer: str, gold: Any, record: dict) -> float:
    """Symbolically equal (math-verify), else equal as numbers. Answers over bounds.MATH_CHARS
    characters skip the symbolic step (math-verify's LaTeX parser is super-linear)."""
    from math_verify import parse, verify

    def wrap(x: str) -> str:
        return x if "$" in x or "\\(" in x else f"${x}$"

    if len(answer) <= MATH_CHARS:
        try:
            if verify(parse(wrap(str(gold))), parse(wrap(answer))):
                return 1.0
        except Exception:  # math-verify parses arbitrary LaTeX; its failures mean "not equal"
            pass
    if not answer.strip():
        raise Unparseable("empty answer")
    return float(_numbers_equal(answer, gold))


def _numbers_equal(answer: str, gold: Any) -> bool:
    a, g = number(answer), number(str(gold))
    return a is not None and g is not None and math.isclose(a, g, rel_tol=1e-9, abs_tol=1e-9)


def _items(text: str) -> list[str]:
    return [t for t in re.split(r"[\s,;>\[\]()'\"→-]+", str(text).lower()) if t]


def sequence(answer: str, gold: Any, record: dict) -> float:
    got = _items(answer)
    if not got:
        raise Unparseable("empty answer")
    want = [str(g).lower() for g in gold] if isinstance(gold, list) else _items(gold)
    return float(got == want)


def _norm(text: str) -> str:
    return " ".join(_nfc(str(text)).casefold().split()).rstrip(".")


def exact(answer: str, gold: Any, record: dict) -> float:
    return float(_norm(answer) == _norm(gold))


Verifier = Callable[[str, Any, dict], float]
VERIFIERS: dict[str, Verifier] = {
    "multiple_choice": multiple_choice, "numerical": numerical, "regression": regression,
    "ocr": ocr, "ocr_exp": ocr_exp, "free_form": free_form, "math": math_equal, "sequence": sequence, "exact": exact,
}
ALIASES = {"multiple choice": "multiple_choice", "choice": "multiple_choice", "mc": "multiple_choice",
           "multi_choice": "multiple_choice", "numeric": "numerical", "number": "numerical",
           "free-form": "free_form", "freeform": "free_form", "open": "math", "text": "exact"}


@functools.lru_cache(maxsize=256)
def _type_name(raw: str) -> str:
    """A question type as written -> its normalised name (a small vocabulary: cached)."""
    key = raw.strip().lower().replace("-", "_") if raw.lower() != "multiple choice" \
        else "multiple choice"
    return ALIASES.get(key, ALIASES.get(raw.strip().lower(), key))


def question_type(record: dict) -> str:
    """The record's question type, normalised; inferred when absent (options -> multiple choice,
    a numeric gold -> numerical, else exact)."""
    raw = record.get("question_type") or record.get("problem_type")
    if raw:
        return _type_name(raw if type(raw) is str else str(raw))
    if record.get("options"):
        return "multiple_choice"
    gold = record.get("answer")
    if isinstance(gold, (int, float)) or (isinstance(gold, str) and number(gold) is not None
                                          and re.fullmatch(r"\s*[-−+]?[\d.,/]+\s*%?\s*", gold)):
        return "numerical"
    return "exact"
