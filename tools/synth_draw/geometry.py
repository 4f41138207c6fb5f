"""Geometry tasks: labelled points and segments, questions that need an auxiliary line.

Points sit on integer pixels, so the independent solver (solvers.py) decides with exact integer
arithmetic what the generator set up with angles and margins (at least 25 px off a line, 12
degrees between directions, a 30% gap in distances).

Questions: collinear (are A, B, C on one line — extend AB), parallel (which of three segments is
parallel to AB — draw parallels to AB from each segment's first point), closer (which of C, D is
nearer the line AB — drop perpendiculars), angle (which of two angles is larger — equal-length
marks on both rays and the chord between them). With reflection, one auxiliary line is first
drawn from the wrong point and redrawn under its label.
"""
from __future__ import annotations

import math
import random
from typing import NamedTuple

from PIL import ImageDraw

from thinkpipe.core.drawing import Box, Line

from . import canvas
from .task import LETTERS, Task, Turn, tries

QUESTIONS = ("collinear", "parallel", "closer", "angle")
Point = tuple[int, int]


def _rand_point(rng, size, margin=60) -> Point:
    return rng.randint(margin, size - margin), rng.randint(margin, size - margin)


def _inside(p, size, margin=30) -> bool:
    return margin <= p[0] <= size - margin and margin <= p[1] <= size - margin


def _far(points, p, gap=45) -> bool:
    return all(math.dist(p, q) >= gap for q in points)


def render(size: int, points: dict[str, Point], segments: list[tuple[str, str]]):
    img = canvas.new(size)
    draw = ImageDraw.Draw(img)
    for a, b in segments:
        draw.line([points[a], points[b]], fill=canvas.BLACK, width=2)
    for name, (x, y) in points.items():
        draw.ellipse([x - 5, y - 5, x + 5, y + 5], fill=canvas.BLACK)
        draw.text((x + 8, y - 16), name, fill=canvas.BLACK)
    return img


def _extend(p: Point, q: Point, size: int) -> tuple[Point, Point]:
    """The line through p and q, clipped to the canvas."""
    dx, dy = q[0] - p[0], q[1] - p[1]
    ts = []
    for t in ((0 - p[0]) / dx if dx else None, (size - 1 - p[0]) / dx if dx else None,
              (0 - p[1]) / dy if dy else None, (size - 1 - p[1]) / dy if dy else None):
        if t is not None:
            x, y = p[0] + t * dx, p[1] + t * dy
            if -0.5 <= x <= size - 0.5 and -0.5 <= y <= size - 0.5:
                ts.append(t)
    lo, hi = min(ts), max(ts)
    return ((round(p[0] + lo * dx), round(p[1] + lo * dy)),
            (round(p[0] + hi * dx), round(p[1] + hi * dy)))


def _foot(c: Point, a: Point, b: Point) -> Point:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = ((c[0] - a[0]) * dx + (c[1] - a[1]) * dy) / (dx * dx + dy * dy)
    return round(a[0] + t * dx), round(a[1] + t * dy)


def _line_distance(c: Point, a: Point, b: Point) -> float:
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    return abs(cross) / math.dist(a, b)


def _collinear(rng, size):
    for _ in tries(f"a geometry collinear figure on {size} px"):
        a = _rand_point(rng, size)
        d = (rng.randint(-6, 6), rng.randint(-6, 6))
        if d == (0, 0) or math.hypot(*d) < 3:
            continue
        m, k = rng.randint(6, 14), rng.randint(18, 30)
        b, c = (a[0] + m * d[0], a[1] + m * d[1]), (a[0] + k * d[0], a[1] + k * d[1])
        on_line = rng.random() < 0.5
        if not on_line:
            norm = math.hypot(*d)
            off = rng.choice([-1, 1]) * rng.randint(25, 60)
            c = (round(c[0] - d[1] / norm * off), round(c[1] + d[0] / norm * off))
        if _inside(b, size) and _inside(c, size) and _far([a, b], c):
            return {"A": a, "B": b, "C": c}, on_line


def _parallel(rng, size):
    for _ in tries(f"a geometry parallel figure on {size} px"):
        a, b = _rand_point(rng, size), _rand_point(rng, size)
        d = (b[0] - a[0], b[1] - a[1])
        g = math.gcd(*d)
        if g == 0 or math.dist(a, b) < 120:
            continue
        unit = (d[0] // g, d[1] // g)
        points, segs, which = {"A": a, "B": b}, [], rng.randrange(3)
        for i, (p, q) in enumerate(("CD", "EF", "GH")):
            start = _rand_point(rng, size)
            if i == which:
                k = max(1, round(rng.uniform(60, 160) / math.hypot(*unit)))
                end = (start[0] + k * unit[0], start[1] + k * unit[1])
            else:
                angle = math.atan2(d[1], d[0]) + math.radians(rng.choice([-1, 1]) * rng.uniform(15, 70))
                length = rng.uniform(70, 160)
                end = (round(start[0] + length * math.cos(angle)), round(start[1] + length * math.sin(angle)))
            points[p], points[q] = start, end
            segs.append(p + q)
        if all(_inside(p, size) for p in points.values()) and all(
                _far([q for n, q in points.items() if n != name], p, 30) for name, p in points.items()):
            return points, segs, segs[which]


def _closer(rng, size):
    for _ in tries(f"a geometry closer figure on {size} px"):
        a, b = _rand_point(rng, size), _rand_point(rng, size)
        if math.dist(a, b) < 150:
            continue
        c, d = _rand_point(rng, size), _rand_point(rng, size)
        dc, dd = _line_distance(c, a, b), _line_distance(d, a, b)
        if min(dc, dd) >= 20 and max(dc, dd) >= 1.3 * min(dc, dd) and _far([a, b], c) \
                and _far([a, b, c], d):
            return {"A": a, "B": b, "C": c, "D": d}, ("C" if dc < dd else "D")


def _angle_at(v, p, q) -> float:
    a1, a2 = math.atan2(p[1] - v[1], p[0] - v[0]), math.atan2(q[1] - v[1], q[0] - v[0])
    diff = abs(a1 - a2)
    return math.degrees(min(diff, 2 * math.pi - diff))


def _angle(rng, size):
    for _ in tries(f"a geometry angle figure on {size} px"):
        pts = {n: _rand_point(rng, size) for n in "ABCDEF"}
        if not all(_far([q for m, q in pts.items() if m != n], p, 50) for n, p in pts.items()):
            continue
        if min(math.dist(pts["B"], pts[n]) for n in "AC") < 90 or \
                min(math.dist(pts["E"], pts[n]) for n in "DF") < 90:
            continue
        x, y = _angle_at(pts["B"], pts["A"], pts["C"]), _angle_at(pts["E"], pts["D"], pts["F"])
        if 20 <= min(x, y) and max(x, y) <= 160 and abs(x - y) >= 12:
            return pts, ("ABC" if x > y else "DEF")


def _mark(v: Point, p: Point, r: float = 60) -> Point:
    d = math.dist(v, p)
    return round(v[0] + (p[0] - v[0]) * r / d), round(v[1] + (p[1] - v[1]) * r / d)


class Figure(NamedTuple):
    """A question's figure and the script of its trace."""
    points: dict[str, Point]
    segments: list[tuple[str, str]]     # drawn in the image
    aux: list[Line]                     # the auxiliary lines the trace draws
    wrong: list[Line]                   # with reflection: the first, wrong attempt at aux[0]
    note: str                           # what the revising turn says about it
    text: str
    options: list[str]
    answer: str
    final: str
    think: str


def _collinear_figure(rng, size) -> Figure:
    points, on_line = _collinear(rng, size)
    p, q = _extend(points["A"], points["B"], size)
    turn = math.radians(rng.choice([-1, 1]) * rng.uniform(8, 15))  # a line misaimed at B
    bx, by = points["B"][0] - points["A"][0], points["B"][1] - points["A"][1]
    aim = (points["A"][0] + bx * math.cos(turn) - by * math.sin(turn),
           points["A"][1] + bx * math.sin(turn) + by * math.cos(turn))
    return Figure(
        points, [("A", "B")], [Line(0, p, q, "line AB")],
        [Line(0, *_extend(points["A"], aim, size), "line AB")],
        "line AB misses B: I aimed it wrong. I draw it again through A and B.",
        "Are the points A, B and C collinear (on one straight line)?", ["Yes", "No"],
        "A" if on_line else "B",
        "C lies exactly on the extended line AB, so they are collinear." if on_line else
        "C is clearly off the extended line AB, so they are not collinear.",
        "Extending the segment AB across the image shows whether C lies on that line.")


def _parallel_figure(rng, size) -> Figure:
    points, segs, right = _parallel(rng, size)
    d = (points["B"][0] - points["A"][0], points["B"][1] - points["A"][1])
    aux = []
    for s in segs:
        start = points[s[0]]
        length = math.dist(points[s[0]], points[s[1]]) / math.hypot(*d)
        aux.append(Line(0, start, (round(start[0] + d[0] * length), round(start[1] + d[1] * length)),
                        f"parallel to AB at {s[0]}"))
    answer = LETTERS[segs.index(right)]
    return Figure(
        points, [("A", "B")] + [(s[0], s[1]) for s in segs], aux,
        [Line(0, points[segs[0][1]], aux[0].end, aux[0].label)],
        f"{aux[0].label} starts at {segs[0][1]} instead of {segs[0][0]}. I draw it again.",
        f"Which segment is parallel to AB: {', '.join(segs)}?", segs, answer,
        f"Only {right} coincides with the parallel to AB drawn from {right[0]}: option {answer}.",
        "From the first point of each segment I draw a line parallel to AB of the same length.")


def _closer_figure(rng, size) -> Figure:
    points, near = _closer(rng, size)
    aux = [Line(0, points[n], _foot(points[n], points["A"], points["B"]), f"{n} to AB")
           for n in "CD"]
    options = ["C", "D"]
    answer = LETTERS[options.index(near)]
    return Figure(
        points, [("A", "B")], aux, [Line(0, points["A"], points["C"], aux[0].label)],
        "C to AB joins C to A, which is not the perpendicular. I draw it again to AB.",
        "Which point is closer to the straight line through A and B: C or D?", options, answer,
        f"The perpendicular from {near} is the shorter one, so {near} is closer: option {answer}.",
        "I drop a perpendicular from C and from D onto the line AB and compare their lengths.")


def _angle_figure(rng, size) -> Figure:
    points, larger = _angle(rng, size)
    aux = [Line(0, _mark(points["B"], points["A"]), _mark(points["B"], points["C"]), "chord at B"),
           Line(0, _mark(points["E"], points["D"]), _mark(points["E"], points["F"]), "chord at E")]
    answer = LETTERS[0 if larger == "ABC" else 1]
    return Figure(
        points, [("B", "A"), ("B", "C"), ("E", "D"), ("E", "F")], aux,
        [Line(0, points["A"], points["C"], aux[0].label)],
        "the chord at B joins A and C, not the two marks. I draw it again between the marks.",
        "Which angle is larger: ∠ABC or ∠DEF?", ["∠ABC", "∠DEF"], answer,
        f"The chord at {larger[1]} is longer for the same marks, so ∠{larger} is larger: "
        f"option {answer}.",
        "On both arms of each angle I mark the point 60 px from the vertex and join the "
        "marks; the wider angle has the longer chord.")


FIGURES = {"collinear": _collinear_figure, "parallel": _parallel_figure,
           "closer": _closer_figure, "angle": _angle_figure}


def _turns(fig: Figure, reflection: bool) -> list[Turn]:
    if reflection:
        turns = [Turn(fig.think, "Path Tracer", fig.wrong),
                 Turn(f"Wait, {fig.note}", "Path Tracer", [fig.aux[0]], revises=True)]
        if fig.aux[1:]:
            turns.append(Turn("Now the remaining auxiliary line(s).", "Path Tracer", fig.aux[1:]))
        return turns
    if len(fig.aux) > 1:
        return [Turn(fig.think, "Path Tracer", fig.aux[:1]),
                Turn("Next the remaining auxiliary line(s).", "Path Tracer", fig.aux[1:])]
    x, y = fig.points["C"]
    return [Turn(fig.think, "Path Tracer", fig.aux),
            Turn("Let me look closely at C against the extended line.", "Object Mapper",
                 [Box(0, (x - 14, y - 14, x + 14, y + 14), "point C")])]


def build(rng: random.Random, canvas_px: int, question: str, reflection: bool) -> Task:
    fig = FIGURES[question](rng, canvas_px)
    image = render(canvas_px, fig.points, fig.segments)
    turns = _turns(fig, reflection)
    meta = {"question_kind": question, "points": {k: list(v) for k, v in fig.points.items()},
            "segments": ["".join(s) for s in fig.segments]}
    return Task("geometry", fig.text, fig.options, fig.answer, "multiple_choice", image, turns,
                fig.final, meta, reflection=any(t.revises for t in turns))
