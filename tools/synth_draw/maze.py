"""Maze tasks: square grid mazes with a start and a goal, solved by tracing the path.

The canvas follows the layout VILASR's maze check assumes (`calculate_grid_centers` in its
`eval/infer.py`: a 616 px square with margins of 12.5% left, 10% right, 12% top and 11% bottom),
so traced paths land on the cell centres that check expects. Mazes are perfect (a random
spanning tree, carved by depth-first search), so the path between two cells is unique; for
"unreachable" questions one passage on that path is walled up.

Questions: path_mc (which move list leads from S to G, four options), path_seq (the move list
itself), reachable (yes/no), turns (how many turns the path takes).
Trace: box S and G; trace the path run by run through cell centres (Path Tracer), a few runs a
turn; with reflection, one run is first drawn wrong (overshooting its turn, or through a wall)
and redrawn under the same label in the next turn; then answer.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import ImageDraw

from thinkpipe.core.drawing import Box, Line

from . import canvas
from .task import LETTERS, Task, Turn, tries

QUESTIONS = ("path_mc", "path_seq", "reachable", "turns")
START, GOAL = (0, 150, 0), (220, 0, 0)
DIRS = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}
Cell = tuple[int, int]


@dataclass(frozen=True)
class Layout:
    size: int
    n: int

    @property
    def box(self) -> tuple[float, float, float, float]:
        s = self.size
        return 0.125 * s, 0.12 * s, s - 0.10 * s, s - 0.11 * s  # left, top, right, bottom

    @property
    def cell(self) -> tuple[float, float]:
        left, top, right, bottom = self.box
        return (right - left) / self.n, (bottom - top) / self.n

    def centre(self, cell: Cell) -> tuple[int, int]:
        (left, top, _, _), (cw, ch) = self.box, self.cell
        return round(left + (cell[1] + 0.5) * cw), round(top + (cell[0] + 0.5) * ch)

    def corner(self, r: int, c: int) -> tuple[float, float]:
        (left, top, _, _), (cw, ch) = self.box, self.cell
        return left + c * cw, top + r * ch


def neighbours(cell: Cell, n: int):
    for name, (dr, dc) in DIRS.items():
        r, c = cell[0] + dr, cell[1] + dc
        if 0 <= r < n and 0 <= c < n:
            yield name, (r, c)


def carve(rng: random.Random, n: int) -> set[frozenset]:
    """A perfect maze: passages of a random spanning tree (iterative depth-first search)."""
    start = (rng.randrange(n), rng.randrange(n))
    seen, stack, passages = {start}, [start], set()
    while stack:
        cell = stack[-1]
        options = [nb for _, nb in neighbours(cell, n) if nb not in seen]
        if not options:
            stack.pop()
            continue
        nxt = rng.choice(options)
        passages.add(frozenset((cell, nxt)))
        seen.add(nxt)
        stack.append(nxt)
    return passages


def tree_path(passages: set[frozenset], n: int, start: Cell, goal: Cell) -> list[Cell]:
    """The unique path in the spanning tree (parent pointers from a search at `start`)."""
    parent, frontier = {start: None}, [start]
    while frontier:
        cell = frontier.pop()
        for _, nb in neighbours(cell, n):
            if nb not in parent and frozenset((cell, nb)) in passages:
                parent[nb] = cell
                frontier.append(nb)
    path, cell = [], goal
    while cell is not None:
        path.append(cell)
        cell = parent[cell]
    return path[::-1]


def moves(path: list[Cell]) -> list[str]:
    inverse = {v: k for k, v in DIRS.items()}
    return [inverse[(b[0] - a[0], b[1] - a[1])] for a, b in zip(path, path[1:])]


def runs(path: list[Cell]) -> list[tuple[str, int, Cell, Cell]]:
    """Straight stretches: (direction, cells moved, from cell, to cell)."""
    out, i, steps = [], 0, moves(path)
    while i < len(steps):
        j = i
        while j < len(steps) and steps[j] == steps[i]:
            j += 1
        out.append((steps[i], j - i, path[i], path[j]))
        i = j
    return out


def render(layout: Layout, passages: set[frozenset], start: Cell, goal: Cell):
    img = canvas.new(layout.size)
    draw = ImageDraw.Draw(img)
    n = layout.n
    for r in range(n):
        for c in range(n):
            if c + 1 < n and frozenset(((r, c), (r, c + 1))) not in passages:
                draw.line([layout.corner(r, c + 1), layout.corner(r + 1, c + 1)],
                          fill=canvas.BLACK, width=4)
            if r + 1 < n and frozenset(((r, c), (r + 1, c))) not in passages:
                draw.line([layout.corner(r + 1, c), layout.corner(r + 1, c + 1)],
                          fill=canvas.BLACK, width=4)
    left, top, right, bottom = layout.box
    draw.rectangle([left, top, right, bottom], outline=canvas.BLACK, width=4)
    radius = 0.28 * min(layout.cell)
    for cell, colour, letter in ((start, START, "S"), (goal, GOAL, "G")):
        x, y = layout.centre(cell)
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=colour)
        draw.text((x - 3, y - 6), letter, fill=canvas.WHITE)
    return img


def _moves_text(steps: list[str]) -> str:
    return ", ".join(steps)


def _distractors(rng: random.Random, path: list[Cell], n: int) -> list[str]:
    """Three wrong move lists that look like answers (a run changed, a wrong turn, reversed)."""
    right = moves(path)
    wrong = set()
    flip = {"up": "down", "down": "up", "left": "right", "right": "left"}
    candidates = [[flip[m] for m in right[::-1]], right[:-1] + [flip[right[-1]]] if right else [],
                  right + [right[-1]] if right else [], right[1:] if len(right) > 1 else []]
    for i in range(len(right)):
        turned = list(right)
        turned[i] = rng.choice([d for d in DIRS if d not in (right[i], flip[right[i]])])
        candidates.append(turned)
    rng.shuffle(candidates)
    for cand in candidates:
        text = _moves_text(cand)
        if cand and cand != right and text not in wrong:
            wrong.add(text)
        if len(wrong) == 3:
            break
    while len(wrong) < 3:  # tiny mazes: pad with random walks
        wrong.add(_moves_text([rng.choice(list(DIRS)) for _ in range(max(2, len(right)))]))
        wrong.discard(_moves_text(right))
    return sorted(wrong)


def _wrong_run(run: tuple[str, int, Cell, Cell], n: int, layout: Layout) -> Line | None:
    """The run drawn wrong: one cell too far (overshooting its turn), one short, or bent."""
    name, count, a, b = run
    dr, dc = DIRS[name]
    for er, ec in ((dr, dc), (-dr, -dc), (dc, dr), (-dc, -dr)):
        end = (b[0] + er, b[1] + ec)
        if 0 <= end[0] < n and 0 <= end[1] < n and end != a:
            return Line(0, layout.centre(a), layout.centre(end), "")
    return None


def build(rng: random.Random, size: int, canvas_px: int, question: str,
          reflection: bool) -> Task:
    layout = Layout(canvas_px, size)
    passages = carve(rng, size)
    cells = [(r, c) for r in range(size) for c in range(size)]
    for _ in tries(f"a {size}x{size} maze path"):
        start, goal = rng.sample(cells, 2)
        path = tree_path(passages, size, start, goal)
        if len(path) - 1 >= max(2, size - 1):
            break
    reachable = question != "reachable" or rng.random() < 0.5
    shown = list(path)
    if not reachable:  # wall up one passage of the path, keep the path up to it
        cut = rng.randrange(1, len(path) - 1)  # at least one run is traced before the wall
        passages = passages - {frozenset((path[cut], path[cut + 1]))}
        shown = path[:cut + 1]
    image = render(layout, passages, start, goal)
    half = [round(v / 2) for v in layout.cell]
    turns = [Turn(rng.choice([
        "First I find the start S (green disc) and the goal G (red disc) and mark both.",
        "I need the start and the goal before tracing anything: S is green, G is red."]),
        "Object Mapper",
        [Box(0, _around(layout.centre(start), half), "start S"),
         Box(0, _around(layout.centre(goal), half), "goal G")])]
    turns += _path_turns(rng, shown, layout, reflection, reachable, path)
    all_moves = moves(path)
    options, answer, qtype = None, None, "multiple_choice"
    if question == "path_mc":
        options = _distractors(rng, path, size) + [_moves_text(all_moves)]
        rng.shuffle(options)
        answer = LETTERS[options.index(_moves_text(all_moves))]
        text = ("The maze has a start S (green) and a goal G (red). Moving only through open "
                "passages, which sequence of moves leads from S to G?")
        final = f"The traced path reads {_moves_text(all_moves)}, which is option {answer}."
    elif question == "path_seq":
        qtype, answer = "sequence", _moves_text(all_moves)
        text = ("The maze has a start S (green) and a goal G (red). Moving only through open "
                "passages, list the moves from S to G (up, down, left or right, one per cell, "
                "separated by commas).")
        final = f"Reading the traced path cell by cell: {answer}."
    elif question == "reachable":
        options = ["Yes", "No"]
        answer = "A" if reachable else "B"
        text = ("The maze has a start S (green) and a goal G (red). Can G be reached from S "
                "moving only through open passages?")
        final = ("The traced path connects S to G, so G is reachable." if reachable else
                 "Every way forward from S ends at a wall before G, so G cannot be reached.")
    else:
        qtype = "numerical"
        answer = str(max(0, len(runs(path)) - 1))
        text = ("The maze has a start S (green) and a goal G (red). Following the only path "
                "from S to G through open passages, how many times does the path turn?")
        final = f"The path has {len(runs(path))} straight runs, so it turns {answer} times."
    return Task("maze", text, options, answer, qtype, image, turns, final,
                {"grid_size": size, "question_kind": question, "start": list(start),
                 "goal": list(goal), "reachable": reachable, "moves": all_moves},
                reflection=any(t.revises for t in turns))


def _around(centre: tuple[int, int], half: list[int]) -> tuple[int, int, int, int]:
    x, y = centre
    return x - half[0], y - half[1], x + half[0], y + half[1]


def _path_turns(rng, shown, layout, reflection, reachable, full_path) -> list[Turn]:
    stretch = runs(shown)
    lines = [Line(0, layout.centre(a), layout.centre(b), f"path {i + 1}")
             for i, (_, _, a, b) in enumerate(stretch)]
    chunks = [lines[i:i + 3] for i in range(0, len(lines), 3)] or [[]]
    wrong_at = None
    if reflection and stretch:
        wrong_at = rng.randrange(len(stretch))
        bad = _wrong_run(stretch[wrong_at], layout.n, layout)
        wrong_at = wrong_at if bad is not None else None
    turns, done = [], 0
    for chunk in chunks:
        if not chunk:
            break
        ops, revise = list(chunk), None
        idx = [done + i for i in range(len(chunk))]
        if wrong_at in idx:
            k = idx.index(wrong_at)
            good = chunk[k]
            bad = _wrong_run(stretch[wrong_at], layout.n, layout)
            ops[k] = Line(0, bad.start, bad.end, good.label)
            revise = good
        steps = "; ".join(f"{d} {n} cell{'s' * (n > 1)}" for d, n, _, _ in
                          stretch[done:done + len(chunk)])
        turns.append(Turn(f"Tracing the open corridor from {'S' if done == 0 else 'where I stopped'}"
                          f": {steps}.", "Path Tracer", ops))
        if revise is not None:
            turns.append(Turn(rng.choice([
                f"Wait, {revise.label} does not stop where the corridor turns; it runs into a "
                f"wall. I redraw {revise.label} to end at the turn.",
                f"Checking the drawing: {revise.label} goes one cell off the corridor. Let me "
                f"draw {revise.label} again along the open passage."]),
                "Path Tracer", [revise], revises=True))
        done += len(chunk)
    if not reachable:
        turns[-1] = Turn(turns[-1].think + " The next passage is closed by a wall, and no other "
                         "corridor leads to G.", turns[-1].action, turns[-1].ops, turns[-1].revises)
    return turns
