"""Relations tasks: scenes of coloured shapes, questions that need positions compared.

Each object has its own colour (its name is "the <colour> <shape>"), so an independent solver
can find every object again from the pixels (solvers.py). Positions are bounding-box centres;
the generator only asks questions whose answer has a clear margin (40 px in a direction, a 25%
distance gap), so pixel rounding never decides them.

Questions: position (where is A relative to B, four options), nearer (which of B, C is closer to
A), count (how many objects lie to the right of A), order (which list orders three objects left
to right). Trace: box the objects involved (Object Mapper); draw auxiliary lines (Path Tracer) —
B to A, A to each candidate, a vertical divider through A, a horizontal axis; then answer. With
reflection a box is first put on the wrong object and redrawn under its label.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import ImageDraw

from thinkpipe.core.drawing import Box, Line

from . import canvas
from .task import LETTERS, Task, Turn, tries

QUESTIONS = ("position", "nearer", "count", "order")
COLOURS = {"red": (220, 30, 30), "blue": (30, 80, 220), "green": (30, 160, 60),
           "yellow": (230, 200, 20), "purple": (140, 60, 170), "orange": (240, 130, 20),
           "cyan": (20, 190, 200), "brown": (130, 80, 40), "pink": (240, 120, 180),
           "gray": (128, 128, 128)}
SHAPES = ("circle", "square", "triangle", "diamond")
QUADRANTS = ["above and to the left", "above and to the right", "below and to the left",
             "below and to the right"]


@dataclass(frozen=True)
class Obj:
    colour: str
    shape: str
    box: tuple[int, int, int, int]

    @property
    def name(self) -> str:
        return f"{self.colour} {self.shape}"

    @property
    def centre(self) -> tuple[float, float]:
        x1, y1, x2, y2 = self.box
        return (x1 + x2) / 2, (y1 + y2) / 2


def place(rng: random.Random, size: int, count: int) -> list[Obj]:
    objs: list[Obj] = []
    colours = rng.sample(list(COLOURS), count)
    attempts = tries(f"{count} objects on {size} px")
    while len(objs) < count:
        next(attempts)
        side = rng.randint(50, 80)
        x, y = rng.randint(20, size - side - 20), rng.randint(20, size - side - 20)
        box = (x, y, x + side, y + side)
        if all(box[0] > o.box[2] + 20 or box[2] < o.box[0] - 20 or box[1] > o.box[3] + 20 or
               box[3] < o.box[1] - 20 for o in objs):
            objs.append(Obj(colours[len(objs)], rng.choice(SHAPES), box))
    return objs


def render(size: int, objs: list[Obj]):
    img = canvas.new(size)
    draw = ImageDraw.Draw(img)
    for o in objs:
        x1, y1, x2, y2 = o.box
        fill = COLOURS[o.colour]
        if o.shape == "circle":
            draw.ellipse(o.box, fill=fill)
        elif o.shape == "square":
            draw.rectangle(o.box, fill=fill)
        elif o.shape == "triangle":
            draw.polygon([((x1 + x2) / 2, y1), (x2, y2), (x1, y2)], fill=fill)
        else:
            cx, cy = o.centre
            draw.polygon([(cx, y1), (x2, cy), (cx, y2), (x1, cy)], fill=fill)
    return img


def _pad(o: Obj) -> tuple[int, int, int, int]:
    x1, y1, x2, y2 = o.box
    return x1 - 6, y1 - 6, x2 + 6, y2 + 6


def _centre_int(o: Obj) -> tuple[int, int]:
    return round(o.centre[0]), round(o.centre[1])


def _dist(a: Obj, b: Obj) -> float:
    return math.dist(a.centre, b.centre)


def quadrant(a: Obj, b: Obj) -> str:
    """Where a is relative to b (image y grows downwards)."""
    return QUADRANTS[(2 if a.centre[1] > b.centre[1] else 0) + (1 if a.centre[0] > b.centre[0] else 0)]


def _pick(rng, objs, question):
    """Objects for the question, with a clear margin; None to try another scene."""
    if question == "position":
        a, b = rng.sample(objs, 2)
        ok = abs(a.centre[0] - b.centre[0]) >= 40 and abs(a.centre[1] - b.centre[1]) >= 40
        return [a, b] if ok else None
    if question == "nearer":
        a, b, c = rng.sample(objs, 3)
        near, far = sorted((_dist(a, b), _dist(a, c)))
        return [a, b, c] if far >= 1.25 * near else None
    if question == "count":
        a = rng.choice(objs)
        ok = all(abs(o.centre[0] - a.centre[0]) >= 25 for o in objs if o is not a)
        return [a] if ok else None
    picked = sorted(rng.sample(objs, 3), key=lambda o: o.centre[0])
    gaps = [b.centre[0] - a.centre[0] for a, b in zip(picked, picked[1:])]
    return rng.sample(picked, 3) if min(gaps) >= 30 else None


def build(rng: random.Random, canvas_px: int, question: str, reflection: bool,
          objects: tuple[int, int] = (4, 7)) -> Task:
    for _ in tries(f"a relations {question} scene on {canvas_px} px"):
        objs = place(rng, canvas_px, rng.randint(*objects))
        refs = _pick(rng, objs, question)
        if refs is not None:
            break
    image = render(canvas_px, objs)
    boxed = refs if question != "count" else [refs[0]] + [
        o for o in objs if o.centre[0] > refs[0].centre[0]]
    ops = [Box(0, _pad(o), o.name) for o in boxed]
    turns = [Turn(f"I start by locating the objects the question is about: "
                  f"{', '.join(o.name for o in boxed)}.", "Object Mapper", ops)]
    others = [o for o in objs if o not in boxed]
    if reflection and others:
        k = rng.randrange(len(ops))
        decoy = rng.choice(others)
        good = ops[k]
        ops[k] = Box(0, _pad(decoy), good.label)
        turns.append(Turn(f"Wait, the box labelled {good.label} surrounds the {decoy.name}, not "
                          f"the {good.label}. I redraw it around the right object.",
                          "Object Mapper", [good], revises=True))
    task = _ask(rng, question, refs, objs, canvas_px)
    text, options, answer, qtype, aux_think, aux_ops, final = task
    turns.append(Turn(aux_think, "Path Tracer", aux_ops))
    return Task("relations", text, options, answer, qtype, image, turns, final,
                {"question_kind": question, "refs": [o.name for o in refs],
                 "objects": [{"name": o.name, "box": list(o.box)} for o in objs]},
                reflection=any(t.revises for t in turns))


def _ask(rng, question, refs, objs, size):
    size_line = lambda a, b, label: Line(0, _centre_int(a), _centre_int(b), label)  # noqa: E731
    if question == "position":
        a, b = refs
        options = list(QUADRANTS)
        answer = LETTERS[options.index(quadrant(a, b))]
        return (f"Where is the {a.name} relative to the {b.name}?", options, answer,
                "multiple_choice", f"A line from the {b.name} to the {a.name} shows the direction.",
                [size_line(b, a, f"{b.name} to {a.name}")],
                f"The line runs {quadrant(a, b).replace('and to the', 'and')}, so the {a.name} "
                f"is {quadrant(a, b)} of the {b.name}: option {answer}.")
    if question == "nearer":
        a, b, c = refs
        near = b if _dist(a, b) < _dist(a, c) else c
        options = [b.name, c.name]
        answer = LETTERS[options.index(near.name)]
        return (f"Which is closer to the {a.name}: the {b.name} or the {c.name}?", options, answer,
                "multiple_choice", "I draw a line from it to each candidate and compare lengths.",
                [size_line(a, b, f"to {b.name}"), size_line(a, c, f"to {c.name}")],
                f"The line to the {b.name} is about {_dist(a, b):.0f} px and the line to the "
                f"{c.name} about {_dist(a, c):.0f} px, so the {near.name} is closer: {answer}.")
    if question == "count":
        a = refs[0]
        right = [o for o in objs if o.centre[0] > a.centre[0]]
        x = _centre_int(a)[0]
        return (f"How many objects lie to the right of the {a.name} (their centre further "
                "right than its centre)?", None, str(len(right)), "numerical",
                f"A vertical line through the centre of the {a.name} splits the scene.",
                [Line(0, (x, 0), (x, size - 1), "divider")],
                f"Right of the divider I boxed {len(right)} object(s): "
                f"{', '.join(o.name for o in right) or 'none'}.")
    ordered = sorted(refs, key=lambda o: o.centre[0])
    correct = ", ".join(o.name for o in ordered)
    perms = {correct}
    while len(perms) < 4:
        perms.add(", ".join(o.name for o in rng.sample(refs, 3)))
    options = sorted(perms)
    answer = LETTERS[options.index(correct)]
    y = round(sum(o.centre[1] for o in refs) / 3)
    return (f"Which list orders the {refs[0].name}, the {refs[1].name} and the {refs[2].name} "
            "from left to right?", options, answer, "multiple_choice",
            "A horizontal axis helps to read off the order of the boxes.",
            [Line(0, (0, y), (size - 1, y), "axis")],
            f"Along the axis the order is {correct}: option {answer}.")

