"""Turning columns of JSON-like values into Arrow arrays without changing a single value.

Arrow's own inference is fast but lossy for JSON records: it widens `[1, 2.5]` to doubles (1 comes
back as 1.0), merges objects with different keys into one struct (absent keys come back as null),
and cannot store an empty object or an integer beyond 64 bits. Each column is therefore built one of
three ways ("kinds"):

  typed  Arrow's inferred type, kept only when reading it back gives the same values, type for type
  media  a media field (`images`, `audios`, `videos`) whose every item is a reference:
         list<struct<bytes: binary, path: string>>
  json   anything else: the values as JSON text, decoded again on read

Batches are inferred separately and reconciled with `merge_types` (a null type takes the other
side's type; otherwise types must agree, or the whole column becomes json).
"""
from __future__ import annotations

import math
from typing import Any

import orjson
import pyarrow as pa

from . import media
from .jsonl import dumps

TYPED, MEDIA, JSON = "typed", "media", "json"
MEDIA_TYPE = pa.list_(pa.struct([("bytes", pa.binary()), ("path", pa.string())]))


def same(a: Any, b: Any) -> bool:
    """Equality that also demands equal types (1 is not 1.0, True is not 1) and equal key sets."""
    ta = type(a)
    if ta is not type(b):
        return False
    if ta is dict:
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if ta is list:
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if ta is float:
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a == b


def _risky(t: pa.DataType) -> bool:
    """Types whose inference may have changed a value (float widening, struct key merging)."""
    if pa.types.is_floating(t) or pa.types.is_struct(t):
        return True
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _risky(t.value_type)
    return False


def _writable(t: pa.DataType) -> bool:
    """Parquet cannot store a struct without fields (an empty JSON object)."""
    if pa.types.is_struct(t):
        return t.num_fields > 0 and all(_writable(f.type) for f in t)
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return _writable(t.value_type)
    return True


def _unchanged(values: list, arr: pa.Array) -> bool:
    """Does `arr` read back as `values`? Compared as sorted-key JSON text (orjson, in C), which
    tells 1 from 1.0 and an absent key from a null one; `same` is the slow, exact fallback."""
    back = arr.to_pylist()
    try:
        return orjson.dumps(values, option=orjson.OPT_SORT_KEYS) == \
            orjson.dumps(back, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return all(same(v, w) for v, w in zip(values, back))


def json_array(values: list) -> pa.Array:
    return pa.array([None if v is None else dumps(v)[:-1].decode("utf-8", "surrogatepass")
                     for v in values], pa.string())


def _is_media_list(values: list) -> bool:
    return all(v is None or (type(v) is list and all(media.is_ref(x) for x in v)) for v in values)


def build(name: str, values: list) -> tuple[pa.Array, str]:
    """One column of a batch -> (array, kind)."""
    if name in media.MEDIA_FIELDS and _is_media_list(values) and any(v is not None for v in values):
        structs = [None if v is None else [media.to_struct(x) for x in v] for v in values]
        return pa.array(structs, MEDIA_TYPE), MEDIA
    try:
        arr = pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return json_array(values), JSON
    if not _writable(arr.type):
        return json_array(values), JSON
    if _risky(arr.type) and not _unchanged(values, arr):
        return json_array(values), JSON
    return arr, TYPED


def merge_types(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """The type both batches cast to without loss, or None when they disagree."""
    if a == b:
        return a
    if pa.types.is_null(a):
        return b
    if pa.types.is_null(b):
        return a
    if pa.types.is_list(a) and pa.types.is_list(b):
        inner = merge_types(a.value_type, b.value_type)
        return None if inner is None else pa.list_(inner)
    if pa.types.is_struct(a) and pa.types.is_struct(b):
        if [f.name for f in a] != [f.name for f in b]:
            return None
        fields = [merge_types(fa.type, fb.type) for fa, fb in zip(a, b)]
        if any(f is None for f in fields):
            return None
        return pa.struct([(fa.name, t) for fa, t in zip(a, fields)])
    return None


def merge_column(old: tuple[str, pa.DataType] | None, kind: str, t: pa.DataType):
    """Fold one batch's (kind, type) into the column's running (kind, type)."""
    if old is None:
        return kind, t
    old_kind, old_t = old
    if old_kind == JSON or kind == JSON:
        return JSON, pa.string()
    if pa.types.is_null(t):
        return old
    if pa.types.is_null(old_t):
        return kind, t
    if old_kind != kind:
        return JSON, pa.string()
    merged = merge_types(old_t, t)
    return (JSON, pa.string()) if merged is None else (kind, merged)


def to_final(arr: pa.Array, kind: str, final_kind: str, final_type: pa.DataType) -> pa.Array:
    """A batch's column in the file's final kind and type."""
    if final_kind == JSON and kind != JSON:
        values = arr.to_pylist()
        if kind == MEDIA:
            values = [None if v is None else [media.from_struct(x) for x in v] for v in values]
        return json_array(values)
    return arr if arr.type == final_type else arr.cast(final_type)
