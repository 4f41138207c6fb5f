"""Values that models and hand-made files write: JSON, else a Python literal, never `eval`.

    parse_value('{"a": [1, 2]}')      # JSON
    parse_value("{'a': (1, 2)}")      # a Python literal (single quotes, tuples, None)

Models answer in either; MME-Reasoning's `special_info` is a Python literal; drawing blocks come
in both. Text longer than `max_chars` is refused before the (recursive) literal parser sees it,
and nesting too deep for it is a NotAValue too.
"""
from __future__ import annotations

import ast
from typing import Any

import orjson

MAX_CHARS = 100_000


class NotAValue(ValueError):
    """Neither JSON nor a Python literal (or too large to try)."""


def parse_value(text: str, max_chars: int = MAX_CHARS) -> Any:
    if len(text) > max_chars:
        raise NotAValue(f"{len(text):,} characters, more than {max_chars:,}")
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as e:
        raise NotAValue(f"neither JSON nor a literal: {type(e).__name__}") from None
