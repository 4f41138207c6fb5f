"""JSONL -> Arrow a block of lines at a time with Arrow's C++ parser, kept only where it is exact.

Arrow's JSON reader parses several times faster than a line-by-line loop in Python, but it does not
read JSON the way the exact path (orjson, then arrow_columns.build) does: it accepts NaN and
Infinity and two objects on one line, fills a missing key with null, widens an integer among
floats to a float (and an integer beyond 64 bits too), and turns ISO date strings into timestamps.
A block is therefore taken from Arrow only when all of these hold, and otherwise it goes line by
line as before (which also reports a bad line at its `file:line`):

  - the bytes are UTF-8 and every line starts with `{`: no blank line, byte-order mark, array or
    scalar line; with Arrow's row count equal to the line count, that is one object per line
  - Arrow parses it, with the inferred timestamps read again as the strings they are
  - every leaf is int64, bool, string or null (no doubles: Arrow cannot say which of them were
    integers; no integers beyond 64 bits); no empty object; nesting at most MAX_DEPTH deep; no
    media field (those become structs) and no reserved field name (an error on the exact path)
  - no null inside a value (a missing key reads as null too, and Arrow mis-builds `[null, [1]]`),
    and a struct with several keys is a top-level field whose keys each line writes once, in the
    struct's order (checked on the bytes): the exact path infers a batch's key order as it goes
  - a line where a top-level field is null is parsed with orjson to tell a null from a missing key

What comes out is what arrow_columns.build would give for every batch of the block, column by
column (tests/core/records/test_jsonl_blocks.py holds the two paths to the same Parquet bytes).
"""
from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pj

from . import media
from .arrow_memory import flat_memory
from .jsonl import iter_jsonl
from .policy import ErrorPolicy

BLOCK_BYTES = 4 << 20      # bytes read at a time; a block ends at a whole batch of lines
MAX_BLOCK_BYTES = 64 << 20  # lines longer than this on average go line by line
MAX_DEPTH = 32
SPLIT_BATCHES = 8         # a block Arrow cannot take whole is retried in parts this big
RESERVED = ("_thinkpipe_absent",)
UNREAD = object()          # parse(): the lines are still to be read
_LEAVES = (pa.int64(), pa.bool_(), pa.string(), pa.null())


@dataclass
class Block:
    """Whole lines of a JSONL stream: `ends[i]` is the offset just past line i's newline."""

    data: bytes
    first_line: int
    ends: np.ndarray


def line_ends(data: bytes) -> np.ndarray:
    """Offsets just past each newline of `data`, and past the last byte when it is no newline."""
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1
    if data and data[-1:] != b"\n":
        ends = np.append(ends, len(data))
    return ends


def iter_blocks(stream: BinaryIO, rows: int) -> Iterator[Block]:
    """The stream in blocks of whole lines, each a multiple of `rows` lines where the stream
    allows (the last block, and lines averaging over MAX_BLOCK_BYTES / rows, take what there is)."""
    rest, first = b"", 1
    while True:
        chunk = stream.read(BLOCK_BYTES)
        data = rest + chunk if rest else chunk
        if not chunk:
            if data:
                yield Block(data, first, line_ends(data))
            return
        whole = np.flatnonzero(np.frombuffer(data, np.uint8) == 10) + 1
        keep = len(whole) // rows * rows
        if keep == 0:
            if len(data) < MAX_BLOCK_BYTES or not len(whole):
                rest = data
                continue
            keep = len(whole)
        cut = int(whole[keep - 1])
        yield Block(data[:cut], first, whole[:keep])
        first, rest = first + keep, data[cut:]


def copy_jsonl(stream: BinaryIO, name: str, policy: ErrorPolicy, pos: list, sink,
               advance: Callable[[int], None]) -> None:
    """Write the records of a JSONL stream into `sink` (a ParquetWriter): whole batches of lines,
    and the input's last lines, through Arrow where that is exact (sink.write_table); the rest
    line by line under `policy` (sink.write_many). `pos[0]` follows the line; `advance(n)`
    counts the records written."""
    flat_memory()
    rows = sink.batch_rows
    for block, ahead in _read_ahead(iter_blocks(stream, rows), rows):
        n = len(block.ends)
        head = min(n, -sink.pending % rows)      # lines that complete the sink's current batch
        body = head + (n - head) // rows * rows
        _exact(sink, block, 0, head, name, policy, pos, advance)
        ready = ahead if head == 0 else UNREAD
        if body > head and not _fast(sink, block, head, body, pos, advance, ready):
            step = SPLIT_BATCHES * rows             # one odd line costs a part, not the block
            for start in range(head, body, step):
                end = min(body, start + step)
                if end - start == body - head or not _fast(sink, block, start, end, pos,
                                                           advance):
                    _exact(sink, block, start, end, name, policy, pos, advance)
        if body < n and not _fast(sink, block, body, n, pos, advance):  # the input's last lines
            _exact(sink, block, body, n, name, policy, pos, advance)


def _read_ahead(blocks: Iterator[Block], rows: int) -> Iterator[tuple[Block, object]]:
    """Each block with Arrow's parse of its whole batches of lines (read()), done one block
    ahead in a thread: Arrow parses the next block while this thread checks and spools the last
    (Arrow releases the GIL)."""
    def job():
        block = next(blocks, None)
        return None if block is None else (block, read(block, 0, len(block.ends) // rows * rows))
    with ThreadPoolExecutor(1, thread_name_prefix="thinkpipe-json") as pool:
        ahead = pool.submit(job)
        while (item := ahead.result()) is not None:
            ahead = pool.submit(job)
            yield item


def _fast(sink, block: Block, start: int, end: int, pos: list, advance,
          table: object = UNREAD) -> bool:
    """Lines [start, end) through Arrow into `sink`, if exact and the sink is between batches;
    `table` is read(block, start, end) when already done."""
    parsed = parse(block, start, end, table) if sink.pending == 0 else None
    if parsed is None:
        return False
    sink.write_table(*parsed)
    pos[0] = block.first_line + end - 1
    advance(end - start)
    return True


def _exact(sink, block: Block, start: int, end: int, name: str, policy: ErrorPolicy, pos: list,
           advance) -> None:
    """Lines [start, end) the exact way: orjson line by line, bad lines to `policy`."""
    if start == end:
        return
    before = sink.count
    lines = io.BytesIO(_piece(block, start, end))
    sink.write_many(iter_jsonl(lines, name, policy, pos, first_line=block.first_line + start))
    advance(sink.count - before)


def _piece(block: Block, start: int, end: int) -> bytes:
    return block.data[_offset(block, start):_offset(block, end)]


def _offset(block: Block, line: int) -> int:
    return 0 if line == 0 else int(block.ends[line - 1])


def read(block: Block, start: int, end: int) -> pa.Table | None:
    """Arrow's parse of lines [start, end) of `block`, or None when the bytes or Arrow refuse:
    the part of parse() that can run in another thread."""
    if start == end:
        return None
    data = _piece(block, start, end)
    starts = np.concatenate(([0], block.ends[start:end - 1] - _offset(block, start)))
    return _read(data) if _bytes_ok(data, starts) else None


def parse(block: Block, start: int, end: int,
          table: object = UNREAD) -> tuple[pa.Table, dict[str, np.ndarray]] | None:
    """Lines [start, end) of `block` as an Arrow table and, per field some lines lack, a mask of
    those lines; None when Arrow might have changed a value (see the module's list). `table`:
    read(block, start, end) when already done."""
    table = read(block, start, end) if table is UNREAD else table
    base = _offset(block, start)
    ends = block.ends[start:end] - base
    if table is None or table.num_rows != len(ends) or table.num_columns == 0:
        return None
    if not all(_safe_field(f) for f in table.schema):
        return None
    table = table.combine_chunks()
    columns = [column.chunk(0) for column in table.columns]
    if any(_inner_null(c) for c in columns):
        return None
    data, starts = _piece(block, start, end), np.concatenate(([0], ends[:-1]))
    if not _struct_order_ok(table.schema, columns, data, starts, ends):
        return None
    absent = _absent_rows(table.schema.names, columns, data, starts, ends)
    return None if absent is None else (table, absent)


def _bytes_ok(data: bytes, starts: np.ndarray) -> bool:
    """UTF-8 (as orjson demands; Arrow does not check), and every line opening an object."""
    if not (np.frombuffer(data, np.uint8)[starts] == 0x7B).all():
        return False
    if data.isascii():
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _read(data: bytes, schema: pa.Schema | None = None) -> pa.Table | None:
    """Arrow's parse of the lines, strings that look like timestamps kept as strings; None when
    Arrow refuses them (a bad line, duplicate keys, a field of two types)."""
    options = pj.ParseOptions(explicit_schema=schema) if schema is not None else None
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=options)
        table.validate()                 # offsets within their children (see _inner_null)
    except (pa.ArrowException, ValueError):
        return None
    if schema is None and _has_timestamp(table.schema):
        return _read(data, pa.schema([pa.field(f.name, _untimestamp(f.type))
                                      for f in table.schema]))
    return table


def _children(t: pa.DataType) -> list[pa.DataType]:
    if pa.types.is_struct(t):
        return [f.type for f in t]
    if pa.types.is_list(t):
        return [t.value_type]
    return []


def _has_timestamp(schema: pa.Schema) -> bool:
    """A timestamp within MAX_DEPTH (anything deeper is refused by _safe_type anyway)."""
    def walk(t: pa.DataType, depth: int) -> bool:
        return depth <= MAX_DEPTH and (pa.types.is_timestamp(t) or
                                       any(walk(c, depth + 1) for c in _children(t)))
    return any(walk(f.type, 0) for f in schema)


def _untimestamp(t: pa.DataType) -> pa.DataType:
    if pa.types.is_timestamp(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _untimestamp(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(_untimestamp(t.value_type))
    return t


def _safe_field(field: pa.Field) -> bool:
    """A top-level field whose values Arrow holds exactly (multi-key structs checked later)."""
    if field.name in media.MEDIA_FIELDS or field.name in RESERVED:
        return False
    t = field.type
    if pa.types.is_struct(t) and t.num_fields > 1:
        return all(_safe_type(f.type, 1) for f in t)
    return _safe_type(t, 0)


def _safe_type(t: pa.DataType, depth: int) -> bool:
    """Leaves int64/bool/string/null; structs below the top level have exactly one key."""
    if depth > MAX_DEPTH:
        return False
    if pa.types.is_struct(t):
        return t.num_fields == 1 and _safe_type(t[0].type, depth + 1)
    if pa.types.is_list(t):
        return _safe_type(t.value_type, depth + 1)
    return t in _LEAVES


def _inner_null(arr: pa.Array) -> bool:
    """A null inside a value: a struct's field null while the struct is not (the key may have
    been missing), or a null list item (where Arrow's inference of what the list holds is not to
    be trusted: `[null, [1]]` comes out malformed). Nulls of the value itself are checked
    separately (_absent_rows)."""
    if pa.types.is_struct(arr.type):
        for child in arr.flatten():      # the struct's own nulls carried into each field
            if child.null_count != arr.null_count or _inner_null(child):
                return True
        return False
    if pa.types.is_list(arr.type):
        values = arr.flatten()
        return values.null_count > 0 or _inner_null(values)
    return False


def _struct_order_ok(schema: pa.Schema, columns: list, data: bytes, starts: np.ndarray,
                     ends: np.ndarray) -> bool:
    """Every object of a top-level struct with several keys writes each key once, in the
    struct's order. Checked on the bytes: `"key":` occurs in a JSON text only as a key (a quote
    inside a string is escaped), so when no other object anywhere has such a key and no key holds
    a quote or a backslash, its one occurrence on a line is the struct's own."""
    multi = [i for i, f in enumerate(schema) if pa.types.is_struct(f.type) and f.type.num_fields > 1]
    if not multi:
        return True
    import pyarrow.compute as pc         # (70 ms to import: only for such structs)
    names = _all_keys(schema)
    if any(not _plain(k) for k in names):
        return False
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lines = pa.Array.from_buffers(pa.large_binary(), len(ends),
                                  [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    for i in multi:
        keys = [f.name for f in schema.field(i).type]
        if any(names.count(k) != 1 for k in keys):
            return False
        valid = columns[i].is_valid()
        last = None
        for key in keys:
            pattern = orjson.dumps(key).decode() + ":"
            once = pc.equal(pc.count_substring(lines, pattern), 1)
            at = pc.find_substring(lines, pattern)
            ok = once if last is None else pc.and_(once, pc.greater(at, last))
            if not pc.all(pc.or_(pc.invert(valid), ok)).as_py():
                return False
            last = at
    return True


def _plain(key: str) -> bool:
    """A key whose `"key":` cannot start at the end of another string: no quote or backslash,
    and not starting with what may follow a string (`:`, `,`, `}`, `]`, whitespace)."""
    return bool(key) and key[0] not in ' \t\r\n:,}]' and '"' not in key and "\\" not in key


def _all_keys(schema: pa.Schema) -> list[str]:
    """The name of every field at every depth (repeats kept)."""
    out: list[str] = []

    def walk(t: pa.DataType) -> None:
        if pa.types.is_struct(t):
            for f in t:
                out.append(f.name)
                walk(f.type)
        elif pa.types.is_list(t):
            walk(t.value_type)
    for f in schema:
        out.append(f.name)
        walk(f.type)
    return out


def _absent_rows(names: list[str], columns: list, data: bytes, starts: np.ndarray,
                 ends: np.ndarray) -> dict[str, np.ndarray] | None:
    """Per field with nulls, a mask of the lines that lack it (parsed with orjson, only the lines
    holding a null); None if such a line does not parse as orjson reads it."""
    nulls = [(name, col.is_null().to_numpy(zero_copy_only=False))
             for name, col in zip(names, columns) if col.null_count]
    if not nulls:
        return {}
    absent = {name: np.zeros(len(ends), bool) for name, _ in nulls}
    rows = np.flatnonzero(np.logical_or.reduce([mask for _, mask in nulls]))
    for row in rows.tolist():
        try:
            rec = orjson.loads(data[starts[row]:ends[row]])
        except orjson.JSONDecodeError:
            return None
        for name, mask in nulls:
            if mask[row] and name not in rec:
                absent[name][row] = True
    return {name: mask for name, mask in absent.items() if mask.any()}
