"""How progress is shown on stderr (what is reported: core/progress.py).

    live     stderr is a terminal: rich's live display (count, total, rate, elapsed, ETA, values),
             removed when the command ends; log lines print above it
    lines    stderr is a file or a pipe (cron, Makefiles, CI): no carriage returns, no escape
             codes, one plain line at most every --progress-every seconds (30), so a log shows a
             long job alive and a short one prints nothing
    none     -q, and every rank of a distributed run but rank 0
TERM=dumb gets lines; NO_COLOR is respected by rich. stdout never carries any of it.
"""
from __future__ import annotations

import os
import sys
import time

from thinkpipe.core.progress import Progress


def display(command: str, quiet: bool = False, every: float = 30.0) -> Progress:
    """The display this command's stderr wants."""
    if quiet or os.environ.get("RANK", "0") != "0":
        return Progress()
    if sys.stderr.isatty() and os.environ.get("TERM", "") != "dumb":
        return LiveProgress(command)
    return LineProgress(command, every)


def _info_text(info: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in info.items())


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class LineProgress(Progress):
    """`grpo: progress: 120/300 steps (0.8/s, 2:30 elapsed, ETA 3:45), reward 0.41`."""

    def __init__(self, command: str, every: float = 30.0, stream=None, clock=time.monotonic):
        self.command, self.every, self.stream, self.clock = command, every, stream, clock
        self.unit, self.total, self.done, self.first, self.info = "records", None, 0, 0, {}
        self.start = self.last = clock()

    def begin(self, unit: str, total: int | None = None, done: int = 0) -> None:
        self.unit, self.total, self.done, self.info = unit, total, done, {}
        self.start = self.last = self.clock()
        self.first = done

    def advance(self, n: int = 1, **info) -> None:
        self.set(self.done + n, **info)

    def set(self, done: int, **info) -> None:
        self.done = done
        self.info.update(info)
        now = self.clock()
        if now - self.last >= self.every:
            self.last = now
            (self.stream or sys.stderr).write(self.line(now) + "\n")
            (self.stream or sys.stderr).flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = (self.done - self.first) / elapsed
        count = f"{self.done:,}" + (f"/{self.total:,}" if self.total else "")
        timing = f"{rate:,.3g}/s, {_duration(elapsed)} elapsed"
        if self.total and rate > 0:
            timing += f", ETA {_duration((self.total - self.done) / rate)}"
        extra = _info_text(self.info)
        return f"{self.command}: progress: {count} {self.unit} ({timing})" + \
            (f", {extra}" if extra else "")


class LiveProgress(Progress):
    """rich's display on stderr, transient; created on the first `begin`."""

    def __init__(self, command: str):
        self.command, self._bar, self._task = command, None, None

    def begin(self, unit: str, total: int | None = None, done: int = 0) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        if self._bar is None:
            self._bar = Bar(TextColumn(f"{self.command}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[unit]}"), _Rate(), TimeElapsedColumn(),
                            TimeRemainingColumn(), TextColumn("{task.fields[info]}"),
                            console=Console(stderr=True), transient=True,
                            redirect_stdout=False, redirect_stderr=True)
            self._bar.start()
        if self._task is not None:
            self._bar.remove_task(self._task)
        self._task = self._bar.add_task("", total=total, completed=done, unit=unit, info="")

    def advance(self, n: int = 1, **info) -> None:
        if self._task is not None:
            self._bar.update(self._task, advance=n, **self._fields(info))

    def set(self, done: int, **info) -> None:
        if self._task is not None:
            self._bar.update(self._task, completed=done, **self._fields(info))

    def _fields(self, info: dict) -> dict:
        return {"info": _info_text(info)} if info else {}

    def end(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None


def _rate_column():
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items per second, as the unit counts them."""

        def render(self, task) -> Text:
            return Text(f"{task.speed:,.3g}/s" if task.speed else "")
    return Rate


def _Rate():  # noqa: N802 - built lazily: rich is imported only when a live display starts
    return _rate_column()()
