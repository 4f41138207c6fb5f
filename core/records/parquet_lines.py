"""Parquet rows as JSON lines, encoded a column at a time with Arrow's compute kernels.

Reading a row into a dict (to_pylist) and encoding it again (orjson) costs a few microseconds of
Python per record. For JSONL output nothing needs the dict: each column's values can be turned
into their JSON text in C (integers cast to text, strings escaped and quoted, lists joined with
commas, structs assembled from their fields' text) and the lines assembled from the columns' texts
and the quoted keys. The text is what jsonl.dumps writes for the record, byte for byte:

  - integers, booleans, nulls, strings (with orjson's escapes), lists and structs of them are
    encoded by Arrow; every other column (floats, binary, timestamps, decimals, dictionaries, the
    JSON-text and media columns of our own files) is encoded value by value with orjson, exactly
    as inside the record, and still joined in C
  - a batch goes row by row as before (restore, then dumps) when one of its rows lacks a field,
    when a value needs the standard library (an integer beyond 64 bits: dumps then writes the
    whole record with it), or when a name repeats
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from . import media
from ..errors import RecordError
from .jsonl import _default, dumps, loads

_OPTS = orjson.OPT_SERIALIZE_NUMPY
_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"),
            ("\b", "\\b"), ("\f", "\\f")]
_SHORT = {ord(old) for old, _ in _ESCAPES}   # other control characters: \\u00XX, by orjson
GROUP_BATCHES = 8         # batches of parquet.BATCH_ROWS rows encoded in one go
_INTEGERS = (pa.int8(), pa.int16(), pa.int32(), pa.int64(),
             pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64())


class _RowByRow(Exception):
    """This batch goes through to_pylist and dumps, record by record."""


def iter_chunks(batches, meta: dict | None, restore: Callable[[dict], None] | None, name: str,
                pos: list) -> Iterator[pa.Array | bytes]:
    """The rows of the batches as JSON lines (each ending in a newline): many at a time as a
    binary array, or one `bytes` line at a time where a batch goes row by row. `pos[0]` is the
    1-based row of the last line given; `meta` the file's thinkpipe metadata, `restore` what
    turns one of its rows into its record. A row that cannot be read is a RecordError at
    `name:row`, the row parquet.iter_rows names (batches are read and fall back row by row in
    the same BATCH_ROWS, and lines before a bad row still come first)."""
    meta = meta or {}
    json_cols, media_cols = set(meta.get("json", [])), set(meta.get("media", []))
    absent = meta.get("absent")
    row = 0
    try:
        for group in _groups(batches):
            try:
                lines = encode(pa.concat_batches(group), json_cols, media_cols, absent)
            except (_RowByRow, pa.ArrowException, ValueError):
                for batch in group:
                    for rec in batch.to_pylist():
                        row += 1
                        if restore is not None:
                            restore(rec)
                        pos[0] = row
                        yield dumps(rec)
                continue
            row += len(lines)
            pos[0] = row
            yield lines
    except (pa.ArrowException, OSError, ValueError) as e:
        raise RecordError(f"{name}:{row + 1}", f"cannot read Parquet row: {e}") from None


def iter_lines(*args) -> Iterator[bytes]:
    """iter_chunks(*args) one line at a time."""
    for chunk in iter_chunks(*args):
        if type(chunk) is bytes:
            yield chunk
        else:
            yield from chunk.to_pylist()


def _groups(batches) -> Iterator[list]:
    """The batches GROUP_BATCHES at a time (Arrow's kernels pay per call); a read error comes
    after the batches read before it."""
    group: list = []
    try:
        for batch in batches:
            group.append(batch)
            if len(group) == GROUP_BATCHES:
                yield group
                group = []
    except (pa.ArrowException, OSError, ValueError):
        if group:
            yield group
        raise
    if group:
        yield group


def encode(batch: pa.RecordBatch, json_cols: set, media_cols: set,
           absent: str | None) -> pa.Array:
    """The batch's JSON lines (a binary array), as dumps(restored record) would write them;
    _RowByRow if that cannot be done here."""
    names = batch.schema.names
    if len(set(names)) != len(names):
        raise _RowByRow
    parts: list = []
    for name, column in zip(names, batch.columns):
        if name == absent:
            if pc.max(pc.list_value_length(column)).as_py() or 0:
                raise _RowByRow                  # a row lacks a field: its keys differ
            continue
        if name in json_cols:
            text = _by_value(column, lambda v: loads(v))
        elif name in media_cols:
            text = _by_value(column, lambda v: [media.from_struct(x) for x in v])
        else:
            text = _text(column)
        parts += ["," if parts else "{", orjson.dumps(name).decode() + ":", text]
    if not parts:
        return strings([b"{}\n"] * batch.num_rows).cast(pa.binary())
    return pc.binary_join_element_wise(*parts, "}\n", "").cast(pa.binary())


def _text(arr: pa.Array) -> pa.Array:
    """Each value's JSON text (a string array without nulls)."""
    t = arr.type
    if pa.types.is_null(t):
        return _fill(pc.cast(arr, pa.string()))
    if pa.types.is_boolean(t):
        return _fill(pc.if_else(arr, "true", "false"))
    if t in _INTEGERS:
        return _fill(pc.cast(arr, pa.string()))
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _string(arr)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _list(arr)
    if pa.types.is_struct(t):
        return _struct(arr)
    return _by_value(arr, None)


def _fill(text: pa.Array) -> pa.Array:
    return pc.fill_null(text, "null")


def _string(arr: pa.Array) -> pa.Array:
    """Quoted with orjson's escapes (a control character other than \\n \\r \\t \\b \\f goes to
    orjson). Our own files hold valid UTF-8; a file from elsewhere is checked."""
    arr.validate(full=True)
    offsets = np.frombuffer(arr.buffers()[1], np.int32 if pa.types.is_string(arr.type) else
                            np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0]:offsets[-1]] \
        if len(arr) and arr.buffers()[2] is not None else np.zeros(0, np.uint8)
    special = data[(data < 0x20) | (data == 0x22) | (data == 0x5C)]
    if len(special):
        present = set(np.unique(special).tolist())
        if present - _SHORT:
            return _by_value(arr, None)
        for old, new in _ESCAPES:
            if ord(old) in present:
                arr = pc.replace_substring(arr, old, new)
    return _fill(pc.binary_join_element_wise('"', arr, '"', ""))


def _list(arr: pa.Array) -> pa.Array:
    """[a,b,...] from the items' text, in the list's own offsets; null lists `null`."""
    items = _text(arr.values)
    offsets = arr.offsets
    lists = (pa.ListArray if pa.types.is_list(arr.type) else pa.LargeListArray).from_arrays(
        offsets, items)
    joined = pc.binary_join_element_wise("[", pc.binary_join(lists, ","), "]", "")
    return pc.if_else(arr.is_valid(), joined, "null") if arr.null_count else joined


def _struct(arr: pa.StructArray) -> pa.Array:
    """{"k":v,...} in field order; null structs `null`."""
    names = [f.name for f in arr.type]
    if len(set(names)) != len(names) or not names:   # (Parquet has no empty structs)
        raise _RowByRow
    parts: list = []
    for name, child in zip(names, arr.flatten()):
        parts += ["," if parts else "{", orjson.dumps(name).decode() + ":", _text(child)]
    joined = pc.binary_join_element_wise(*parts, "}", "")
    return pc.if_else(arr.is_valid(), joined, "null") if arr.null_count else joined


def _by_value(arr: pa.Array, convert: Callable | None) -> pa.Array:
    """Each value encoded by orjson as inside a record (`convert` first, for non-null values);
    _RowByRow when one needs the standard library (dumps would write the record with it)."""
    out = []
    try:
        for v in arr.to_pylist():
            if v is not None and convert is not None:
                v = convert(v)
            out.append(orjson.dumps(v, default=_default, option=_OPTS))
    except orjson.JSONEncodeError:
        raise _RowByRow from None
    return strings(out)


def strings(values: list[bytes]) -> pa.Array:
    """A string array of UTF-8 byte strings, built from buffers (pa.array would import pandas)."""
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return pa.Array.from_buffers(pa.string(), len(values),
                                 [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(values))])
