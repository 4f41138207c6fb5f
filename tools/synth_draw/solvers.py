"""Independent solvers: answer each task again from the rendered pixels or with exact integers.

They share no code with the generators: the maze solver reads walls and the S/G discs off the
image and runs its own breadth-first search; the relations solver finds every object by its
colour in the image; the geometry solver uses integer cross and dot products on the points.
A disagreement with the generator's answer is a TraceError (a bug, never a skip).
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from . import canvas, maze, relations
from .task import LETTERS, Task, TraceError


def _mask(image, rgb) -> np.ndarray:
    idx = canvas.index_of(image, rgb)
    if idx is None:
        raise TraceError(f"colour {rgb} is not in the image")
    return np.asarray(image) == idx


def _centre(mask: np.ndarray) -> tuple[float, float]:
    """Centre of the bounding box of a colour's pixels (rows and columns that hold any)."""
    xs, ys = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    if not len(xs):
        raise TraceError("colour not found in the image")
    return (xs[0] + xs[-1]) / 2, (ys[0] + ys[-1]) / 2


def maze_from_pixels(task: Task) -> tuple[dict, tuple, tuple]:
    """(open passages as adjacency, start cell, goal cell) read off the image."""
    n, size = task.meta["grid_size"], task.image.size[0]
    left, top, right, bottom = 0.125 * size, 0.12 * size, 0.90 * size, 0.89 * size
    cw, ch = (right - left) / n, (bottom - top) / n
    black = np.asarray(task.image) == canvas.index_of(task.image, canvas.BLACK)

    def wall(x: float, y: float) -> bool:
        return bool(black[int(round(y)), int(round(x))])

    adj = {(r, c): [] for r in range(n) for c in range(n)}
    for r in range(n):
        for c in range(n):
            if c + 1 < n and not wall(left + (c + 1) * cw, top + (r + 0.5) * ch):
                adj[(r, c)].append((r, c + 1))
                adj[(r, c + 1)].append((r, c))
            if r + 1 < n and not wall(left + (c + 0.5) * cw, top + (r + 1) * ch):
                adj[(r, c)].append((r + 1, c))
                adj[(r + 1, c)].append((r, c))

    def cell(rgb):
        x, y = _centre(_mask(task.image, rgb))
        return int((y - top) // ch), int((x - left) // cw)
    return adj, cell(maze.START), cell(maze.GOAL)


def shortest(adj: dict, start: tuple, goal: tuple) -> list | None:
    prev, queue = {start: None}, deque([start])
    while queue:
        cur = queue.popleft()
        if cur == goal:
            out = []
            while cur is not None:
                out.append(cur)
                cur = prev[cur]
            return out[::-1]
        for nxt in adj[cur]:
            if nxt not in prev:
                prev[nxt] = cur
                queue.append(nxt)
    return None


def _steps(path: list) -> list[str]:
    names = {(-1, 0): "up", (1, 0): "down", (0, -1): "left", (0, 1): "right"}
    return [names[(b[0] - a[0], b[1] - a[1])] for a, b in zip(path, path[1:])]


def solve_maze(task: Task) -> str:
    adj, s, g = maze_from_pixels(task)
    path = shortest(adj, s, g)
    kind = task.meta["question_kind"]
    if kind == "reachable":
        return "Yes" if path else "No"
    if path is None:
        raise TraceError("maze: the goal is unreachable but the question assumes a path")
    steps = _steps(path)
    if kind == "turns":
        return str(sum(1 for a, b in zip(steps, steps[1:]) if a != b))
    return ", ".join(steps)


def solve_relations(task: Task) -> str:
    found = {}
    for obj in task.meta["objects"]:
        colour = obj["name"].split()[0]
        found[obj["name"]] = _centre(_mask(task.image, relations.COLOURS[colour]))
    refs, kind = task.meta["refs"], task.meta["question_kind"]
    if kind == "position":
        (ax, ay), (bx, by) = found[refs[0]], found[refs[1]]
        return relations.QUADRANTS[(2 if ay > by else 0) + (1 if ax > bx else 0)]
    if kind == "nearer":
        a = found[refs[0]]
        return min(refs[1:], key=lambda n: math.dist(a, found[n]))
    if kind == "count":
        ax = found[refs[0]][0]
        return str(sum(1 for n, (x, _) in found.items() if n != refs[0] and x > ax))
    return ", ".join(sorted(refs, key=lambda n: found[n][0]))


def _cross(o, a, b) -> int:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def solve_geometry(task: Task) -> str:
    p = {k: tuple(v) for k, v in task.meta["points"].items()}
    kind = task.meta["question_kind"]
    if kind == "collinear":
        return "Yes" if _cross(p["A"], p["B"], p["C"]) == 0 else "No"
    if kind == "parallel":
        d = (p["B"][0] - p["A"][0], p["B"][1] - p["A"][1])
        hits = [s for s in task.options
                if d[0] * (p[s[1]][1] - p[s[0]][1]) - d[1] * (p[s[1]][0] - p[s[0]][0]) == 0]
        return hits[0] if len(hits) == 1 else f"{len(hits)} parallel segments"
    if kind == "closer":  # |cross| / |AB| with the same |AB|: compare |cross| exactly
        c, d = abs(_cross(p["A"], p["B"], p["C"])), abs(_cross(p["A"], p["B"], p["D"]))
        return "C" if c < d else "D" if d < c else "tie"

    def cos(v, a, b):
        u, w = (a[0] - v[0], a[1] - v[1]), (b[0] - v[0], b[1] - v[1])
        return (u[0] * w[0] + u[1] * w[1]) / (math.hypot(*u) * math.hypot(*w))
    return "∠ABC" if cos(p["B"], p["A"], p["C"]) < cos(p["E"], p["D"], p["F"]) else "∠DEF"


SOLVERS = {"maze": solve_maze, "relations": solve_relations, "geometry": solve_geometry}


def check(task: Task) -> None:
    """Raise TraceError unless the independent solver gives the task's gold answer."""
    solved = SOLVERS[task.kind](task)
    gold = task.options[LETTERS.index(task.answer)] if task.options else task.answer
    if solved != gold:
        raise TraceError(f"{task.kind}/{task.meta.get('question_kind')}: solver says {solved!r}, "
                         f"generator says {gold!r}")
