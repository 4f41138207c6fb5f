"""Reflection: the model revised a drawing — a label drawn again with a different shape.

VILASR's definition (rejection sampling keeps trajectories that are correct, well formatted
and reflective): the same label appears at different steps with a different operation. The
reference detector (`verl/utils/reward_score/gcot.py`) only compares boxes' coordinates; here
boxes and lines both count, and a label moving from a box to a line counts too.
"""
from __future__ import annotations

from .dialect import parse_turn
from .ops import Box, Op


def _shape(op: Op) -> tuple:
    return ("box", op.bbox) if isinstance(op, Box) else ("line", op.start, op.end)


def revisions(turns: list[str], dialect: str = "auto") -> list[str]:
    """Labels redrawn with a different shape, in the order the revisions happen."""
    seen: dict[str, set[tuple]] = {}
    revised: list[str] = []
    for text in turns:
        for op in parse_turn(text, dialect).ops:
            shapes = seen.setdefault(op.label, set())
            if shapes and _shape(op) not in shapes and op.label not in revised:
                revised.append(op.label)
            shapes.add(_shape(op))
    return revised


def has_reflection(turns: list[str], dialect: str = "auto") -> bool:
    return bool(revisions(turns, dialect))
