"""What a task family produces: a question about an image and a scripted drawing trace."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from thinkpipe.core.drawing import Op
from thinkpipe.core.errors import UsageError

LETTERS = "ABCDEFGHIJ"


@dataclass
class Turn:
    """One drawing turn of the trace. Operations use index 0 for "the latest image"."""

    think: str
    action: str
    ops: list[Op]
    revises: bool = False   # redraws a label drawn wrong before (reflection)


@dataclass
class Task:
    kind: str                      # maze | relations | geometry
    question: str
    options: list[str] | None
    answer: str                    # a letter for multiple choice, else the answer text
    question_type: str
    image: Image.Image
    turns: list[Turn]
    final_think: str
    meta: dict[str, Any] = field(default_factory=dict)
    reflection: bool = False


class TraceError(AssertionError):
    """A generated trace that does not replay or whose answer an independent solver rejects:
    a bug in the generator, never skipped."""


class CanvasTooSmall(UsageError):
    """A scene that does not fit the canvas: its layout search gave up (exit 2)."""


def tries(what: str, limit: int = 5000):
    """Bounded rejection sampling: `for _ in tries("a relations scene"):` instead of
    `while True:`. Raises CanvasTooSmall after `limit` rejected layouts."""
    yield from range(limit)
    raise CanvasTooSmall(f"no layout for {what} in {limit} tries: the canvas is too small")
