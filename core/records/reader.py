"""Reading records from files and stdin, whatever their format.

Each input is a path or `-` (stdin); no inputs means stdin. The format is sniffed from the first
bytes, never from the name: `PAR1` is Parquet, `1f 8b` is gzip (JSONL inside), anything else JSONL.
JSONL is streamed line by line in constant memory; Parquet is read batch by batch (from a pipe it
is first copied to a temporary file, since Parquet keeps its index at the end).

Hugging Face `datasets` are inputs too (hf.py): a save_to_disk folder, told from a plain directory
by its state.json and dataset_info.json, and `hf:NAME[:CONFIG][@SPLIT]`; both stream batch by batch
from memory-mapped Arrow files (hf_read.py), and `where` names the 1-based row.
"""
from __future__ import annotations

import io
import os
import sys
import zlib
from typing import BinaryIO, Callable, Iterable, Iterator, Sequence

from ..errors import InputError
from . import hf
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


class _Gunzip(io.RawIOBase):
    """Decompressed bytes of a gzip stream (members concatenated, as gzip(1) reads them). A
    damaged or truncated stream ends the data early and leaves the reason in `error`, so every
    byte decompressed before the damage is still returned (GzipFile raises and loses them)."""

    def __init__(self, stream: BinaryIO):
        self._stream, self._z = stream, zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending, self._started, self.error = b"", False, None

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        while self.error is None:
            if not self._pending:
                self._pending = self._stream.read(1 << 16)
                if not self._pending:
                    if self._started:          # inside a member that never ended
                        self.error = "the gzip data ends early (a truncated file)"
                    return 0
            try:
                out = self._z.decompress(self._pending, len(buf))
            except zlib.error as e:
                self.error = f"corrupt gzip data ({e})"
                return 0
            self._pending, self._started = self._z.unconsumed_tail, True
            if self._z.eof:                    # a member ended: the next one, if any, follows
                self._pending = self._z.unused_data.lstrip(b"\0")
                self._z, self._started = zlib.decompressobj(16 + zlib.MAX_WBITS), False
            if out:
                buf[:len(out)] = out
                return len(out)
        return 0


class _Lines:
    """The lines of a decompressed stream; when the data was damaged, a last line without its
    newline (cut off inside it) is kept in `partial` instead of being yielded."""

    def __init__(self, stream, gunzip: _Gunzip):
        self._stream, self._gunzip, self.partial, self.count = stream, gunzip, b"", 0

    def __iter__(self):
        for line in self._stream:
            if not line.endswith(b"\n") and self._gunzip.error is not None:
                self.partial = line
                return
            self.count += 1
            yield line


def _counted(records: Iterable[dict], advance: Callable[[int], None]) -> Iterator[dict]:
    for record in records:
        advance(1)
        yield record


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
        """`file:line` of the record last yielded (for Parquet and datasets, the 1-based row)."""
        return f"{self.name}:{self._pos[0]}"

    def __iter__(self) -> Iterator[dict]:
        return self._each(raw=False)

    def lines(self) -> Iterator[bytes]:
        """The records as JSON lines, each JSONL record's bytes exactly as read (validated)."""
        return self._each(raw=True)

    def _each(self, raw: bool) -> Iterator:
        for path in self.inputs:
            if hf.is_datasets_input(path):
                self.name, self._pos[0] = path, 0
                records = self._datasets_records(path)
                if raw:
                    from .jsonl import dumps
                    records = map(dumps, records)
                yield from records
                continue
            name, stream, kind = open_input(path)
            self.name, self._pos[0] = name, 0
            try:
                yield from self._records(name, stream, kind, raw)
            finally:
                if name != STDIN_NAME:
                    stream.close()

    def write_into(self, sink, advance: Callable[[int], None]) -> None:
        """Every input into `sink`, as writing its records (or lines) one by one would, only
        faster: JSONL into a ParquetWriter through jsonl_blocks.copy_jsonl (Arrow's parser a
        block at a time where that is exact), Parquet into a JsonlWriter many encoded lines at a
        time (parquet_lines); anything else record by record. `advance(n)` counts records."""
        for path in self.inputs:
            self.name, self._pos[0] = path, 0
            if hf.is_datasets_input(path):
                records = _counted(self._datasets_records(path), advance)
                if hasattr(sink, "write_table"):
                    sink.write_many(records)
                else:
                    from .jsonl import dumps
                    sink.write_lines(map(dumps, records))
                continue
            name, stream, kind = open_input(path)
            self.name = name
            try:
                self._write_input(sink, name, stream, kind, advance)
            finally:
                if name != STDIN_NAME:
                    stream.close()

    def _write_input(self, sink, name: str, stream: BinaryIO, kind: str, advance) -> None:
        to_parquet = hasattr(sink, "write_table")
        if kind == "jsonl" and to_parquet:
            from .jsonl_blocks import copy_jsonl  # pyarrow only when needed
            copy_jsonl(stream, name, self.policy, self._pos, sink, advance)
        elif kind == "parquet" and not to_parquet:
            from .parquet import iter_parquet_chunks, spool_stdin
            source = spool_stdin(stream) if name == STDIN_NAME else stream
            for chunk in iter_parquet_chunks(source, name, self._pos):
                if type(chunk) is bytes:
                    sink.write_block(chunk, 1)
                    advance(1)
                else:
                    offsets, data = chunk.buffers()[1:3]
                    ends = memoryview(offsets).cast("i")[chunk.offset:chunk.offset + len(chunk) + 1]
                    sink.write_block(memoryview(data)[ends[0]:ends[-1]], len(chunk))
                    advance(len(chunk))
        elif to_parquet:
            sink.write_many(_counted(self._records(name, stream, kind, False), advance))
        else:
            sink.write_lines(_counted(self._records(name, stream, kind, True), advance))

    def records_of(self, name: str, stream: BinaryIO, kind: str) -> Iterator[dict]:
        """The records of one input the caller opened and sniffed itself (`where` names it)."""
        self.name, self._pos[0] = name, 0
        yield from self._records(name, stream, kind, False)

    def _records(self, name: str, stream: BinaryIO, kind: str, raw: bool) -> Iterator:
        """The generator for one input (the caller yields from it: one level per record)."""
        if kind == "parquet":
            from .parquet import iter_parquet, spool_stdin  # pyarrow only when needed
            source = spool_stdin(stream) if name == STDIN_NAME else stream
            return iter_parquet(source, name, self._pos, lines=raw)
        if kind == "gzip":
            return self._gzip_lines(stream, name, raw)
        return iter_jsonl(stream, name, self.policy, self._pos, raw)

    def _datasets_records(self, path: str) -> Iterator[dict]:
        """A save_to_disk folder or an `hf:` dataset (pyarrow, and datasets for hf:, only now)."""
        from .hf_read import iter_folder, iter_hub
        return iter_hub(path, self._pos) if hf.is_hub_spec(path) else iter_folder(path, self._pos)

    def _gzip_lines(self, stream: BinaryIO, name: str, raw: bool) -> Iterator:
        """JSONL inside gzip. A damaged or cut-off file yields every complete line before the
        damage, then reports the line where the good data ends (under the error policy)."""
        gunzip = _Gunzip(stream)
        lines = _Lines(io.BufferedReader(gunzip, _BUFFER), gunzip)
        yield from iter_jsonl(lines, name, self.policy, self._pos, raw)
        if gunzip.error is not None:
            end = lines.count + 1
            self.policy.handle(f"{name}:{end}", f"{gunzip.error}; the {lines.count} complete "
                               f"line(s) before line {end} were read", lines.partial)


def read_records(inputs: Sequence[str] | None = None, on_error: str | ErrorPolicy = "fail"):
    """Records from `inputs` (paths or `-`; none means stdin): a RecordReader to iterate."""
    policy = on_error if isinstance(on_error, ErrorPolicy) else ErrorPolicy.parse(on_error)
    return RecordReader(inputs, policy)
