"""What can go wrong with records, and what to do about it (`--on-error fail|skip|quarantine:FILE`).

A bad record is reported as `file:line: what is wrong`. Under `fail` it stops the tool (the CLI maps
RecordError to exit 65); under `skip` it is counted and logged; under `quarantine:FILE` the record's
raw bytes are appended to FILE, so it can be fixed and fed back in.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import BinaryIO

from ..errors import OutputError, RecordError

log = logging.getLogger("thinkpipe.records")


@dataclass
class ErrorPolicy:
    """How a stream reacts to a bad record; counts what it skipped or quarantined."""

    mode: str = "fail"  # fail | skip | quarantine
    quarantine_path: str | None = None
    skipped: int = 0
    _quarantine: BinaryIO | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> "ErrorPolicy":
        """`fail`, `skip` or `quarantine:FILE` -> ErrorPolicy; ValueError on anything else."""
        spec = (spec or "fail").strip()
        if spec in ("fail", "skip"):
            return cls(mode=spec)
        if spec.startswith("quarantine:") and len(spec) > len("quarantine:"):
            return cls(mode="quarantine", quarantine_path=spec[len("quarantine:"):])
        raise ValueError(f"--on-error must be fail, skip or quarantine:FILE, not {spec!r}")

    def handle(self, where: str, message: str, raw: bytes) -> None:
        """Deal with one bad record: raise (fail), count (skip) or count and keep its bytes."""
        if self.mode == "fail":
            raise RecordError(where, message)
        self.skipped += 1
        log.warning("%s: %s (%s)", where, message, "skipped" if self.mode == "skip" else
                    f"quarantined to {self.quarantine_path}")
        if self.mode == "quarantine":
            if self._quarantine is None:
                try:
                    self._quarantine = open(self.quarantine_path, "ab")
                except OSError as e:
                    raise OutputError(f"{self.quarantine_path}: cannot open quarantine file: "
                                      f"{e.strerror}") from None
            self._quarantine.write(raw if raw.endswith(b"\n") else raw + b"\n")
            self._quarantine.flush()

    def close(self) -> None:
        if self._quarantine is not None:
            self._quarantine.close()
            self._quarantine = None
