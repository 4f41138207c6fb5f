"""`grpo --rollouts FILE`: every trajectory as a record, in the format the extension names.

    .jsonl      one line per trajectory, flushed after every rollout batch (follow it live)
    .jsonl.gz   one gzip member per rollout batch: a killed run leaves a readable file
    .parquet    written under a temporary name, in place when the run ends or is interrupted

A fresh run starts the file anew. A resumed run (--resume) keeps the records of the steps its
checkpoint holds (`step` <= the checkpoint's) and drops the rest, which it regenerates exactly,
so the file ends as an uninterrupted run's would.
"""
from __future__ import annotations

import gzip
import os

from thinkpipe.core.errors import OutputError
from thinkpipe.core.records import ErrorPolicy, RecordWriter, read_records, resolve_format
from thinkpipe.core.records.jsonl import dumps


def _kept(path: str, resumed_step: int | None) -> list[dict]:
    if resumed_step is None or not os.path.exists(path):
        return []
    reader = read_records([path], ErrorPolicy("skip"))    # a torn last batch is dropped
    return [r for r in reader if isinstance(r.get("step"), int) and r["step"] <= resumed_step]


class RolloutLog:
    def __init__(self, path: str, resumed_step: int | None = None, fmt: str | None = None):
        self.path, self.format = path, fmt or resolve_format(path, None)
        kept = _kept(path, resumed_step)
        self._writer = self._file = None
        try:
            if self.format == "parquet":
                self._writer = RecordWriter(path, "parquet")
                self._writer.write_many(kept)
                return
            with RecordWriter(path, self.format) as out:     # the kept records, atomically
                out.write_many(kept)
            self._file = open(path, "ab")
        except OSError as e:
            raise OutputError(f"--rollouts {path}: cannot write: {e.strerror}") from None

    def write(self, rows: list[dict]) -> None:
        """One rollout batch."""
        if self._writer is not None:
            self._writer.write_many(rows)
            return
        data = b"".join(dumps(r) for r in rows)
        try:
            if self.format == "jsonl.gz":
                with gzip.GzipFile(fileobj=self._file, mode="wb", mtime=0) as member:
                    member.write(data)
            else:
                self._file.write(data)
            self._file.flush()
        except OSError as e:
            raise OutputError(f"--rollouts {self.path}: cannot write: {e.strerror}") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()
