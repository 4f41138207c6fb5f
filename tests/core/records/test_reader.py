"""Reading several inputs of any format, sniffed from their bytes."""
import gzip
import io
import sys

import pytest

from thinkpipe.core.errors import InputError, RecordError
from thinkpipe.core.records import RecordWriter, read_records, sniff


def write(path, records, fmt=None):
    with RecordWriter(str(path), fmt) as w:
        for r in records:
            w.write(r)


def test_sniff():
    assert sniff(b"PAR1") == "parquet"
    assert sniff(b"\x1f\x8b\x08\x00") == "gzip"
    assert sniff(b'{"a') == "jsonl" and sniff(b"") == "jsonl"


def test_formats_are_sniffed_not_guessed_from_names(tmp_path):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.jsonl", tmp_path / "c.data"
    write(a, [{"i": 1}], "parquet")
    write(b, [{"i": 2}], "jsonl.gz")
    c.write_bytes(b'{"i": 3}\n')
    reader = read_records([str(a), str(b), str(c)])
    assert list(reader) == [{"i": 1}, {"i": 2}, {"i": 3}]


def test_where_names_file_and_line(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b'{"i": 1}\n\n{"i": 2}\n')
    reader = read_records([str(p)])
    it = iter(reader)
    next(it)
    assert reader.where == f"{p}:1"
    next(it)
    assert reader.where == f"{p}:3"


def test_missing_file_and_directory_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(read_records([str(tmp_path / "nope.jsonl")]))
    with pytest.raises(InputError, match="directory"):
        list(read_records([str(tmp_path)]))


def test_corrupt_gzip_is_a_record_error(tmp_path):
    p = tmp_path / "x.jsonl.gz"
    data = b"".join(b'{"a": %d}\n' % (i * 7919 % 10007) for i in range(5000))
    p.write_bytes(gzip.compress(data)[:2000])
    with pytest.raises(RecordError, match="gzip"):
        list(read_records([str(p)]))


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.gz", "parquet"])
def test_stdin_of_every_format(fmt, tmp_path, monkeypatch):
    p = tmp_path / "x"
    write(p, [{"i": 1}, {"i": 2}], fmt)

    class Stdin:
        buffer = io.BufferedReader(io.BytesIO(p.read_bytes()))

    monkeypatch.setattr(sys, "stdin", Stdin)
    assert list(read_records(None)) == [{"i": 1}, {"i": 2}]
