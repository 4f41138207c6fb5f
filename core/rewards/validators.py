"""MME-Reasoning's `function_id` validators in one registry, strict and official.

    check("calculate_answer_function_sudoku_4", response, gold, info)   # Check(ok, detail)
    check(..., official=True)                                           # function4eval.py's rules

The structured answer is read from the response the way the official extraction prompts ask for
it: the `<answer>` content if there is one, else the last fenced code block (```json), else the
extracted answer (the response without its reasoning when none is given); then parsed as JSON
or a Python literal (core/literal.py, never eval). Validators called directly with
official=True raise where function4eval.py raises; check() scores that 0, as the official run
does. A validator never stops a run: givens it cannot read (`special_info` in neither layout)
give `ok=None` with the reason, which scoring reports as status `unscorable`.

    function_id                          module        needs a gold answer
    calculate_answer_function_sudoku_4/6 puzzles       no
    calculate_answer_function_skyscraper puzzles       no
    calculate_answer_function_yinyang    puzzles       no
    calculate_answer_function_hashi      puzzles       no
    calculate_answer_function_1 .. _12   fill_numbers  no
    judge_24points_function              matching      no
    compare_expression_function          matching      yes
    match_answer_function                matching      yes
    multiple_match_function              matching      yes
    match_coordinate_function            matching      yes
Short names (`sudoku_4`, `points24`, `hashi`, ...) are accepted for hand-made records.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from ..literal import NotAValue, parse_value
from . import fill_numbers, matching, puzzles
from .extract import strip_reasoning
from .puzzles import BadGivens

Validator = Callable[..., bool]       # (answer, gold, info, official=...) -> bool

VALIDATORS: dict[str, Validator] = {
    "calculate_answer_function_sudoku_4": partial(puzzles.sudoku, n=4),
    "calculate_answer_function_sudoku_6": partial(puzzles.sudoku, n=6),
    "calculate_answer_function_skyscraper": puzzles.skyscraper,
    "calculate_answer_function_yinyang": puzzles.yinyang,
    "calculate_answer_function_hashi": puzzles.hashi,
    "judge_24points_function": matching.points24,
    "compare_expression_function": matching.expression,
    "match_answer_function": matching.match_answer,
    "multiple_match_function": matching.multiple_match,
    "match_coordinate_function": matching.match_coordinate,
}


def _fill(n: int) -> Validator:
    def run(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
        return fill_numbers.check(n, answer, strict=not official)
    return run


VALIDATORS.update({f"calculate_answer_function_{n}": _fill(n) for n in range(1, 13)})
SHORT = {"sudoku_4": "calculate_answer_function_sudoku_4",
         "sudoku_6": "calculate_answer_function_sudoku_6",
         "skyscraper": "calculate_answer_function_skyscraper",
         "yinyang": "calculate_answer_function_yinyang", "hashi": "calculate_answer_function_hashi",
         "points24": "judge_24points_function", "expression": "compare_expression_function",
         "match_answer": "match_answer_function", "multiple_match": "multiple_match_function",
         "match_coordinate": "match_coordinate_function"}
VALIDATORS.update({short: VALIDATORS[full] for short, full in SHORT.items()})
NEEDS_GOLD = {"compare_expression_function", "match_answer_function", "multiple_match_function",
              "match_coordinate_function"}
NEEDS_GOLD |= {s for s, f in SHORT.items() if f in NEEDS_GOLD}


def needs_gold(name: str) -> bool:
    return name in NEEDS_GOLD


@dataclass(frozen=True)
class Check:
    ok: bool | None           # None: the item could not be checked (detail says why)
    text: str | None          # the text the structured answer was read from
    detail: str | None = None


ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
FENCE = re.compile(r"```[ \t]*(?:json|JSON|python)?[ \t]*\n?(.*?)```", re.S)


def structured(response: str, extracted: str | None) -> str | None:
    """The text holding the structured answer (see the module docstring)."""
    tagged = ANSWER_TAG.findall(response)
    text = tagged[-1] if tagged else None
    inner = FENCE.findall(text if text is not None else response)
    if inner:
        return inner[-1].strip()
    if text is None:
        text = extracted if extracted is not None else strip_reasoning(response)[0]
    return text.strip() or None


def literal(value: Any) -> Any:
    """A value written as JSON or a Python literal, else the value itself."""
    if not isinstance(value, str):
        return value
    try:
        return parse_value(value)
    except NotAValue:
        return value


def _info(raw: Any) -> dict:
    info = literal(raw) if isinstance(raw, str) and raw.strip() else (raw or {})
    if not isinstance(info, dict):
        raise BadGivens(f"special_info is a {type(info).__name__}, not a dict")
    return info


def check(name: str, response: str, gold: Any, special_info: Any, extracted: str | None = None,
          official: bool = False) -> Check:
    """Run validator `name` on the structured answer in `response` (never raises)."""
    text = structured(response, extracted)
    if text is None:
        return Check(False, None, "no answer found")
    answer = literal(text)
    try:
        ok = VALIDATORS[name](answer, literal(gold), _info(special_info), official=official)
    except BadGivens as e:
        return Check(None, text, f"{name} cannot check this item: {e}")
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, ArithmeticError,
            RecursionError) as e:      # the answer broke a comparison: it is not a solution
        return Check(False, text, f"the answer does not fit {name}: {type(e).__name__}")
    return Check(bool(ok), text)
