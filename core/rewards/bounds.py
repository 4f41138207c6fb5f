"""Bounded scoring time on any output, however degenerate.

A collapsing policy writes `"<answer>" * 20000` or a megabyte of one character, millions of
times during RL. Extraction and every verifier are linear in what they read (core/tags.py scans
tags with str.find, never a lazy regex from every start), and what they read is bounded:

    WINDOW       a prediction longer than WINDOW characters is scored from its last WINDOW
                 (answers come last); the record says so: `score_window: [start, length]`,
                 the half-open range of characters read. The tags open at the cut are carried
                 over, so a reasoning block opened before it and never closed is still
                 `truncated`, and one closed after it still hides what it holds; a tag
                 across the cut moves the cut to its `<`.
    MATH_CHARS   a math answer longer than this skips the symbolic comparison (math-verify's
                 LaTeX parser is super-linear: 300 characters of `{` take seconds); the exact
                 and numeric comparisons still run. Shorter pathological LaTeX is bounded
                 only by math-verify's own 5 s timer (a finer one made scores depend on load).
"""
from __future__ import annotations

from ..tags import ascii_lower

WINDOW = 64 * 1024
MATH_CHARS = 1000
# tags whose state at the cut decides extraction: an open block is re-opened in the window
CARRIED = (("<think>", "</think>"), ("<answer>", "</answer>"))


def tail(output: str) -> tuple[str, list[int] | None]:
    """(the text to score, [start, length]: the range of `output` it holds, None when whole)."""
    if len(output) <= WINDOW:
        return output, None
    start = len(output) - WINDOW
    if (lt := output.rfind("<", start - 9, start)) >= 0:
        start = lt                      # a tag across the cut goes whole into the window
    head = output[:start]
    low = head.lower() if head.isascii() else ascii_lower(head)
    reopened = "".join(open_tag for open_tag, close_tag in CARRIED
                       if low.rfind(open_tag) > low.rfind(close_tag))
    return reopened + output[start:], [start, len(output)]


def window_fields(output: str | None) -> dict:
    """{"score_window": [start, length]} when only a tail of `output` is read, else {}."""
    window = tail(output)[1] if isinstance(output, str) else None
    return {"score_window": window} if window else {}
