"""Parquet -> JSONL a column at a time (parquet_lines) writes what the row-by-row path writes
(to_pylist, restore, jsonl.dumps), byte for byte, and reports a bad row at the same row."""
import base64
import datetime
import decimal
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkpipe.core.errors import RecordError
from thinkpipe.core.records import parquet as pqmod
from thinkpipe.core.records import parquet_lines as pl
from thinkpipe.core.records.jsonl import dumps

from .test_jsonl_blocks import HOSTILE, bench_like


def our_file(records) -> bytes:
    buf = io.BytesIO()
    w = pqmod.ParquetWriter(buf)
    w.write_many(records)
    w.close()
    return buf.getvalue()


def foreign(table: pa.Table, **kw) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def row_by_row(data: bytes) -> bytes:
    return b"".join(map(dumps, pqmod.iter_parquet(io.BytesIO(data), "t.parquet", [0])))


def by_column(data: bytes) -> bytes:
    lines = b"".join(pqmod.iter_parquet(io.BytesIO(data), "t.parquet", [0], lines=True))
    chunks = b"".join(c if type(c) is bytes else b"".join(c.to_pylist())
                      for c in pqmod.iter_parquet_chunks(io.BytesIO(data), "t.parquet", [0]))
    assert lines == chunks
    return lines


def encoded(monkeypatch) -> list:
    """Counts the batches encoded by column (not row by row)."""
    done, encode = [], pl.encode
    monkeypatch.setattr(pl, "encode", lambda *a: (done.append(1), encode(*a))[1])
    return done


def test_our_files_of_plain_records(monkeypatch):
    done = encoded(monkeypatch)
    data = our_file(bench_like(20_000))
    assert by_column(data) == row_by_row(data) and done


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_our_files_of_hostile_records(case):
    data = our_file(HOSTILE[case] * 700 + bench_like(10))
    assert by_column(data) == row_by_row(data)


CONTROL = "".join(chr(i) for i in range(32))
FOREIGN = {
    "strings": pa.table({"s": ["plain", 'q"uote', "back\\slash", "new\nline\r\t\b\f", "é😀\x7f/",
                               None, "", CONTROL, "\u2028"]}),
    "large types": pa.table({"s": pa.array(["a", "b\n"], pa.large_string()),
                             "l": pa.array([[1], None], pa.large_list(pa.int64()))}),
    "integers": pa.table({"i8": pa.array([-128, 127], pa.int8()),
                          "u64": pa.array([0, 2**64 - 1], pa.uint64()),
                          "i64": pa.array([-2**63, None], pa.int64()),
                          "b": [True, None], "n": pa.nulls(2)}),
    "floats": pa.table({"f": [1.0, -0.0, 1e16, 1e-7, float("nan"), float("inf"), None, 0.1],
                        "f32": pa.array([1.5] * 8, pa.float32())}),
    "nested": pa.table({"m": [{"a": [1, None], "b": {"c": "x\"y"}}, None,
                              {"a": [], "b": None}],
                        "ll": [[[1, 2], None, []], None, [[3]]]}),
    "other types": pa.table({
        "bin": [b"\x00\xff", None],
        "ts": [datetime.datetime(2020, 1, 2, 3, 4, 5), None],
        "date": [datetime.date(2020, 1, 2), None],
        "dec": pa.array([decimal.Decimal("1.50"), None], pa.decimal128(5, 2)),
        "dict": pa.array(["a", "b"]).dictionary_encode(),
        "map": pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
        "fixed": pa.array([[1, 2], None], pa.list_(pa.int64(), 2))}),
    "keys to escape": pa.table({'k"\n': [1], "é": [2], "": [3]}),
    "repeated names": pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"]),
    "no columns": pa.table({"a": [1, 2]}).drop_columns(["a"]),
}


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_files_from_elsewhere(case):
    table = FOREIGN[case]
    data = foreign(pa.concat_tables([table] * 3000) if table.num_columns else table)
    assert by_column(data) == row_by_row(data)


def test_integers_beyond_64_bits_in_json_columns_go_row_by_row():
    data = our_file([{"a": 2**70, "f": 1e16}] + bench_like(5))
    assert by_column(data) == row_by_row(data)
    assert b"1e+16" in by_column(data)        # the whole record by the standard library


def error_of(fn, data: bytes) -> str:
    with pytest.raises(RecordError) as e:
        fn(data)
    return str(e.value)


def test_invalid_utf8_is_reported_at_the_same_row():
    good = pa.array(["ok"] * 2500)
    raw = b"".join(s.encode() for s in ["ok"] * 1500) + b"\xff" + b"ok" * 999
    offsets = pa.array([min(2 * i, 3000) + (1 if i > 1500 else 0) for i in range(2501)],
                       pa.int32())
    bad = pa.Array.from_buffers(pa.string(), 2500, [None, offsets.buffers()[1], pa.py_buffer(raw)])
    data = foreign(pa.table({"s": pa.concat_arrays([good, bad])}))
    message = error_of(by_column, data)
    assert message == error_of(row_by_row, data) and message.startswith("t.parquet:")


def test_bad_json_text_in_our_file_is_reported_at_the_same_row():
    data = our_file([{"j": {"k": i}} if i % 3 else {"j": [i]} for i in range(3000)])
    table = pq.read_table(io.BytesIO(data))
    texts = table.column("j").to_pylist()
    texts[2222] = "{not json"
    data = foreign(table.set_column(0, "j", pa.array(texts)))
    message = error_of(by_column, data)
    assert message == error_of(row_by_row, data)


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
scalars = st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | \
    st.floats() | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.sampled_from(["a", "b", 'c"\n']), inner, max_size=3),
                      max_leaves=8)
media_ref = st.sampled_from(["a.png"]) | st.builds(
    lambda p: {"path": p, "bytes": base64.b64encode(b"\x89PNG").decode()}, st.none() | text)
records = st.dictionaries(st.sampled_from(["id", "q", "meta", "", "é"]), values, max_size=4) | \
    st.fixed_dictionaries({"images": st.lists(media_ref, max_size=2)}, optional={"id": values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, max_size=20), st.integers(1, 3))
def test_hypothesis_same_lines(recs, copies):
    data = our_file(recs * copies)
    assert outcome(by_column, data) == outcome(row_by_row, data)


def outcome(fn, data: bytes):
    """The lines, or the error (an infinity beside a long integer is written as JSON text that
    does not read back: both paths must fail alike)."""
    try:
        return fn(data)
    except RecordError as e:
        return str(e)
