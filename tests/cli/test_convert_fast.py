"""thinkpipe convert's whole-input paths (Arrow's JSON parser into Parquet, Parquet encoded a
column at a time into JSONL) give the bytes, errors and exit statuses of the record-by-record path,
which `--limit` (a slice of the stream) still takes."""
import json
import random

from ..core.records.test_jsonl_blocks import BAD, HOSTILE, RAW, bench_like, lines

EVERYTHING = "--limit=1000000000"      # the same records, through the record-by-record path


def mixed(seed: int = 0) -> bytes:
    rng = random.Random(seed)
    odd = [lines(*v) for v in HOSTILE.values()] + [v for k, v in RAW.items()
                                                   if v.endswith(b"\n") and k != "bom"]
    return b"".join(lines(*bench_like(rng.randrange(1, 5000), i * 5000)) + rng.choice(odd)
                    for i in range(12))


def test_jsonl_to_parquet_is_the_record_by_record_file(cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(mixed())
    for out, extra in (("fast.parquet", []), ("slow.parquet", [EVERYTHING])):
        assert cli(["thinkpipe", "convert", str(src), "-o", str(tmp_path / out), *extra]).rc == 0
    assert (tmp_path / "fast.parquet").read_bytes() == (tmp_path / "slow.parquet").read_bytes()


def test_parquet_to_jsonl_is_the_record_by_record_text(cli, tmp_path):
    src = tmp_path / "in.parquet"
    assert cli(["thinkpipe", "convert", "-o", str(src)], mixed(1)).rc == 0
    fast = cli(["thinkpipe", "convert", str(src)])
    slow = cli(["thinkpipe", "convert", str(src), EVERYTHING])
    piped = cli(["thinkpipe", "convert"], src.read_bytes())
    assert fast.rc == slow.rc == piped.rc == 0
    assert fast.out == slow.out == piped.out and fast.out.count(b"\n") > 12


def test_a_bad_line_deep_in_a_big_file_is_the_same_one_line_error(cli, tmp_path):
    src = tmp_path / "big.jsonl"                 # every case: tests/core/records/test_jsonl_blocks
    for case in ("nan", "two objects on a line", "invalid utf-8"):
        bad = BAD[case]
        src.write_bytes(lines(*bench_like(70_000)) + bad + lines(*bench_like(10)))
        fast = cli(["thinkpipe", "convert", str(src), "-o", str(tmp_path / "x.parquet")])
        slow = cli(["thinkpipe", "convert", str(src), "-o", str(tmp_path / "y.parquet"),
                    EVERYTHING])
        assert fast.rc == slow.rc == 65, case
        assert fast.stderr == slow.stderr and f"{src}:70001: " in fast.stderr, case
        assert not (tmp_path / "x.parquet").exists()


def test_skipped_lines_are_skipped_and_counted_alike(cli, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"".join(lines(*bench_like(3000, i * 3000)) + bad
                             for i, bad in enumerate(BAD.values())))
    outs = []
    for name, extra in (("a.parquet", []), ("b.parquet", [EVERYTHING])):
        r = cli(["thinkpipe", "convert", str(src), "--on-error", "skip", "-o",
                 str(tmp_path / name), *extra])
        assert r.rc == 0 and f"{len(BAD)} bad record(s) skipped" in r.stderr
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]


def test_several_inputs_of_both_formats(cli, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.parquet"
    a.write_bytes(lines(*bench_like(2500)))
    assert cli(["thinkpipe", "convert", "-o", str(b)],
               lines(*[{"x": i, "late": [i]} for i in range(1500)])).rc == 0
    for fmt in ("parquet", "jsonl"):
        fast = cli(["thinkpipe", "convert", str(a), str(b), str(a), "--format", fmt])
        slow = cli(["thinkpipe", "convert", str(a), str(b), str(a), "--format", fmt, EVERYTHING])
        assert fast.rc == slow.rc == 0 and fast.out == slow.out
    back = cli(["thinkpipe", "convert", "--format", "jsonl"],
               cli(["thinkpipe", "convert", str(a), str(b), "--format", "parquet"]).out)
    first = json.loads(back.out.splitlines()[0])
    assert "late" not in first and "x" not in first    # absent, not null
