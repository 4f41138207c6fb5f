"""Training metrics: one JSON line per logged step, to stdout or a file, and TensorBoard.

Only rank 0 writes. `NullMetrics` stands in on other ranks so the loop never branches on rank.
"""
from __future__ import annotations

import sys

from ..records.jsonl import dumps


class Metrics:
    def __init__(self, path: str | None = None, tensorboard: str | None = None):
        try:
            self._file = open(path, "ab") if path else None
        except OSError as e:
            from ..errors import OutputError
            raise OutputError(f"--metrics {path}: cannot write: {e.strerror}") from None
        self._out = self._file or sys.stdout.buffer
        self._tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ImportError("--tensorboard needs the tensorboard package: "
                                  "pip install -c constraints.txt tensorboard") from None
            self._tb = SummaryWriter(tensorboard)

    def log(self, row: dict) -> None:
        self._out.write(dumps(row))
        self._out.flush()  # a pipeline downstream sees each step as it happens
        if self._tb is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)) and key != "step":
                    self._tb.add_scalar(key, value, row.get("step", 0))

    def close(self) -> None:
        if self._file:
            self._file.close()
        if self._tb is not None:
            self._tb.close()


class NullMetrics:
    def log(self, row: dict) -> None:
        pass

    def close(self) -> None:
        pass
