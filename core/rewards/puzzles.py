"""MME-Reasoning's rule-based items as plain validators: any valid solution counts.

The benchmark's structured items are checked by functions rather than compared with one gold
answer (`function_id` in its TSV). Each validator here takes the model's answer (already
extracted and parsed from JSON or a Python literal), the item's gold answer and its
`special_info` givens, and returns True/False. Malformed answers are simply False.

    sudoku_4 / sudoku_6   the grid fills the givens, rows, columns and 2x2 / 2x3 boxes hold 1..n
    points24              the formula's left side is 24 and uses exactly the given cards
                          (A=1, J=11, Q=12, K=13), evaluated in exact fractions, never Python's eval
    expression            the extracted equation's left side equals a gold left side
                          (symbolic equivalence; compat "official" compares structure instead)
    skyscraper            a Latin square matching the givens whose visible counts match the clues
    yinyang               6x6, givens kept, black cells connected, white cells connected, no 2x2
                          block of one colour
    hashi                 bridges join given islands orthogonally, at most 2 per pair, no
                          crossings, each island's bridge count as required
    match_answer          every gold key has the response's value (lists compared as sets)
    multiple_match        one key, whose value is one of the accepted alternatives
    match_coordinate      the same ordered list of (row, column) cells
Formats of the givens are documented in each function. The twelve "fill the numbers" checkers
(`calculate_answer_function_1..12`) are not reproduced: their puzzle definitions are not public.
"""
from __future__ import annotations

import ast
import operator
from collections import Counter
from fractions import Fraction
from itertools import combinations
from typing import Any

CARD_VALUES = {"A": 1, "J": 11, "Q": 12, "K": 13}


def _grid(answer: Any, n: int) -> list[list[int]] | None:
    if not isinstance(answer, list) or len(answer) != n:
        return None
    try:
        rows = [[int(v) for v in row] for row in answer]
    except (TypeError, ValueError):
        return None
    return rows if all(len(r) == n for r in rows) else None


def _keeps(grid: list[list[int]], given: Any) -> bool:
    """Non-zero cells of `given` (a grid with 0 for blanks) are unchanged."""
    return not given or all(g in (0, None) or g == grid[r][c]
                            for r, row in enumerate(given) for c, g in enumerate(row))


def sudoku(answer: Any, gold: Any, info: dict, n: int = 4) -> bool:
    """info: {"base_matrix": n x n grid, 0 = blank}. Boxes: 2x2 for n=4, 2 rows x 3 cols for 6."""
    grid = _grid(answer, n)
    if grid is None or not _keeps(grid, info.get("base_matrix")):
        return False
    full = set(range(1, n + 1))
    bh, bw = (2, 2) if n == 4 else (2, 3)
    boxes = [[grid[r][c] for r in range(br, br + bh) for c in range(bc, bc + bw)]
             for br in range(0, n, bh) for bc in range(0, n, bw)]
    return all(set(row) == full for row in grid) and \
        all({grid[r][c] for r in range(n)} == full for c in range(n)) and \
        all(set(b) == full for b in boxes)


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arith(node, used: list[int]) -> Fraction:
    if isinstance(node, ast.Expression):
        return _arith(node.body, used)
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left, used), _arith(node.right, used))
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        used.append(node.value)
        return Fraction(node.value)
    raise ValueError("only integers, + - * / and parentheses")


def points24(answer: Any, gold: Any, info: dict) -> bool:
    """info: {"init_cards": ["A", "5", "J", "7"]}; answer: "(11 - 7) * 5 + 1 * ... = 24"."""
    if not isinstance(answer, str):
        return False
    lhs = answer.split("=")[0].replace("×", "*").replace("÷", "/").replace("x", "*")
    for face, value in CARD_VALUES.items():
        lhs = lhs.replace(face, str(value))
    try:
        used: list[int] = []
        value = _arith(ast.parse(lhs.strip(), mode="eval"), used)
    except (ValueError, SyntaxError, ZeroDivisionError, RecursionError):
        return False
    cards = [CARD_VALUES.get(str(c).upper(), None) or int(c) for c in info.get("init_cards", [])]
    return value == 24 and Counter(used) == Counter(cards)


def expression(answer: Any, gold: Any, info: dict, structural: bool = False) -> bool:
    """answer: {"equation": "x**2 + 1 = y"} or the equation text; gold: one or several.

    The left-hand sides are read by symbolic.parse (no eval: answers are model output).
    """
    import sympy

    from .symbolic import parse

    def side(text: Any):
        try:
            return parse(str(text).split("=")[0].replace("^", "**"), evaluate=not structural)
        except (ValueError, TypeError, ZeroDivisionError, RecursionError):
            return None

    text = answer.get("equation") if isinstance(answer, dict) else answer
    mine = side(text)
    if mine is None:
        return False
    for theirs in map(side, gold if isinstance(gold, list) else [gold]):
        if theirs is None:
            continue
        if structural:
            if mine.func == theirs.func and (Counter(map(str, mine.args)) ==
                                             Counter(map(str, theirs.args))):
                return True
        elif sympy.simplify(mine - theirs) == 0:
            return True
    return False


def _visible(line: list[int]) -> int:
    seen, top = 0, 0
    for h in line:
        if h > top:
            seen, top = seen + 1, h
    return seen


def skyscraper(answer: Any, gold: Any, info: dict) -> bool:
    """info: {"visible_skyscrapers": {"top": [...], "bottom": [...], "left": [...],
    "right": [...]}} (0/None for no clue), optional "base_matrix" givens."""
    clues = info.get("visible_skyscrapers") or {}
    n = len(answer) if isinstance(answer, list) else 0
    grid = _grid(answer, n)
    if not grid or not _keeps(grid, info.get("base_matrix")):
        return False
    full = set(range(1, n + 1))
    if not (all(set(r) == full for r in grid) and all({r[c] for r in grid} == full for c in range(n))):
        return False
    cols = [[grid[r][c] for r in range(n)] for c in range(n)]
    views = {"left": grid, "right": [r[::-1] for r in grid], "top": cols,
             "bottom": [c[::-1] for c in cols]}
    return all(not want or _visible(views[side][i]) == want
               for side, wants in clues.items() for i, want in enumerate(wants or []))


def _connected(cells: set) -> bool:
    if not cells:
        return True
    stack, seen = [next(iter(cells))], set()
    while stack:
        r, c = stack.pop()
        if (r, c) in seen:
            continue
        seen.add((r, c))
        stack += [p for p in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if p in cells]
    return seen == cells


def yinyang(answer: Any, gold: Any, info: dict) -> bool:
    """6x6 of 0/1; info: {"base_matrix": givens with None/-1 for blanks}."""
    grid = _grid(answer, 6)
    if grid is None or any(v not in (0, 1) for row in grid for v in row):
        return False
    given = info.get("base_matrix")
    if given and any(g not in (None, -1) and g != grid[r][c]
                     for r, row in enumerate(given) for c, g in enumerate(row)):
        return False
    colour = {v: {(r, c) for r in range(6) for c in range(6) if grid[r][c] == v} for v in (0, 1)}
    blocks = all(len({grid[r][c], grid[r + 1][c], grid[r][c + 1], grid[r + 1][c + 1]}) == 2
                 for r in range(5) for c in range(5))
    return blocks and _connected(colour[0]) and _connected(colour[1])


def _cell(name: Any) -> tuple[int, int] | None:
    """"c3" -> (column 2, row 2); also [row, col] pairs."""
    if isinstance(name, (list, tuple)) and len(name) == 2:
        return int(name[0]), int(name[1])
    s = str(name).strip().lower()
    if len(s) >= 2 and s[0].isalpha() and s[1:].isdigit():
        return int(s[1:]) - 1, ord(s[0]) - ord("a")
    return None


def hashi(answer: Any, gold: Any, info: dict) -> bool:
    """answer: [{"start": "a1", "end": "a4", "number": 2}, ...];
    info: {"init_islands": {"a1": 3, "a4": 2, ...}} (cells as letter column + row number)."""
    islands = {_cell(k): int(v) for k, v in (info.get("init_islands") or {}).items()}
    if not isinstance(answer, list) or None in islands:
        return False
    count, spans = Counter(), []
    pairs = Counter()
    for b in answer:
        if not isinstance(b, dict):
            return False
        a, z, k = _cell(b.get("start")), _cell(b.get("end")), b.get("number", 1)
        if a not in islands or z not in islands or a == z or k not in (1, 2) or \
                (a[0] != z[0] and a[1] != z[1]):
            return False
        lo, hi = sorted((a, z))
        if any(p in islands for p in _between(lo, hi)):
            return False
        pairs[(lo, hi)] += k
        count[a] += k
        count[z] += k
        spans.append((lo, hi))
    if any(v > 2 for v in pairs.values()) or dict(count) != {k: v for k, v in islands.items() if v}:
        return False
    return not any(_cross(s, t) for s, t in combinations(set(spans), 2))


def _between(a, b):
    if a[0] == b[0]:
        return [(a[0], c) for c in range(a[1] + 1, b[1])]
    return [(r, a[1]) for r in range(a[0] + 1, b[0])]


def _cross(s, t) -> bool:
    (a, b), (c, d) = s, t
    if (a[0] == b[0]) == (c[0] == d[0]):
        return False
    h, v = (s, t) if a[0] == b[0] else (t, s)
    return v[0][0] < h[0][0] < v[1][0] and h[0][1] < v[0][1] < h[1][1]


def _as_set(v):
    return frozenset(map(str, v)) if isinstance(v, list) else str(v)


def match_answer(answer: Any, gold: Any, info: dict) -> bool:
    return isinstance(answer, dict) and isinstance(gold, dict) and all(
        k in answer and _as_set(answer[k]) == _as_set(v) for k, v in gold.items())


def multiple_match(answer: Any, gold: Any, info: dict) -> bool:
    if not isinstance(answer, dict) or len(answer) != 1:
        return False
    (key, value), = answer.items()
    accepted = gold.get(key) if isinstance(gold, dict) else None
    return accepted is not None and any(_as_set(value) == _as_set(a) for a in accepted)


def match_coordinate(answer: Any, gold: Any, info: dict) -> bool:
    def cells(v):
        return [(str(x.get("row")), str(x.get("column"))) for x in v] if isinstance(v, list) and \
            all(isinstance(x, dict) for x in v) else None
    return cells(answer) is not None and cells(answer) == cells(gold)


VALIDATORS = {
    "calculate_answer_function_sudoku_4": lambda a, g, i: sudoku(a, g, i, 4),
    "calculate_answer_function_sudoku_6": lambda a, g, i: sudoku(a, g, i, 6),
    "judge_24points_function": points24, "compare_expression_function": expression,
    "calculate_answer_function_skyscraper": skyscraper,
    "calculate_answer_function_yinyang": yinyang, "calculate_answer_function_hashi": hashi,
    "match_answer_function": match_answer, "multiple_match_function": multiple_match,
    "match_coordinate_function": match_coordinate,
}
VALIDATORS.update({"sudoku_4": VALIDATORS["calculate_answer_function_sudoku_4"],
                   "sudoku_6": VALIDATORS["calculate_answer_function_sudoku_6"],
                   "points24": points24, "expression": expression, "skyscraper": skyscraper,
                   "yinyang": yinyang, "hashi": hashi, "match_answer": match_answer,
                   "multiple_match": multiple_match, "match_coordinate": match_coordinate})
