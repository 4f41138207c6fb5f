"""Training metrics: one JSON line per logged step, to stdout or a file, and to the experiment
trackers of --report-to (trackers.py).

Only rank 0 writes. `NullMetrics` stands in on other ranks so the loop never branches on rank.

A closed pipe does not stop training: when the reader of stdout (or of a --metrics FIFO) goes
away (`sft ... | head -1`), the metrics lines are dropped from then on with one warning, and the
run, its checkpoints and its --report-to trackers go on to the end (exit 0). Any other write
error (`> /dev/full`, a full disk, a quota) is OutputError, exit 73: metrics that were asked for
and cannot be kept stop the run at its first logged step rather than vanish.
"""
from __future__ import annotations

import json
import logging
import os
import sys

from ..errors import OutputError
from ..records.jsonl import dumps

log = logging.getLogger("thinkpipe.train")


def _kept_lines(path: str, resumed_step: int | None) -> bytes:
    """The lines of an earlier run's metrics file that a resumed run keeps: steps up to its
    checkpoint (the rest it recomputes). A fresh run keeps none."""
    if resumed_step is None or not os.path.exists(path):
        return b""
    kept = []
    with open(path, "rb") as f:
        for line in f:
            try:
                step = json.loads(line).get("step")
            except (ValueError, AttributeError):
                continue                               # a torn last line
            if isinstance(step, int) and step <= resumed_step:
                kept.append(line if line.endswith(b"\n") else line + b"\n")
    return b"".join(kept)


class Metrics:
    """--metrics FILE is started anew by a fresh run; a resumed run keeps the rows up to its
    checkpoint, so the file reads as one uninterrupted run."""

    def __init__(self, path: str | None = None, resumed_step: int | None = None,
                 report=None):
        try:
            kept = _kept_lines(path, resumed_step) if path else b""
            self._file = open(path, "wb") if path else None
            if self._file is not None:
                self._file.write(kept)
        except OSError as e:
            raise OutputError(f"--metrics {path}: cannot write: {e.strerror}") from None
        self._out = self._file or sys.stdout.buffer
        self._where = f"--metrics {path}" if path else "stdout"
        self._report = report          # a trackers.Report, or None

    def log(self, row: dict) -> None:
        if self._out is not None:
            try:
                self._out.write(dumps(row))
                self._out.flush()  # a pipeline downstream sees each step as it happens
            except BrokenPipeError:
                self._closed(row.get("step"))
            except OSError as e:
                if self._file is None:
                    _quiet_stdout()    # the exit's flush of what is left would fail again
                raise OutputError(f"{self._where}: cannot write metrics: "
                                  f"{e.strerror or e}") from None
        if self._report is not None:
            self._report.log(row)

    def _closed(self, step) -> None:
        """The reader went away: one warning, and no more lines (training goes on)."""
        log.warning("%s was closed by its reader: metrics lines dropped from step %s on; "
                    "training goes on", self._where, step if step is not None else "this")
        self._out = None
        if self._file is None:
            _quiet_stdout()
        else:
            self._close_file()

    def _close_file(self) -> None:
        try:
            self._file.close()
        except BrokenPipeError:      # its buffer still held the line the reader did not take
            pass
        self._file = None

    def close(self) -> None:
        if self._file:
            self._close_file()
        if self._report is not None:
            self._report.close()


def _quiet_stdout() -> None:
    """Point fd 1 at /dev/null: what is still buffered for stdout, and any later print, goes
    nowhere instead of failing again at the interpreter's exit flush."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


class NullMetrics:
    def log(self, row: dict) -> None:
        pass

    def close(self) -> None:
        pass
