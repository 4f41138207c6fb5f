"""Reading records from files and stdin, whatever their format.

Each input is a path or `-` (stdin); no inputs means stdin. The format is sniffed from the first
bytes, never from the name: `PAR1` is Parquet, `1f 8b` is gzip (JSONL inside), anything else JSONL.
JSONL is streamed line by line in constant memory; Parquet is read batch by batch (from a pipe it
is first copied to a temporary file, since Parquet keeps its index at the end).
"""
from __future__ import annotations

import gzip
import io
import os
import sys
import zlib
from typing import BinaryIO, Iterator, Sequence

from ..errors import InputError, RecordError
from .policy import ErrorPolicy
from .jsonl import iter_jsonl

STDIN_NAME = "<stdin>"
_BUFFER = 1 << 20


class _Prefixed(io.RawIOBase):
    """A raw stream that first returns `prefix`, then the rest of `stream` (un-reading a sniff)."""

    def __init__(self, prefix: bytes, stream: BinaryIO):
        self._prefix, self._stream = prefix, stream

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        if self._prefix:
            n = min(len(buf), len(self._prefix))
            buf[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        data = self._stream.read1(len(buf)) if hasattr(self._stream, "read1") else \
            self._stream.read(len(buf))
        buf[:len(data)] = data
        return len(data)


def _read_prefix(stream: BinaryIO, n: int = 4) -> bytes:
    head = b""
    while len(head) < n:
        chunk = stream.read(n - len(head))
        if not chunk:
            break
        head += chunk
    return head


def sniff(head: bytes) -> str:
    """`parquet`, `gzip` or `jsonl` from the first bytes of a stream."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    return "jsonl"


def open_input(path: str) -> tuple[str, BinaryIO, str]:
    """(display name, binary stream positioned at the start, kind). InputError if unopenable."""
    if path == "-":
        raw = sys.stdin.buffer
        head = _read_prefix(raw)
        return STDIN_NAME, io.BufferedReader(_Prefixed(head, raw), _BUFFER), sniff(head)
    if os.path.isdir(path):
        raise InputError(f"{path}: is a directory, not a record file")
    try:
        f = open(path, "rb", buffering=_BUFFER)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror}") from None
    head = f.peek(4)[:4]
    return path, f, sniff(head)


class RecordReader:
    """Iterates the records of several inputs in order; `where` names the current `file:line`.

    >>> reader = RecordReader(["a.jsonl", "-"], ErrorPolicy.parse("skip"))
    >>> for record in reader: ...
    """

    def __init__(self, inputs: Sequence[str] | None = None, policy: ErrorPolicy | None = None):
        self.inputs = [p for p in (inputs or ["-"])] or ["-"]
        self.policy = policy or ErrorPolicy()
        self.name = ""
        self._pos = [0]

    @property
    def where(self) -> str:
        """`file:line` of the record last yielded (for Parquet, the 1-based row)."""
        return f"{self.name}:{self._pos[0]}"

    def __iter__(self) -> Iterator[dict]:
        return self._each(raw=False)

    def lines(self) -> Iterator[bytes]:
        """The records as JSON lines, each JSONL record's bytes exactly as read (validated)."""
        return self._each(raw=True)

    def _each(self, raw: bool) -> Iterator:
        for path in self.inputs:
            name, stream, kind = open_input(path)
            self.name, self._pos[0] = name, 0
            try:
                yield from self._records(name, stream, kind, raw)
            finally:
                if name != STDIN_NAME:
                    stream.close()

    def _records(self, name: str, stream: BinaryIO, kind: str, raw: bool) -> Iterator:
        """The generator for one input (the caller yields from it: one level per record)."""
        if kind == "parquet":
            from .jsonl import dumps
            from .parquet import iter_parquet, spool_stdin  # pyarrow only when needed
            source = spool_stdin(stream) if name == STDIN_NAME else stream
            records = iter_parquet(source, name, self._pos)
            return map(dumps, records) if raw else records
        if kind == "gzip":
            return self._gzip_lines(stream, name, raw)
        return iter_jsonl(stream, name, self.policy, self._pos, raw)

    def _gzip_lines(self, stream: BinaryIO, name: str, raw: bool) -> Iterator:
        inner = io.BufferedReader(gzip.GzipFile(fileobj=stream, mode="rb"), _BUFFER)
        try:
            yield from iter_jsonl(inner, name, self.policy, self._pos, raw)
        except (OSError, EOFError, zlib.error) as e:
            raise RecordError(f"{name}:{self._pos[0] + 1}", f"corrupt gzip data: {e}") from None


def read_records(inputs: Sequence[str] | None = None, on_error: str | ErrorPolicy = "fail"):
    """Records from `inputs` (paths or `-`; none means stdin): a RecordReader to iterate."""
    policy = on_error if isinstance(on_error, ErrorPolicy) else ErrorPolicy.parse(on_error)
    return RecordReader(inputs, policy)
