"""Fuzzed record streams (issue 22): any bytes read as records or one clean RecordError, and
`thinkpipe convert`'s JSONL -> Parquet -> JSONL path is the identity on what the README promises.

Properties:
  - reading any bytes (JSONL, gzip, Parquet-looking or noise) from a file yields dicts or raises a
    RecordError whose `where` is `file:line` (`file` alone for a file that is no Parquet at all),
    nothing else; under `--on-error skip` it never raises, and yields what `fail` yielded before
    its error. The same holds for the lines view (reader.lines()) and for convert's block path
    into Parquet (RecordReader.write_into a ParquetWriter, jsonl_blocks.copy_jsonl);
  - JSONL -> Parquet -> JSONL through RecordWriter.write_from (what `thinkpipe convert` runs for
    whole inputs: Arrow's block parser into Parquet, then Parquet rows encoded a column at a time)
    gives back every record, field and value, type for type: nested objects and lists, unicode
    text, integers (beyond 64 bits too), floats, booleans, null, empty objects and lists, ints
    mixed with floats, objects with differing keys, fields only some records have (README,
    "Records"). Only key order may change.
test_parquet.py and test_jsonl_blocks.py check the writer and the two JSONL -> Parquet paths on
their own; this file drives the readers and convert's path end to end.
"""
import gzip
import os
import re
import io
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import example, given
from hypothesis import strategies as st

from thinkpipe.core.errors import RecordError
from thinkpipe.core.records import RecordWriter, read_records
from thinkpipe.core.records import parquet as pqmod
from thinkpipe.core.records.arrow_columns import same
from thinkpipe.core.records.jsonl import dumps, loads
from tests.fuzzing import fuzz

FUZZ = fuzz(200)

LINES = [b'{"a": 1}', b'{"id": "x", "n": [1, 2.5, null]}', b"[1, 2]", b"7", b'"s"', b"null",
         b"{", b"}", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": 1} {"b": 2}', b"\xef\xbb\xbf",
         b'{"x": "\xff\xfe"}', b'{"\xc3\xa9": "\xe2\x82"}', b"", b" ", b"\t", b"\r",
         b'{"n": 123456789012345678901234567890}', b'{"n": 1e999}', b'{"d": "2020-01-01"}',
         b'{"images": ["x.png"]}', b'{"_thinkpipe_absent": 1}', b'{"a": {"b": {}}}',
         b'{"k": "\\ud800"}', b'{"a": 1, "a": 2}', b"[" * 300, b"{}"]
jsonl = st.lists(st.sampled_from(LINES) | st.binary(max_size=12), max_size=10).map(b"\n".join)
PARQUET = None   # a small valid Parquet file, made on first use


def _parquet_bytes() -> bytes:
    global PARQUET
    if PARQUET is None:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "p.parquet")
            with RecordWriter(path) as out:
                for i in range(3):
                    out.write({"id": str(i), "n": i, "m": [i, "x"] if i else {}})
            with open(path, "rb") as f:
                PARQUET = f.read()
    return PARQUET


@st.composite
def any_input(draw) -> bytes:
    kind = draw(st.sampled_from(["jsonl", "gzip", "cut_gzip", "parquet", "bad_parquet", "noise"]))
    if kind == "noise":
        return draw(st.binary(max_size=64))
    if kind == "parquet":                  # a valid file, one byte overwritten or cut short
        data = bytearray(_parquet_bytes())
        at = draw(st.integers(0, len(data) - 1))
        if draw(st.booleans()):
            data[at] = draw(st.integers(0, 255))
            return bytes(data)
        return bytes(data[:max(at, 4)])
    if kind == "bad_parquet":
        return b"PAR1" + draw(st.binary(max_size=40)) + draw(st.sampled_from([b"", b"PAR1"]))
    data = draw(jsonl)
    if kind == "jsonl":
        return data
    packed = gzip.compress(data, mtime=0)
    return packed if kind == "gzip" else packed[:draw(st.integers(2, len(packed)))]


def _read(path: str, on_error: str = "fail", lines: bool = False):
    """(what was read, the RecordError or None)."""
    reader, got = read_records([path], on_error), []
    try:
        for item in (reader.lines() if lines else reader):
            got.append(item)
    except RecordError as e:
        return got, e
    return got, None


def _check_where(error: RecordError | None, path: str) -> None:
    if error is not None:
        assert error.where == path or re.fullmatch(re.escape(path) + r":[1-9][0-9]*", error.where)
        assert str(error).startswith(error.where + ": ") and "\n" not in error.message


def _bad_metadata(raw: bytes) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1]}).replace_schema_metadata({pqmod.META_KEY: raw}), buf)
    return buf.getvalue()


@FUZZ
@given(any_input())
@example(_bad_metadata(b"{\xfe"))     # found by this test: UnicodeDecodeError, not a RecordError
@example(_bad_metadata(b"[1]"))
def test_any_bytes_read_as_records_or_one_record_error(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.jsonl")
        with open(path, "wb") as f:
            f.write(data)
        got, error = _read(path)
        _check_where(error, path)
        assert all(type(r) is dict for r in got)
        lines, line_error = _read(path, lines=True)
        _check_where(line_error, path)
        assert all(type(x) is bytes and x.endswith(b"\n") for x in lines)
        skipped, none = _read(path, "skip")
        if not data.startswith(b"PAR1"):          # a damaged Parquet file is one bad record
            assert none is None
        assert all(same(a, b) for a, b in zip(got, skipped)) and len(skipped) >= len(got)
        try:
            with RecordWriter(os.path.join(tmp, "out.parquet")) as out:
                out.write_from(read_records([path]), lambda n: None)
        except RecordError as e:
            _check_where(e, path)


# what the README promises to keep: every JSON value (no NaN or infinity: they are not JSON)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
scalars = st.none() | st.booleans() | st.integers() | \
    st.integers(min_value=-2**64, max_value=2**64) | \
    st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(text, inner, max_size=4), max_leaves=10)
records = st.dictionaries(st.sampled_from(["id", "question", "answer", "meta", "n", "é", "",
                                           "a.b", "x y"]), values, max_size=5)
# records shaped alike, so that whole batches go through Arrow's parser as well
alike = st.fixed_dictionaries({"id": st.integers(0, 10**6)}, optional={
    "q": st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | text,
    "l": st.lists(st.integers(0, 9) | text, max_size=3),
    "m": st.fixed_dictionaries({"k": st.integers() | text}), "e": st.just({})})


def _convert(src: str, dst: str) -> None:
    """`thinkpipe convert SRC -o DST` without options: the whole-input path."""
    with RecordWriter(dst) as out:
        out.write_from(read_records([src]), lambda n: None)


def _round_trip(recs: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, mid, back = (os.path.join(tmp, n) for n in ("a.jsonl", "b.parquet", "c.jsonl"))
        with open(src, "wb") as f:
            f.write(b"".join(dumps(r) for r in recs))
        _convert(src, mid)
        _convert(mid, back)
        with open(back, "rb") as f:
            out = [loads(line) for line in f]
    assert len(out) == len(recs)
    for want, got in zip(recs, out):
        assert same(got, loads(dumps(want))), (want, got)


def test_convert_to_parquet_and_back_is_the_identity(monkeypatch):
    monkeypatch.setattr(pqmod, "BATCH_ROWS", 3)    # small batches: many blocks, some through Arrow

    @fuzz(100)
    @given(st.lists(records | alike, max_size=12) | st.lists(alike, min_size=3, max_size=12))
    def check(recs):
        _round_trip(recs)
    check()


def test_round_trip_of_the_values_named_in_the_readme():
    _round_trip([{"big": 2**64 + 1, "mix": 1, "o": {"a": 1}, "e": {}, "u": "ünï ✓ 🎉", "l": []},
                 {"mix": 2.5, "o": {"b": [None, {"c": -0.0}]}, "e": [], "n": None},
                 {"big": -2**70, "mix": None, "t": True, "f": 1e308}])
