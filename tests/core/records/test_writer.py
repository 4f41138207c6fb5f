"""Output formats, and files that appear whole or not at all."""
import os

import pytest

from thinkpipe.core.errors import OutputError
from thinkpipe.core.records import RecordWriter, read_records, resolve_format


@pytest.mark.parametrize("path, fmt, want", [
    ("x.parquet", None, "parquet"), ("x.pq", None, "parquet"), ("x.jsonl.gz", None, "jsonl.gz"),
    ("x.jsonl", None, "jsonl"), (None, None, "jsonl"), ("x.jsonl", "parquet", "parquet"),
])
def test_resolve_format(path, fmt, want):
    assert resolve_format(path, fmt) == want


def test_unknown_format_is_rejected():
    with pytest.raises(ValueError):
        resolve_format(None, "csv")


def test_failed_run_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    with pytest.raises(RuntimeError):
        with RecordWriter(str(out)) as w:
            w.write({"a": 1})
            raise RuntimeError("boom")
    assert out.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_file_mode_follows_umask(tmp_path):
    out = tmp_path / "o.jsonl"
    with RecordWriter(str(out)) as w:
        w.write({"a": 1})
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_gzip_output_is_deterministic(tmp_path):
    blobs = []
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        with RecordWriter(str(tmp_path / name)) as w:
            w.write({"a": 1})
        blobs.append((tmp_path / name).read_bytes())
    assert blobs[0] == blobs[1]
    assert list(read_records([str(tmp_path / "a.jsonl.gz")])) == [{"a": 1}]


def test_unwritable_destination_is_an_output_error(tmp_path):
    with pytest.raises(OutputError):
        RecordWriter(str(tmp_path / "no" / "such" / "dir" / "x.jsonl"))
