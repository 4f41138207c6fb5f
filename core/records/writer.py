"""Writing records to stdout or a file, as JSONL, gzipped JSONL or Parquet, or to a folder (hf).

The format is `fmt` when given, else the output's extension (`.parquet`/`.pq`, `.jsonl.gz`/`.gz`,
anything else JSONL), else JSONL. A file is written next to its destination under a temporary name
and renamed into place on success, so a failed or interrupted run never leaves half a file where a
complete one is expected (and never clobbers the previous one). `hf` (only when asked for) writes a
Hugging Face `datasets` save_to_disk folder, built under a temporary name the same way (hf_write.py).
"""
from __future__ import annotations

import contextlib
import gzip
import os
import stat
import sys
import tempfile
from typing import BinaryIO, Callable, Iterable

from ..errors import OutputError, UsageError
from .jsonl import JsonlWriter

FORMATS = ("jsonl", "jsonl.gz", "parquet", "hf")


JSONL_EXTS = (".jsonl", ".json", ".ndjson", ".jsonlines")


def resolve_format(path: str | None, fmt: str | None) -> str:
    """Output format from --format, else from the file name (.parquet/.pq, .jsonl.gz/.gz,
    .jsonl/.json/.ndjson, or no extension: JSONL), else JSONL. Any other extension (.csv,
    .txt) is a UsageError rather than JSONL under a misleading name."""
    if fmt:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        return fmt
    name = os.path.basename(path or "").lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".gz"):
        return "jsonl.gz"
    ext = os.path.splitext(name)[1]
    if not ext or ext in JSONL_EXTS:
        return "jsonl"
    raise UsageError(f"{path}: cannot tell the format from {ext!r}; name it .jsonl, .jsonl.gz "
                     "or .parquet, or give --format")


def _special(path: str) -> bool:
    """An existing path that is not a regular file (a device, a pipe, /dev/fd/N)."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _folder_sink(path: str | None):
    """The sink for --format hf: a folder, never stdout."""
    if path is None:
        raise UsageError("--format hf writes a folder: give -o DIR")
    from .hf_write import HfWriter  # pyarrow (and datasets, on close) only when needed
    return HfWriter(path)


class RecordWriter:
    """`write(record)` then `close()` (or use as a context manager; an exception aborts)."""

    def __init__(self, path: str | None = None, fmt: str | None = None, line_buffered: bool = False):
        self.path = None if path in (None, "-") else path
        self.format = resolve_format(self.path, fmt)
        self._tmp: str | None = None
        self._file: BinaryIO | None = None
        self._gzip = None
        self._final = self.path
        if self.format == "hf":
            self._sink = _folder_sink(self.path)
            return
        if self.path is None:
            target = sys.stdout.buffer
        elif _special(self.path):
            # /dev/stdout, /dev/null, a named pipe: written in place (a rename would replace the
            # device node itself, and a pipe cannot be taken back anyway)
            try:
                self._file = target = open(self.path, "wb")
            except OSError as e:
                raise OutputError(f"{self.path}: cannot open: {e.strerror}") from None
        else:
            self._final = os.path.realpath(self.path)   # through a symlink, as `>` writes
            directory = os.path.dirname(self._final)
            try:
                fd, self._tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-",
                                                 suffix="-" + os.path.basename(self._final))
            except OSError as e:
                raise OutputError(f"{self.path}: cannot create: {e.strerror}") from None
            os.chmod(self._tmp, 0o666 & ~_umask())  # mkstemp's 0600 is not what `>` would give
            self._file = target = os.fdopen(fd, "wb", buffering=1 << 20)
        if self.format == "parquet":
            from .parquet import ParquetWriter  # pyarrow only when needed
            self._sink = ParquetWriter(target, rewind=self._tmp is not None)
        else:
            if self.format == "jsonl.gz":
                self._gzip = target = gzip.GzipFile(fileobj=target, mode="wb", mtime=0)
            self._sink = JsonlWriter(target, line_buffered=line_buffered and self.path is None)

    @property
    def count(self) -> int:
        return self._sink.count

    def write(self, record: dict) -> None:
        self._sink.write(record)

    @property
    def takes_lines(self) -> bool:
        """True when write_lines() can copy encoded JSON lines straight through (JSONL output)."""
        return hasattr(self._sink, "write_lines")

    def write_lines(self, lines: Iterable[bytes]) -> None:
        self._sink.write_lines(lines)

    def write_block(self, data: bytes, n: int) -> None:
        """Copy `n` encoded JSON lines held in one buffer (JSONL output: takes_lines)."""
        self._sink.write_block(data, n)

    @property
    def takes_reader(self) -> bool:
        """True when write_from() can take a reader's inputs whole: Parquet output (JSONL goes
        through Arrow's parser a block at a time wherever that is exact) and JSONL output
        (Parquet rows are encoded a column at a time; JSONL lines copied as read)."""
        return self.format in ("parquet", "jsonl", "jsonl.gz")

    def write_from(self, reader, advance: Callable[[int], None]) -> None:
        """Every record of `reader` (a RecordReader), as write_many(reader) would write them
        (write_lines(reader.lines()) for JSONL output)."""
        reader.write_into(self._sink, advance)

    def write_many(self, records: Iterable[dict]) -> None:
        """write() for a whole stream (one loop, no call per record: the fast path for convert)."""
        if hasattr(self._sink, "write_many"):
            self._sink.write_many(records)
        else:
            for record in records:
                self._sink.write(record)

    def close(self) -> None:
        """Finish the output; for a file, move it into place."""
        try:
            self._sink.close()
            if self._gzip is not None:
                self._gzip.close()
            if self._file is not None:
                self._file.close()
                if self._tmp is not None:
                    os.replace(self._tmp, self._final)
                    self._tmp = None
            else:
                sys.stdout.buffer.flush()
        except OSError as e:
            self.abort()
            if isinstance(e, BrokenPipeError):
                raise
            raise OutputError(f"{self.path or '<stdout>'}: cannot write: {e.strerror}") from None

    def abort(self) -> None:
        """Drop a partial output file (stdout cannot be taken back). Closing flushes what is
        still buffered, which fails again on a full disk: the temporary goes all the same."""
        if hasattr(self._sink, "abort"):
            with contextlib.suppress(OSError):
                self._sink.abort()
        if self._file is not None:
            with contextlib.suppress(OSError):
                self._file.close()
        if self._tmp is not None:
            try:
                os.unlink(self._tmp)
            except OSError:
                pass
            self._tmp = None

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
