"""JSON Lines: one record (a JSON object) per line, read and written with orjson.

Exactness. orjson silently turns an integer beyond 64 bits into a float; a line holding a run of 19
or more digits is therefore re-parsed with the standard library, which keeps it exact (the check is
one C-level `translate` per line, so ordinary lines pay almost nothing). On output, values orjson
cannot encode (integers beyond 64 bits, lone surrogates) fall back to the standard library. `bytes`
values (media read from Parquet or rendered in memory) are written as base64 strings. NaN and
infinities are not JSON: they are rejected on input, and written as null (orjson's rule).
"""
from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import Any, BinaryIO, Iterable, Iterator

import orjson

from .policy import ErrorPolicy

_DIGITS = b"0123456789"
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def exact_loads(line: bytes) -> Any:
    """Parse with the standard library: integers of any size stay exact; NaN/Infinity rejected."""
    return json.loads(line, parse_constant=_reject_constant)


def loads(line: bytes | str) -> Any:
    """Parse one JSON value exactly (orjson, with the standard library for very long integers)."""
    if type(line) is str:
        line = line.encode("utf-8", "surrogatepass")
    value = orjson.loads(line)
    if len(line) - len(line.translate(None, _DIGITS)) >= 19 and _LONG_NUMBER.search(line):
        value = exact_loads(line)
    return value


def _default(obj: Any) -> Any:
    """What orjson cannot encode natively: bytes as base64; numpy/torch scalars and arrays."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(obj)).decode("ascii")
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, Decimal):  # Parquet decimals from other tools: kept exact, as text
        return str(obj)
    raise TypeError(f"cannot write a value of type {type(obj).__name__} as JSON")


_OPTS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_SERIALIZE_NUMPY


def dumps(record: Any) -> bytes:
    """One record as a compact JSON line (with its newline)."""
    try:
        return orjson.dumps(record, default=_default, option=_OPTS)
    except orjson.JSONEncodeError:
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=_default)
        return text.encode("utf-8", "surrogatepass") + b"\n"


_POSITION = re.compile(r": line \d+ column (\d+) \(char \d+\)$")


def _describe(exc: Exception) -> str:
    """orjson's message, with its position as a column (the line is already in file:line)."""
    msg = str(exc)
    if "utf-8" in msg.lower() or "utf8" in msg.lower():
        return "not valid UTF-8 text"
    msg = _POSITION.sub(lambda m: f" (column {m.group(1)})", msg)
    return f"invalid JSON: {msg}"


def iter_jsonl(stream: BinaryIO, name: str, policy: ErrorPolicy, pos: list,
               raw: bool = False, first_line: int = 1) -> Iterator:
    """Yield the objects of a JSONL byte stream; blank lines are ignored.

    `pos` is a one-element list the caller reads for the current line number (cheaper than a
    callback per record). Bad lines go to `policy` as `name:line`. With `raw`, yield each valid
    line's bytes instead (ending in a newline, without a byte-order mark): for copying records
    through untouched, which needs no exact re-parse of long integers either. `first_line` numbers
    the stream's first line (a block cut from the middle of a file keeps the file's numbering).
    """
    orjson_loads, translate = orjson.loads, bytes.translate
    JSONDecodeError = orjson.JSONDecodeError
    for lineno, line in enumerate(stream, first_line):
        try:
            rec = orjson_loads(line)
        except JSONDecodeError as e:
            if not line.strip():
                continue
            if lineno == 1 and line.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark
                try:
                    rec = orjson_loads(line[3:])
                except JSONDecodeError as e2:
                    policy.handle(f"{name}:{lineno}", _describe(e2), line)
                    continue
            else:
                policy.handle(f"{name}:{lineno}", _describe(e), line)
                continue
            line = line[3:]
        if type(rec) is not dict:
            policy.handle(f"{name}:{lineno}",
                          f"expected a JSON object, got {type(rec).__name__}", line)
            continue
        if raw:
            pos[0] = lineno
            yield line if line[-1:] == b"\n" else line + b"\n"
            continue
        # integers beyond 64 bits: orjson made them floats; re-parse exactly (rare, see above)
        if len(line) - len(translate(line, None, _DIGITS)) >= 19 and _LONG_NUMBER.search(line):
            try:
                rec = exact_loads(line)
            except ValueError as e:
                policy.handle(f"{name}:{lineno}", _describe(e), line)
                continue
        pos[0] = lineno
        yield rec


class JsonlWriter:
    """Writes records as JSON lines to a binary stream (the caller owns opening and closing)."""

    def __init__(self, stream: BinaryIO, line_buffered: bool = False):
        self.stream, self.line_buffered, self.count = stream, line_buffered, 0

    def write(self, record: dict) -> None:
        self.stream.write(dumps(record))
        self.count += 1
        if self.line_buffered:
            self.stream.flush()

    def write_lines(self, lines: Iterable[bytes]) -> None:
        """Copy already-encoded JSON lines (each ending in a newline)."""
        write, n = self.stream.write, 0
        try:
            for line in lines:
                write(line)
                n += 1
        finally:
            self.count += n

    def write_block(self, data, n: int) -> None:
        """Copy `n` already-encoded JSON lines held in one buffer."""
        self.stream.write(data)
        self.count += n

    def write_many(self, records: Iterable[dict]) -> None:
        if self.line_buffered:
            for record in records:
                self.write(record)
            return
        write, encode, fallback = self.stream.write, orjson.dumps, dumps
        n = 0
        try:
            for record in records:
                try:
                    write(encode(record, _default, _OPTS))
                except orjson.JSONEncodeError:
                    write(fallback(record))
                n += 1
        finally:
            self.count += n

    def close(self) -> None:
        self.stream.flush()


BLOCK_BYTES = 1 << 20
_ZEROS = bytes.maketrans(b"123456789", b"000000000")   # every digit a 0: runs by bytes.find
_RUN_19 = b"0" * 19


def block_records(data: bytes) -> list[dict] | None:
    """The records of a block of whole lines, one per line in order, when every line is a JSON
    object and nothing needs iter_jsonl's care: no blank line, no byte-order mark, no run of 19
    digits (a possible integer beyond 64 bits); else None, and iter_jsonl reads the block (and
    reports what is wrong at its line). One digit check for the block, not one per line."""
    if data.startswith(b"\xef\xbb\xbf") or _RUN_19 in data.translate(_ZEROS):
        return None
    lines = data.split(b"\n")
    if not lines[-1]:
        lines.pop()
    loads, out = orjson.loads, []
    keep = out.append
    try:
        for line in lines:
            rec = loads(line)
            if type(rec) is not dict:
                return None
            keep(rec)
    except orjson.JSONDecodeError:
        return None
    return out


def line_blocks(stream: BinaryIO, size: int = BLOCK_BYTES) -> Iterator[tuple[bytes, int]]:
    """(bytes, number of its first line) for blocks of about `size` bytes of whole lines (the
    last may end without a newline, as the stream does): for parsing a stream in pieces, each
    with iter_jsonl(io.BytesIO(data), ..., first_line=first), its lines numbered as the file's."""
    read = getattr(stream, "read1", stream.read)   # what is there: a pipe streams, unwaited
    rest, first = b"", 1
    while True:
        chunk = read(size)
        if not chunk:
            if rest:
                yield rest, first
            return
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:                    # no line ends in it yet: read on
            rest = data
            continue
        block, rest = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
        yield block, first
        first += block.count(b"\n")
