"""Training metrics: one JSON line per logged step, to stdout or a file, and to the experiment
trackers of --report-to (trackers.py).

Only rank 0 writes. `NullMetrics` stands in on other ranks so the loop never branches on rank.
"""
from __future__ import annotations

import json
import os
import sys

from ..records.jsonl import dumps


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
            from ..errors import OutputError
            raise OutputError(f"--metrics {path}: cannot write: {e.strerror}") from None
        self._out = self._file or sys.stdout.buffer
        self._report = report          # a trackers.Report, or None

    def log(self, row: dict) -> None:
        self._out.write(dumps(row))
        self._out.flush()  # a pipeline downstream sees each step as it happens
        if self._report is not None:
            self._report.log(row)

    def close(self) -> None:
        if self._file:
            self._file.close()
        if self._report is not None:
            self._report.close()


class NullMetrics:
    def log(self, row: dict) -> None:
        pass

    def close(self) -> None:
        pass
