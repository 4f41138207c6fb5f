"""MME-Reasoning's answer-matching validators: formulas, keyed answers and coordinates.

Each takes (answer, gold, info) — the model's parsed answer, the item's parsed gold and its
`special_info` — and returns True/False; `official=True` reproduces the official
`function4eval.py` (snapshot 104060e), which `--compat official` selects.

    points24("(J + A) * (7 - 5) = 24", None, {"init_cards": ["A", "5", "J", "7"]})
    expression({"equation": "2 + 4*3 = 14"}, ["3*4 + 2 = 14"], {})
    match_answer({"A": 5.0, "B": ["x", "y"]}, {"A": 5, "B": ["y", "x"]}, {})
    multiple_match({"id": [2, 1]}, [[1, 2], [3]], {})
    match_coordinate([{"row": 1, "column": 2}], {"row": 1, "column": 2}, {})

Where strict and official differ:
    points24     strict: exact fractions (4 / (1 - 5/6) is 24); official: floats, which reject
                 it. Both allow unary minus and need the multiset of numbers to equal the cards
                 (A=1, J=11, Q=12, K=13); neither runs Python's eval.
    expression   strict: the written left-hand side equals a gold one up to the order of the
                 terms of every sum and product, at every level (2 + 4*3 is 3*4 + 2), terms
                 counted with their multiplicity, ^ read as **; official: only the top level's
                 terms are reordered, compared as a set of strings (2*2*3 matches 2*3*3), and
                 the answer must be {"equation": ...}. A different formula with the same value
                 (10 + 4) fails both.
    match_answer strict: lists are sets at any depth and a missing key never matches;
    multiple_    official: `answer.get(key)`, top-level lists only, `value in gold` as Python
    match        does it (a string gold is a substring test). Both official rules raise on
                 unhashable values; check() scores that 0, as the official run does.
    coordinate   strict: a single cell may be given without a list, and (row, column) pairs are
                 compared with surrounding spaces stripped, not their concatenation ("1"+"23"
                 is not "12"+"3").
    both         the formula is read after ×, ÷ and an x between numbers become * and /, and
                 face letters A J Q K their values (the official extraction prompt asks for
                 that form); only + - * /, unary minus and integers are evaluated, never eval.
"""
from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction
from typing import Any

from .puzzles import BadGivens

CARD_VALUES = {"A": 1, "J": 11, "Q": 12, "K": 13}
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv}
MAX_FORMULA = 200


def _arith(node: ast.AST, used: list[int], number=Fraction):
    """Value of + - * / (binary), unary minus and integer literals; `used` gets the integers."""
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left, used, number), _arith(node.right, used, number))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _arith(node.operand, used, number)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return number(node.value)
    raise ValueError("only integers, + - * / and parentheses")


def _card(card: Any) -> int:
    text = str(card).strip().upper()
    return CARD_VALUES[text] if text in CARD_VALUES else int(text)


def points24(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """The formula's left side makes 24 from exactly the given cards (info["init_cards"])."""
    if not isinstance(answer, (str, int)) or len(str(answer)) > MAX_FORMULA:
        return False
    lhs = str(answer).replace("×", "*").replace("÷", "/").split("=")[0]
    for face, value in CARD_VALUES.items():
        lhs = re.sub(rf"\b{face}\b", str(value), lhs)
    lhs = re.sub(r"(?<=[\d)])\s*[xX]\s*(?=[\d(])", "*", lhs)
    try:
        cards = sorted(_card(c) for c in info["init_cards"])
    except (KeyError, TypeError, ValueError):
        raise BadGivens("init_cards is not a list of cards (1-13, A, J, Q, K)") from None
    used: list[int] = []
    try:
        value = _arith(ast.parse(lhs.strip(), mode="eval").body, used, float if official else Fraction)
    except (ValueError, SyntaxError, ZeroDivisionError, RecursionError, OverflowError):
        return False
    if official:    # the official code reads the numbers back with \d+
        used = [int(d) for d in re.findall(r"\d+", lhs)]
    return value == 24 and sorted(used) == cards


def _canonical(expr) -> Any:
    """A hashable form of a sympy expression equal for reorderings of any sum or product."""
    if not expr.args:
        return str(expr)
    args = [_canonical(a) for a in expr.args]
    if expr.is_Add or expr.is_Mul:
        return (expr.func.__name__, tuple(sorted(args, key=repr)))
    return (expr.func.__name__, tuple(args))


def _top_level(expr) -> Any:
    """The official comparison: the function, and for + and x the set of argument strings."""
    if expr.is_Add or expr.is_Mul:
        return (expr.func.__name__, len(expr.args), frozenset(map(str, expr.args)))
    return expr


def expression(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """answer: {"equation": "3*4 + 2 = 14"} or the equation's text; gold: one or a list."""
    from .symbolic import parse

    def lhs(text: Any):
        side = str(text).split("=")[0]
        try:
            return parse(side if official else side.replace("^", "**"), evaluate=False)
        except (ValueError, TypeError, ZeroDivisionError, RecursionError):
            return None

    if official:        # {"equation": ...} only; the gold iterated as it is, in order, and an
        mine = lhs(answer["equation"])          # alternative that does not parse is a failure
        for theirs in gold:
            theirs = lhs(theirs)
            if mine is None or theirs is None:
                return False
            if _top_level(mine) == _top_level(theirs):
                return True
        return False
    text = answer.get("equation") if isinstance(answer, dict) else answer
    mine = lhs(text) if isinstance(text, str) else None
    if mine is None:
        return False
    return any(theirs is not None and _canonical(mine) == _canonical(theirs)
               for theirs in map(lhs, gold if isinstance(gold, list) else [gold]))


def _value(v: Any) -> Any:
    """Lists compared as sets (of their items' values), everything else with Python's ==."""
    if isinstance(v, list):
        return frozenset(_value(x) for x in v)
    if isinstance(v, dict):
        return frozenset((k, _value(x)) for k, x in v.items())
    return v


def match_answer(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """Every gold key has an equal value in the answer (5.0 == 5, "5" != 5; lists as sets, at
    any depth). Official: `answer.get(key)` (a key missing from the answer is None, so it
    matches a None gold), top-level lists as Python sets (a list of lists raises: wrong)."""
    if official:
        top = lambda v: set(v) if isinstance(v, list) else v    # noqa: E731
        return all(top(answer.get(k)) == top(v) for k, v in gold.items())
    if not isinstance(answer, dict) or not isinstance(gold, dict):
        return False
    return all(k in answer and _value(answer[k]) == _value(v) for k, v in gold.items())


def multiple_match(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """The answer has one key (its name ignored) whose value is one of the gold alternatives
    (a list of values or of lists; thinkpipe's older {key: alternatives} is read too)."""
    if official:        # `in` over the gold as it is: a string gold is a substring test
        if len(answer) != 1:
            return False
        (value,) = answer.values()
        if isinstance(value, list):
            return set(value) in [set(a) for a in gold]
        return value in gold
    if not isinstance(answer, dict) or len(answer) != 1:
        return False
    if isinstance(gold, dict) and len(gold) == 1:
        gold = next(iter(gold.values()))
    alternatives = gold if isinstance(gold, list) else [gold]
    (value,) = answer.values()
    return any(_value(value) == _value(a) for a in alternatives)


def _cells(v: Any, official: bool) -> list | None:
    if isinstance(v, dict) and not official:
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, dict) and "row" in x and "column" in x
                                          for x in v):
        return None
    if official:
        return [str(x["row"]) + str(x["column"]) for x in v]
    return [(str(x["row"]).strip(), str(x["column"]).strip()) for x in v]


def match_coordinate(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """The same ordered list of {"row", "column"} cells (a single-cell gold is a list of one)."""
    mine = _cells(answer, official)
    theirs = _cells([gold] if isinstance(gold, dict) else gold, official)
    return mine is not None and mine == theirs
