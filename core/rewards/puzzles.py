"""MME-Reasoning's grid puzzles as validators: any valid solution counts, no gold needed.

Each validator takes the model's answer (extracted and parsed from JSON or a Python literal), the
item's gold answer (unused) and its `special_info` givens, and returns True/False. The strict
rules (the default) are the puzzles' rules; `official=True` reproduces the official
`function4eval.py` (snapshot 104060e), which `--compat official` selects.

    sudoku(grid, None, {"base_matrix": [[1, None, ...], ...]}, n=4)     # n = 4 or 6
    skyscraper(grid, None, {"base_matrix": ..., "visible_skyscrapers": [top, left, right, bottom]})
    yinyang(grid, None, {"base_matrix": 6 x 6 of 0/1/None})
    hashi(bridges, None, {"init_islands": [{"cord": "b1", "requirement": 2}, ...]})

Givens: `None` (and 0 in grids) is a blank. Both layouts of the clues and islands are read: the
official ones above and the dicts thinkpipe's older fixtures use (`{"top": [...], ...}`,
`{"b1": 2, ...}`).

Answers are lists of rows of values in both modes; the official code also takes rows written as
strings ("4132") or tuples and a grid with extra rows, which is not kept.

Where strict and official differ:
    sudoku      strict: cells are integers 1..n (not "3", not 2.5); official: n distinct values
                of any kind per row, column and box (the range is not checked)
    skyscraper  strict: integers 1..n; official: n distinct values per row and column
    yinyang     strict: cells are 0 or 1, a given of -1 is a blank too; official: only the 0-
                and 1-cells are checked
    all         official: a missing base_matrix (or clues, islands) is a failed evaluation,
                as special_info[key] raises there; a skyscraper clue of 0 can never be met;
                strict reads numbers written as strings in the givens ("requirement": "2")
    hashi       strict: a bridge may not pass over a third island, all islands must form one
                connected group (the puzzle's rules, unchecked by the official code), a double
                bridge may be written as two entries of 1; columns are case-insensitive and a
                bridge of 0 is no bridge. official: coordinates compared as written, a double
                bridge written as two entries is rejected as crossing itself, bridge numbers
                are summed whatever they are (-1 then 3 is a double bridge).
"""
from __future__ import annotations

from collections import Counter
from itertools import combinations
from typing import Any

Grid = list[list[Any]]


class BadGivens(ValueError):
    """`special_info` in neither layout: the item cannot be checked (not the model's fault)."""


def _integer(v: Any) -> int | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    return int(v) if isinstance(v, float) and v.is_integer() else None


def _shape(answer: Any, n: int | None = None) -> Grid | None:
    """`answer` as an n x n grid (any cell values), else None."""
    if not isinstance(answer, list) or not answer or (n is not None and len(answer) != n):
        return None
    size = len(answer)
    if not all(isinstance(r, list) and len(r) == size for r in answer):
        return None
    return answer


def _ints(grid: Grid, low: int, high: int) -> Grid | None:
    cells = [[_integer(v) for v in row] for row in grid]
    ok = all(c is not None and low <= c <= high for row in cells for c in row)
    return cells if ok else None


def _keeps(grid: Grid, given: Any, blanks=(None, 0)) -> bool:
    """Every given cell (not a blank) is unchanged; an answer of another size fails."""
    if not given:
        return True
    if not isinstance(given, list) or not all(isinstance(g, list) for g in given):
        raise BadGivens("base_matrix is not a grid (a list of rows)")
    if len(given) != len(grid) or any(len(g) != len(r) for g, r in zip(given, grid)):
        return False
    return all(g in blanks or g == grid[r][c] for r, row in enumerate(given)
               for c, g in enumerate(row))


def _given(info: dict, key: str, official: bool) -> Any:
    """A given by name: the official validators index special_info[key] (missing: a failed
    evaluation, scored 0); strict reads a missing one as no givens."""
    if official and not info.get(key):
        raise KeyError(key)
    return info.get(key)


def _distinct(lines: list[list[Any]], n: int) -> bool:
    return all(len(set(line)) == n for line in lines)


def _lines(grid: Grid) -> list[list[Any]]:
    return grid + [list(col) for col in zip(*grid)]


def _boxes(grid: Grid, bh: int, bw: int) -> list[list[Any]]:
    n = len(grid)
    return [[grid[r][c] for r in range(br, br + bh) for c in range(bc, bc + bw)]
            for br in range(0, n, bh) for bc in range(0, n, bw)]


def sudoku(answer: Any, gold: Any, info: dict, n: int = 4, official: bool = False) -> bool:
    """Rows, columns and boxes (2x2 for n=4, 2 rows x 3 columns for n=6) hold n distinct
    values, the givens kept; strict: the values are the integers 1..n."""
    grid = _shape(answer, n)
    if grid is None or not _keeps(grid, _given(info, "base_matrix", official),
                                  (None,) if official else (None, 0)):
        return False
    if not official and (grid := _ints(grid, 1, n)) is None:
        return False
    bh, bw = (2, 2) if n == 4 else (2, 3)
    return _distinct(_lines(grid) + _boxes(grid, bh, bw), n)


def _visible(line: list[Any]) -> int:
    seen, top = 0, None
    for h in line:
        if top is None or h > top:
            seen, top = seen + 1, h
    return seen


SIDES = ("top", "left", "right", "bottom")   # the official list's order


def _clues(raw: Any) -> dict[str, list]:
    if isinstance(raw, dict):
        return {side: list(raw.get(side) or []) for side in SIDES}
    if isinstance(raw, (list, tuple)) and len(raw) == 4:
        return {side: list(clues or []) for side, clues in zip(SIDES, raw)}
    raise BadGivens("visible_skyscrapers is neither [top, left, right, bottom] nor a dict")


def skyscraper(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """A Latin square keeping the givens whose towers seen from each side match the clues:
    top[c] looking down column c, left[r] along row r, right[r] from the right, bottom[c] up."""
    clues = _clues(_given(info, "visible_skyscrapers", official) or {})
    grid = _shape(answer)
    if grid is None or not _keeps(grid, _given(info, "base_matrix", official),
                                  (None,) if official else (None, 0)):
        return False
    n = len(grid)
    if not official and (grid := _ints(grid, 1, n)) is None:
        return False
    if not _distinct(_lines(grid), n):
        return False
    cols = [list(c) for c in zip(*grid)]
    views = {"top": cols, "left": grid, "right": [r[::-1] for r in grid],
             "bottom": [c[::-1] for c in cols]}
    blank = (None,) if official else (None, 0)     # official: a clue of 0 is never seen
    return all(want in blank or (i < n and _visible(views[side][i]) == want)
               for side, wants in clues.items() for i, want in enumerate(wants))


def _connected(cells: set) -> bool:
    if not cells:
        return True
    stack, seen = [next(iter(cells))], set()
    while stack:
        cell = stack.pop()
        if cell in seen:
            continue
        seen.add(cell)
        r, c = cell
        stack += [p for p in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)) if p in cells]
    return seen == cells


def yinyang(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """6x6 of 0/1, givens kept, the 0-cells connected, the 1-cells connected, no 2x2 block of
    one colour."""
    grid = _shape(answer, 6)
    if grid is None or not _keeps(grid, _given(info, "base_matrix", official),
                                  (None,) if official else (None, -1)):
        return False
    if not official and any(_integer(v) not in (0, 1) for row in grid for v in row):
        return False
    colour = {v: {(r, c) for r in range(6) for c in range(6) if grid[r][c] == v} for v in (0, 1)}
    block = any(grid[r][c] == grid[r + 1][c] == grid[r][c + 1] == grid[r + 1][c + 1] in (0, 1)
                for r in range(5) for c in range(5))
    return not block and _connected(colour[0]) and _connected(colour[1])


def _cell(name: Any, fold_case: bool = True) -> tuple[int, int] | None:
    """"c3" (or "C3", " c03 ") -> (column 2, row 3)."""
    s = str(name).strip()
    s = s.lower() if fold_case else s
    if len(s) >= 2 and s[0].isalpha() and s[1:].isdigit():
        return ord(s[0]) - ord("a"), int(s[1:])
    return None


def _islands(raw: Any, fold_case: bool = True) -> dict[tuple[int, int], int]:
    """Island cell -> required bridges, from [{"cord", "requirement"}, ...] or {cord: n}."""
    try:
        pairs = raw.items() if isinstance(raw, dict) else \
            [(i["cord"], i["requirement"]) for i in raw]
        islands = {_cell(k, fold_case): int(v) for k, v in pairs}
    except (KeyError, TypeError, ValueError) as e:
        raise BadGivens(f"init_islands is neither [{{cord, requirement}}, ...] nor a dict: "
                        f"{type(e).__name__}: {e}") from None
    if None in islands or not islands:
        raise BadGivens("an island's coordinate is not a letter and a row number")
    return islands


def _cells_between(a: tuple[int, int], b: tuple[int, int]) -> list[tuple[int, int]]:
    (x0, y0), (x1, y1) = sorted((a, b))
    if x0 == x1:
        return [(x0, y) for y in range(y0 + 1, y1)]
    return [(x, y0) for x in range(x0 + 1, x1)]


def _bridges(answer: Any, islands: dict, fold_case: bool) -> list | None:
    """[(end, end, number)] of well-formed orthogonal bridges between islands, else None."""
    if not isinstance(answer, list) or not answer:
        return None
    out = []
    for b in answer:
        if not isinstance(b, dict):
            return None
        a, z = _cell(b.get("start"), fold_case), _cell(b.get("end"), fold_case)
        k = _integer(b.get("number"))
        if a is None or z is None or a == z or a not in islands or z not in islands or \
                (a[0] != z[0] and a[1] != z[1]) or k is None or not 0 <= k <= 2:
            return None
        out.append((a, z, k))
    return out


def hashi(answer: Any, gold: Any, info: dict, official: bool = False) -> bool:
    """Bridges between given islands, orthogonal, at most 2 per pair, no two crossing, each
    island with its required count; strict also: no bridge over an island, one connected group.
    answer: [{"start": "a1", "end": "a4", "number": 1 or 2}, ...]."""
    if official:
        return _hashi_official(answer, info.get("init_islands"))
    islands = _islands(info.get("init_islands") or [])
    bridges = _bridges(answer, islands, fold_case=True)
    if bridges is None:
        return False
    pairs, count = Counter(), Counter()
    for a, z, k in bridges:
        pairs[frozenset((a, z))] += k
        count[a] += k
        count[z] += k
    if any(v > 2 for v in pairs.values()) or any(count[i] != want for i, want in islands.items()):
        return False
    spans = {p: _cells_between(*p) for p, k in pairs.items() if k}
    if any(c in islands for cells in spans.values() for c in cells):
        return False
    if any(set(s) & set(t) for s, t in combinations(spans.values(), 2)):
        return False
    return _joined(set(islands), [tuple(p) for p in spans])


def _hashi_official(answer: Any, raw: Any) -> bool:
    """function4eval.py's rules: coordinates compared as written ("B1" is not the island "b1"),
    bridge numbers summed per pair and per island whatever they are, and every entry marking
    the cells it passes, a cell marked twice being a crossing (so is a double bridge written as
    two entries); a bridge over an island and unconnected groups pass. Raises where the
    official code does (a string number): check() scores that 0."""
    if not answer:
        return False
    if isinstance(raw, dict):                              # thinkpipe's layout, same islands
        raw = [{"cord": k, "requirement": v} for k, v in raw.items()]
    need = {i["cord"]: i["requirement"] for i in raw}
    if any(b["start"] == b["end"] for b in answer):
        return False
    where = {c: (ord(c[0]) - ord("a"), int(c[1:])) for c in need}
    pairs, count, used = Counter(), Counter(), []
    for b in answer:
        a, z, k = b["start"], b["end"], b["number"]
        if a not in need or z not in need:
            return False
        if where[a][0] != where[z][0] and where[a][1] != where[z][1]:
            return False
        pairs[tuple(sorted((a, z)))] += k
        if pairs[tuple(sorted((a, z)))] > 2:
            return False
        count[a] += k
        count[z] += k
    if any(count[c] != want for c, want in need.items()):
        return False
    for b in answer:
        used += _cells_between(where[b["start"]], where[b["end"]])
    return len(used) == len(set(used))


def _joined(nodes: set, edges: list[tuple]) -> bool:
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n
    for a, z in edges:
        parent[root(a)] = root(z)
    return len({root(n) for n in nodes}) <= 1
