"""Progress a running command reports: a count, an optional total, and a few named values.

Tools and core only report; how it is shown (a live display on a terminal, a plain line at most
every 30 s in a log, nothing under -q) is the CLI's business (cli/progress.py). The command's
runner installs its display with `using(display)`; everything else calls `current()`:

    progress = current()
    progress.begin("records")                 # a phase: its unit, and its total when known
    progress.advance(1, accepted="12.5%")     # one more, with values shown beside the count
    progress.begin("steps", total=300)        # the next phase replaces the first
    progress.end()

A phase's count belongs to the phase. Without a display installed every call does nothing, so
library use costs nothing.
"""
from __future__ import annotations

import contextlib
from typing import Iterator


class Progress:
    """The interface, and the silent default."""

    def begin(self, unit: str, total: int | None = None, done: int = 0) -> None:
        """Start a phase counted in `unit` (records, steps), from `done`."""

    def advance(self, n: int = 1, **info) -> None:
        """`n` more of the unit; `info` values are shown beside the count."""

    def set(self, done: int, **info) -> None:
        """The count is `done` now."""

    def end(self) -> None:
        """The command is finished: remove a live display, print nothing more."""


_current: Progress = Progress()


def current() -> Progress:
    return _current


@contextlib.contextmanager
def using(display: Progress) -> Iterator[Progress]:
    """Install `display` for the duration of a command (and end it, however the command ends)."""
    global _current
    previous, _current = _current, display
    try:
        yield display
    finally:
        try:
            display.end()
        finally:
            _current = previous
