"""JSONL -> Parquet through Arrow's parser (jsonl_blocks) writes the very file the exact path
(orjson line by line into ParquetWriter.write) writes, on every hostile case, and takes Arrow only
where that is exact."""
import io
import json
import random
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkpipe.core.errors import RecordError
from thinkpipe.core.records import jsonl_blocks as jb
from thinkpipe.core.records import parquet as pqmod
from thinkpipe.core.records import row_groups
from thinkpipe.core.records.jsonl import dumps, iter_jsonl
from thinkpipe.core.records.policy import ErrorPolicy


def exact(data: bytes, policy: str = "fail") -> bytes:
    buf = io.BytesIO()
    w = pqmod.ParquetWriter(buf)
    w.write_many(iter_jsonl(io.BytesIO(data), "f.jsonl", ErrorPolicy.parse(policy), [0]))
    w.close()
    return buf.getvalue()


def fast(data: bytes, policy: str = "fail", spy: list | None = None, rewind: bool = False) -> bytes:
    """The fast path's file; with `rewind`, written to a real file while the input is read
    (row_groups.Speculation), cut back and rewritten if the schema changes."""
    buf = tempfile.TemporaryFile() if rewind else io.BytesIO()
    w = pqmod.ParquetWriter(buf, rewind=rewind)
    if spy is not None:
        original = w.write_table
        w.write_table = lambda table, absent: (spy.append(table.num_rows), original(table, absent))
    counted = []
    jb.copy_jsonl(io.BytesIO(data), "f.jsonl", ErrorPolicy.parse(policy), [0], w, counted.append)
    assert sum(counted) == w.count
    w.close()
    buf.seek(0)
    return buf.read()


def same_file(data: bytes, policy: str = "fail") -> list:
    """Assert both paths write the same bytes (also when written while read); the rows Arrow
    took, block by block."""
    took: list = []
    expected = exact(data, policy)
    assert fast(data, policy, took) == expected
    assert fast(data, policy, rewind=True) == expected
    return took


def lines(*records) -> bytes:
    return b"".join(r if isinstance(r, bytes) else json.dumps(r).encode() + b"\n"
                    for r in records)


def bench_like(n: int, start: int = 0) -> list[dict]:
    return [{"id": i, "question": f"which box is left of {i}?", "answer": "ABCD"[i % 4],
             "meta": {"k": [1, 2, 3]}} for i in range(start, start + n)]


@pytest.fixture
def small(monkeypatch):
    """Batches of 4 records and blocks of ~200 bytes: every boundary is crossed."""
    monkeypatch.setattr(pqmod, "BATCH_ROWS", 4)
    monkeypatch.setattr(jb, "BLOCK_BYTES", 200)
    monkeypatch.setattr(jb, "SPLIT_BATCHES", 2)


def test_plain_records_go_through_arrow_and_give_the_same_file():
    took = same_file(lines(*bench_like(2500)))
    assert sum(took) == 2500


def test_plain_records_across_small_batches_and_blocks(small):
    took = same_file(lines(*bench_like(103)))
    assert sum(took) == 103 and len(took) > 5


HOSTILE = {
    "big ints": [{"a": 2**63}, {"a": -2**63 - 1}, {"a": 2**70}, {"a": 1}],
    "int64 edges": [{"a": 2**63 - 1}, {"a": -2**63}, {"a": 0}, {"a": -0}],
    "floats": [{"a": 1.5}, {"a": -0.0}, {"a": 1e300}, {"a": 5e-324}, {"a": 0.1}],
    "ints among floats": [{"a": 1}, {"a": 2.5}, {"a": 3}, {"a": 1.0}],
    "nested floats": [{"m": {"x": [1, 2.5]}}, {"m": {"x": [3]}}],
    "timestamps": [{"t": "2020-01-01"}, {"t": "2020-01-01T00:00:00"}, {"t": "2020-01-01 10:00"}],
    "nested timestamps": [{"m": {"t": ["2021-02-03"]}}, {"m": {"t": ["x"]}}],
    "null vs absent": [{"a": 1, "b": None}, {"a": 2}, {"b": 3}, {"a": None}, {}],
    "late field": [{"a": 1}] * 9 + [{"a": 2, "late": "x"}] * 9,
    "field that stops": [{"a": 1, "gone": 1}] * 9 + [{"a": 2}] * 9,
    "nested absent": [{"m": {"a": 1}}, {"m": {"a": 1, "b": 2}}, {"m": {"b": 3}}],
    "nested explicit null": [{"m": {"a": None}}, {"m": {"a": 1}}],
    "key order drift": [{"m": {"a": 1, "b": 2}}] * 6 + [{"m": {"b": 3, "a": 4}}] * 6,
    "key order in a batch": [{"m": {"a": 1, "b": 2}}, {"m": {"b": 3, "a": 4}}] * 6,
    "key order in lists": [{"l": [{"a": 1, "b": 2}]}] * 5 + [{"l": [{"b": 1, "a": 2}]}] * 5,
    "top-level key order": [{"a": 1, "b": 2}, {"b": 3, "a": 4}] * 6,
    "mixed types": [{"a": 1}, {"a": "x"}, {"a": True}, {"a": [1]}, {"a": {"k": 1}}],
    "int and bool": [{"a": 1}, {"a": True}],
    "list drift": [{"l": []}] * 5 + [{"l": [1]}] * 5 + [{"l": ["a"]}] * 5 + [{"l": [None]}],
    "list of structs": [{"l": [{"a": 1}, None]}, {"l": [{"a": 2}]}, {"l": []}],
    "empty objects": [{}, {"e": {}}, {"e": {"x": {}}}, {"e": {"x": 1}}],
    "strings": [{"s": "é\u0000\u001f\u007f😀"}, {"s": "\"quoted\" \\ back"}, {"s": ""}],
    "unicode keys": [{"ünï": 1, "": 2, "a\"b": 3}, {"ünï": 2, "": 3, "a\"b": 4}],
    "struct keys that look like text": [{"s": "\"b\": 1", "m": {"a": 1, "b": 2}},
                                        {"s": "x", "m": {"a": 2, "b": 3}}],
    "struct key elsewhere": [{"m": {"a": 1, "b": 2}, "n": {"b": 1}},
                             {"m": {"a": 1, "b": 2}, "n": {"b": 1}}],
    "media": [{"images": ["a.png"]}, {"images": [{"path": "b.png", "bytes": None}]}],
    "deep": [{"d": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}],
    "all null": [{"a": None}] * 6 + [{"a": 1}],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_cases_give_the_same_file(case, small):
    same_file(lines(*HOSTILE[case]) * 3)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_cases_among_plain_records(case, monkeypatch):
    monkeypatch.setattr(jb, "SPLIT_BATCHES", 1)
    data = lines(*bench_like(3000)) + lines(*HOSTILE[case]) + lines(*bench_like(3000, 3000))
    assert sum(same_file(data)) >= 5000


RAW = {
    "escaped keys": b'{"\\u0061": 1, "b": "\\u00e9\\ud83d\\ude00"}\n{"a": 2, "b": "\\/"}\n',
    "escaped struct keys": b'{"m": {"a": 1, "b": 2}}\n{"m": {"b": 2, "\\u0061": 1}}\n',
    "duplicate keys": b'{"a": 1, "a": 2}\n{"a": 3}\n',
    "nested duplicate keys": b'{"m": {"a": 1, "a": 2}}\n{"m": {"a": 3}}\n',
    "spaces and CRLF": b'  {"a": 1}\r\n{"a" : 2 }  \r\n{"a":3}\n',
    "no final newline": b'{"a": 1}\n{"a": 2}',
    "blank lines": b'{"a": 1}\n\n{"a": 2}\n   \n{"a": 3}\n',
    "bom": b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n',
    "long digits in strings": b'{"a": "12345678901234567890123"}\n{"a": "x"}\n',
    "numbers with exponents": b'{"a": 1E2}\n{"a": 1e-400}\n{"a": -0.0}\n',
    "big int then small": b'{"a": 123456789012345678901234567890}\n{"a": 1}\n',
}


@pytest.mark.parametrize("case", sorted(RAW))
def test_raw_hostile_lines_give_the_same_file(case, small):
    again = RAW[case].endswith(b"\n") and case != "bom"     # a byte-order mark on line 1 only
    same_file(RAW[case] * 3 if again else RAW[case])
    if case != "bom":
        same_file(lines(*bench_like(9)) + RAW[case])


BAD = {
    "nan": b'{"a": NaN}\n',
    "infinity": b'{"a": -Infinity}\n',
    "too big a float": b'{"a": 1e400}\n',
    "two objects on a line": b'{"a": 1} {"a": 2}\n',
    "lone surrogate": b'{"a": "\\ud800"}\n',
    "invalid utf-8": b'{"a": "\xff"}\n',
    "utf-8 surrogate": b'{"a": "\xed\xa0\x80"}\n',
    "bom after line 1": b'\xef\xbb\xbf{"a": 1}\n',
    "array line": b'[1, 2]\n',
    "scalar line": b'3\n',
    "truncated": b'{"a": 1\n',
    "control character": b'{"a": "x\x01y"}\n',
    "too deep": b'{"a": ' + b"[" * 1100 + b"]" * 1100 + b"}\n",
}


def error_of(fn, data: bytes) -> str:
    with pytest.raises(RecordError) as e:
        fn(data)
    return str(e.value)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_lines_stop_at_the_same_line_with_the_same_message(case):
    data = lines(*bench_like(4321)) + BAD[case] + lines(*bench_like(3000))
    message = error_of(fast, data)
    assert message == error_of(exact, data)
    assert message.startswith("f.jsonl:4322: ")


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_lines_are_skipped_the_same_way(case, small):
    data = lines(*bench_like(7)) + BAD[case] + lines(*bench_like(9))
    same_file(data, "skip")


def test_reserved_field_name_is_still_an_error():
    data = lines(*bench_like(2000)) + lines({pqmod.ABSENT: 1})
    assert "reserved" in error_of(fast, data)


def test_parts_of_a_block_still_go_through_arrow(monkeypatch):
    """One odd line costs its part of the block (SPLIT_BATCHES batches), not the whole block."""
    data = lines(*bench_like(20_000)) + lines({"a": 1.5}) + lines(*bench_like(20_000, 20_000))
    took = same_file(data)
    assert sum(took) >= 40_001 - jb.SPLIT_BATCHES * pqmod.BATCH_ROWS


def test_a_schema_change_after_the_file_was_begun_rewrites_it(monkeypatch):
    """Written while read, then a late block widens a type, adds a field, turns one into JSON:
    the file is cut back and written again from the spool, byte for byte the exact path's."""
    monkeypatch.setattr(jb, "BLOCK_BYTES", 100_000)
    cancelled = []
    cancel = row_groups.Speculation.cancel
    monkeypatch.setattr(row_groups.Speculation, "cancel",
                        lambda self: (cancelled.append(1), cancel(self)))
    for late in ({"id": "text"}, {"new": 1}, {"meta": {"k": "x"}}, {"id": 2.5}):
        data = lines(*bench_like(5000)) + lines(*bench_like(3000, 5000)).replace(
            b'{"id": 7000,', json.dumps(late).encode()[:-1] + b', "x7000": 1,')
        took: list = []
        assert fast(data, spy=took, rewind=True) == exact(data)
        assert sum(took) >= 7000 and len(cancelled) == 1
        cancelled.clear()


def test_records_after_the_last_partial_batch_join_it(small):
    """A JSONL input's last, partial batch waits in the writer; a second input continues it."""
    first, second = lines(*bench_like(6)), lines({"id": "x", "extra": [1]}, *bench_like(5))
    buf = io.BytesIO()
    w = pqmod.ParquetWriter(buf)
    jb.copy_jsonl(io.BytesIO(first), "a.jsonl", ErrorPolicy(), [0], w, lambda n: None)
    w.write_many(iter_jsonl(io.BytesIO(second), "b", ErrorPolicy(), [0]))
    w.close()
    assert buf.getvalue() == exact(first + second)


def test_a_generated_mixed_file(monkeypatch):
    """Plain records with every hostile case scattered through them, at random places."""
    monkeypatch.setattr(jb, "SPLIT_BATCHES", 1)
    rng = random.Random(0)
    chunks = [lines(*bench_like(rng.randrange(1, 4000), i * 4000)) for i in range(30)]
    odd = [lines(*v) for v in HOSTILE.values()] + [v for k, v in RAW.items()
                                                   if v.endswith(b"\n") and k != "bom"]
    data = b"".join(c + rng.choice(odd) for c in chunks)
    assert sum(same_file(data)) > len(data.splitlines()) // 3


text = st.text(st.characters(exclude_categories=("Cs",)), max_size=6)
scalars = st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | \
    st.floats(allow_nan=False, allow_infinity=False) | text | st.sampled_from(["2020-01-01"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.sampled_from(["a", "b", "k"]), inner, max_size=3),
                      max_leaves=8)
records = st.dictionaries(st.sampled_from(["id", "q", "meta", "n", "images", ""]), values,
                          max_size=4)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(records, max_size=30))
def test_hypothesis_same_file(small, recs):
    same_file(b"".join(dumps(r) for r in recs))


# records Arrow may take: no floats, so most blocks go through Arrow and are compared
plain = st.none() | st.booleans() | st.integers(min_value=-2**63, max_value=2**63 - 1) | \
    st.sampled_from(["x", "2020-01-01", "é", ""])
nested = st.recursive(plain.filter(lambda v: v is not None) | st.just(None) | st.just(None),
                      lambda inner: st.lists(inner, max_size=3) |
                      st.fixed_dictionaries({"k": inner}) | st.fixed_dictionaries({"k": inner}) |
                      st.fixed_dictionaries({"a": inner}, optional={"b": inner}), max_leaves=6)
top = st.fixed_dictionaries({"a": plain, "b": st.lists(plain, max_size=2)})
arrowish = st.fixed_dictionaries({"id": st.integers(0, 9)},
                                 optional={"q": plain, "m": nested, "t": top,
                                           "l": st.lists(nested, max_size=2)})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(arrowish, max_size=30), st.randoms())
def test_hypothesis_same_file_where_arrow_takes_most(small, recs, rng):
    def shuffle(r):                                                      # key order varies
        return {k: shuffle(v) if type(v) is dict and rng.random() < 0.3 else v
                for k, v in rng.sample(list(r.items()), len(r))}
    shuffled = [shuffle(r) for r in recs]
    same_file(b"".join(dumps(r) for r in shuffled))
