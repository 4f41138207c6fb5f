"""Drawing operations and their safe parsing from untrusted model text.

Two operations, as in VILASR:
  Box   {"index": k, "bbox_2d": [x1, y1, x2, y2], "label": s}            ("Object Mapper")
  Line  {"index": k, "start_point_2d": [x, y], "end_point_2d": [x, y], "label": s}  ("Path Tracer")
`index` is the 1-based number of the image drawn on; coordinates are absolute pixels.

Model output is hostile input: `parse_block` accepts JSON or a Python literal (the reference
parses with a literal evaluator; nothing here evaluates code), refuses blocks over 256 kB before
parsing, survives deep nesting, huge integers, NaN and infinity, and reports every problem as a
message instead of raising.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

from ..literal import NotAValue, parse_value

MAX_BLOCK = 256 * 1024      # characters in one drawing block
MAX_COORD = 10**12           # |coordinate| accepted (then clipped to the image)


@dataclass(frozen=True)
class Box:
    index: int
    bbox: tuple[float, float, float, float]
    label: str

    def to_dict(self) -> dict:
        return {"index": self.index, "bbox_2d": [_num(v) for v in self.bbox], "label": self.label}


@dataclass(frozen=True)
class Line:
    index: int
    start: tuple[float, float]
    end: tuple[float, float]
    label: str

    def to_dict(self) -> dict:
        return {"index": self.index, "start_point_2d": [_num(v) for v in self.start],
                "end_point_2d": [_num(v) for v in self.end], "label": self.label}


Op = Union[Box, Line]


def _num(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


class OpError(ValueError):
    """A drawing block or operation that cannot be executed."""


def parse_block(text: str) -> Any:
    """A drawing block's value: JSON first, then a Python literal. OpError on anything else."""
    if len(text) > MAX_BLOCK:
        raise OpError(f"drawing block too large ({len(text):,} characters)")
    try:
        return parse_value(text, MAX_BLOCK)
    except NotAValue as e:
        raise OpError(f"drawing block is {e}") from None


def _coord(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise OpError(f"{what} must be a number, not {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:
        raise OpError(f"{what} is out of range") from None
    if not math.isfinite(v) or abs(v) > MAX_COORD:
        raise OpError(f"{what} must be a finite number within ±{MAX_COORD:,}")
    return v


def _point(value: Any, n: int, what: str) -> tuple[float, ...]:
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise OpError(f"{what} must be a list of {n} numbers")
    return tuple(_coord(v, what) for v in value)


def _index(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            (isinstance(value, float) and not value.is_integer()):
        raise OpError("index must be a whole number (the image to draw on, from 1)")
    if not 1 <= value <= 10_000:   # (an integer of thousands of digits cannot be written out)
        raise OpError(f"index {value if abs(value) < 10**20 else 'of that size'} is not an "
                      "image number")
    return int(value)


def to_op(item: Any) -> Op | None:
    """One parsed dict -> Box or Line; None for dicts that are neither (the reference ignores
    them); OpError for a box or line that is malformed (no index, bad coordinates)."""
    if not isinstance(item, dict):
        raise OpError(f"each operation must be an object, not {type(item).__name__}")
    is_box = "bbox_2d" in item
    is_line = "start_point_2d" in item or "end_point_2d" in item
    if not (is_box or is_line):
        return None
    if "index" not in item:
        raise OpError("operation has no index (the image to draw on)")
    label = item.get("label", "")
    if not isinstance(label, (str, int, float)) or isinstance(label, bool):
        raise OpError("label must be text")
    try:
        label = str(label)[:200]
    except ValueError:          # an integer beyond Python's 4300-digit limit for str()
        raise OpError("label must be text, not a number that long") from None
    if is_box:
        return Box(_index(item["index"]), _point(item["bbox_2d"], 4, "bbox_2d"), label)
    return Line(_index(item["index"]), _point(item.get("start_point_2d"), 2, "start_point_2d"),
                _point(item.get("end_point_2d"), 2, "end_point_2d"), label)


def to_ops(value: Any) -> tuple[list[Op], int]:
    """A block's value (a list of dicts, or one dict) -> (operations, ignored dicts)."""
    items = value if isinstance(value, list) else [value]
    ops, ignored = [], 0
    for item in items:
        op = to_op(item)
        if op is None:
            ignored += 1
        else:
            ops.append(op)
    return ops, ignored
