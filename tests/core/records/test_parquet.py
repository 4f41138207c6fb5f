"""JSONL <-> Parquet round trips keep every field and value, type for type."""
import base64
import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkpipe.core.records import parquet as pqmod
from thinkpipe.core.records.arrow_columns import same
from thinkpipe.core.records.jsonl import dumps, loads


def to_parquet(records) -> bytes:
    buf = io.BytesIO()
    w = pqmod.ParquetWriter(buf)
    for r in records:
        w.write(r)
    w.close()
    return buf.getvalue()


def from_parquet(data: bytes):
    return list(pqmod.iter_parquet(io.BytesIO(data), "t.parquet", [0]))


def sorted_json(record) -> bytes:
    import json
    return json.dumps(record, sort_keys=True, ensure_ascii=False).encode()


def round_trip(records):
    back = from_parquet(to_parquet(records))
    assert len(back) == len(records)
    for a, b in zip(records, back):
        assert same(a, b), (a, b)
    return back


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
scalars = st.none() | st.booleans() | st.integers(min_value=-2**80, max_value=2**80) | \
    st.floats(allow_nan=False, allow_infinity=False) | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(text, inner, max_size=4), max_leaves=12)
png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(40))).decode()
media_ref = st.sampled_from(["a.png", "dir/b.jpg"]) | st.builds(
    lambda p: {"path": p, "bytes": png}, st.none() | st.just("c.png"))
records = st.dictionaries(st.sampled_from(["id", "question", "answer", "x", "meta", "ünï", ""]),
                          values, max_size=5) | st.fixed_dictionaries(
    {"id": text, "images": st.lists(media_ref, max_size=3)}, optional={"answer": values})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, max_size=12))
def test_hypothesis_round_trip_keeps_every_field_and_value(recs):
    back = round_trip(recs)
    # and the JSON text is the same (key order aside: Parquet has one column order)
    assert [sorted_json(r) for r in back] == [sorted_json(loads(dumps(r))) for r in recs]


def test_round_trip_across_batches_with_drifting_types(monkeypatch):
    monkeypatch.setattr(pqmod, "BATCH_ROWS", 3)
    recs = [{"id": str(i), "n": i, "opt": None} for i in range(5)]
    recs += [{"id": "5", "n": 2.5, "opt": [1]}, {"id": "6", "late": {"k": "v"}}]
    recs += [{"id": "7", "n": None, "opt": [None]}]
    round_trip(recs)


def test_typed_columns_stay_typed_and_conflicts_become_json():
    data = to_parquet([{"q": "a", "n": 1, "mix": 1, "o": {"k": 1}}, {"q": "b", "n": 2, "mix": "x"}])
    schema = pq.read_schema(io.BytesIO(data))
    assert schema.field("q").type == pa.string()
    assert schema.field("n").type == pa.int64()
    assert schema.field("mix").type == pa.string()  # JSON text
    assert b'"mix"' in schema.metadata[pqmod.META_KEY]
    assert from_parquet(data)[1] == {"q": "b", "n": 2, "mix": "x"}  # "o" absent, not null


def test_absent_and_null_are_different():
    back = round_trip([{"a": 1, "b": None}, {"a": 2}])
    assert back[1] == {"a": 2} and "b" in back[0]


def test_media_become_datasets_style_structs():
    raw = b"\x89PNG\r\n\x1a\nabc"
    recs = [{"images": ["x.png", {"path": None, "bytes": base64.b64encode(raw).decode()}]},
            {"images": None}]
    data = to_parquet(recs)
    table = pq.read_table(io.BytesIO(data))
    assert table.schema.field("images").type == pa.list_(
        pa.struct([("bytes", pa.binary()), ("path", pa.string())]))
    assert table.column("images").to_pylist()[0][1]["bytes"] == raw
    round_trip(recs)


def test_in_memory_bytes_are_written_as_binary_and_read_as_base64():
    back = from_parquet(to_parquet([{"images": [{"path": "p.png", "bytes": b"\x00\x01"}]}]))
    assert back == [{"images": [{"path": "p.png", "bytes": "AAE="}]}]


def test_empty_objects_and_empty_stream():
    round_trip([{}, {"e": {}}, {"e": {"x": {}}}])
    assert from_parquet(to_parquet([])) == []


def test_foreign_parquet_reads_as_plain_rows():
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": [1, None], "b": [b"\x01", None]}), buf)
    assert from_parquet(buf.getvalue()) == [{"a": 1, "b": b"\x01"}, {"a": None, "b": None}]


def test_reserved_column_name_is_a_record_error():
    from thinkpipe.core.errors import RecordError
    with pytest.raises(RecordError):
        to_parquet([{pqmod.ABSENT: 1}])


def test_garbage_is_a_record_error():
    from thinkpipe.core.errors import RecordError
    with pytest.raises(RecordError):
        from_parquet(b"PAR1 this is not parquet")
