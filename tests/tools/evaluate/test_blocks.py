"""Scoring in blocks (blocks.py, --workers): the same bytes, bad records, summary and report as
the record-at-a-time loop of evaluate(), whatever the number of workers and the block size."""
import json
import os

import pytest

from thinkpipe.core.records import ErrorPolicy, RecordError, apply, parse_shard, read_records
from thinkpipe.tools.evaluate import EvalConfig, blocks, run

from . import corpus


class Logged(ErrorPolicy):
    """An error policy that also keeps what it was handed, in order."""

    def __init__(self, spec: str):
        base = ErrorPolicy.parse(spec)
        super().__init__(mode=base.mode, quarantine_path=base.quarantine_path)
        self.seen = []

    def handle(self, where, message, raw):
        self.seen.append((str(where), message, raw))
        super().handle(where, message, raw)


def _score(paths, tmp, spec, *, files=True, shard=None, limit=None, **kw):
    """(output bytes, what the policy saw, report JSON, error) of one eval run."""
    spec = spec.replace("Q", str(tmp / "q.jsonl"))
    policy, out = Logged(spec), tmp / "out.jsonl"
    config = EvalConfig(group_by=("task",), report=str(tmp / "r.json"), **kw)
    reader = read_records(paths, policy)
    items = apply(((reader.where, r) for r in reader), parse_shard(shard), limit)
    chosen = blocks.Files(paths, parse_shard(shard), limit) if files else None
    error = None
    try:
        run(items, config, policy, str(out), show=False, files=chosen)
    except RecordError as e:
        error = str(e)
    policy.close()
    report = json.loads((tmp / "r.json").read_text()) if error is None else None
    quarantined, written = out_bytes(tmp / "q.jsonl"), out_bytes(out)
    for name in ("out.jsonl", "r.json", "q.jsonl"):
        (tmp / name).unlink(missing_ok=True)
    if report:
        report["meta"].pop("inputs"), report["meta"].pop("generated")
    return written, policy.seen, report, error, quarantined


def out_bytes(path):
    return path.read_bytes() if path.exists() else b""


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of a few records, so a test file spans dozens of them."""
    monkeypatch.setattr(blocks, "BLOCK_BYTES", 3000)
    monkeypatch.setattr(blocks, "ITEMS", 7)


@pytest.mark.parametrize("spec", ["skip", "quarantine:Q", "fail"])
@pytest.mark.parametrize("workers", [1, 2])
def test_blocks_match_the_record_loop_on_a_hostile_corpus(tmp_path, small_blocks, spec, workers):
    (tmp_path / "a.jsonl").write_bytes(corpus.lines(600, seed=1, bad=True))   # a BOM, bad lines
    (tmp_path / "b.jsonl").write_bytes(corpus.lines(300, seed=2, bad=True))
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    ref = _score(paths, tmp_path, spec, files=False)
    got = _score(paths, tmp_path, spec, workers=workers)
    assert got == ref
    out, seen, report, error, quarantined = got
    if spec == "fail":      # the first bad record stops the run, as one pass stops
        assert error.startswith(f"{paths[0]}:53:") and report is None and len(seen) == 1
    else:
        assert error is None and len(seen) == 9 and report["rows"][0]["n"] == 900
        assert out.count(b"\n") == 900          # the bad lines come on top of 900 records
        assert any(where.startswith(paths[1] + ":") for where, _, _ in seen)
    assert (quarantined.count(b"\n") == len(seen)) == (spec.startswith("quarantine"))


@pytest.mark.parametrize("workers", [1, 2])
def test_parquet_shards_and_limits_read_in_blocks(tmp_path, small_blocks, workers):
    from thinkpipe.core.records import RecordWriter
    with RecordWriter(str(tmp_path / "p.parquet")) as out:
        out.write_many(corpus.records(200, seed=3))
    paths = [str(tmp_path / "p.parquet")]
    for shard, limit in [(None, None), ("1/3", None), (None, 45), ("2/2", 17)]:
        ref = _score(paths, tmp_path, "skip", files=False, shard=shard, limit=limit)
        got = _score(paths, tmp_path, "skip", shard=shard, limit=limit, workers=workers)
        assert got == ref and got[0]


def test_a_missing_second_input_fails_as_the_record_loop_does(tmp_path, small_blocks):
    (tmp_path / "a.jsonl").write_bytes(corpus.lines(100))
    paths = [str(tmp_path / "a.jsonl"), str(tmp_path / "missing.jsonl")]
    outcomes = []
    for files, workers in [(False, 1), (True, 1), (True, 2)]:
        with pytest.raises(Exception, match="missing.jsonl") as e:
            _score(paths, tmp_path, "fail", files=files, workers=workers)
        outcomes.append((type(e.value), str(e.value), out_bytes(tmp_path / "out.jsonl")))
        (tmp_path / "out.jsonl").unlink(missing_ok=True)
    assert outcomes[0] == outcomes[1] == outcomes[2]


def test_block_records_declines_what_needs_the_careful_reader():
    from thinkpipe.core.records.jsonl import block_records
    assert block_records(b'{"a": 1}\n{"b": [2]}\n') == [{"a": 1}, {"b": [2]}]
    for data in (b'{"a": 1}\n\n', b'\xef\xbb\xbf{"a": 1}\n', b'[1]\n', b'{"a": 12345678901234567890}\n',
                 b'{"a": 1\n'):
        assert block_records(data) is None


def test_line_blocks_keep_line_numbers_and_bytes(tmp_path):
    import io

    from thinkpipe.core.records.jsonl import line_blocks
    data = b"".join(b'{"i": %d}\n' % i for i in range(500)) + b'{"last": 1}'
    cut = list(line_blocks(io.BytesIO(data), 100))
    assert b"".join(block for block, _ in cut) == data
    firsts = [first for _, first in cut]
    assert firsts[0] == 1 and firsts == sorted(firsts)
    for block, first in cut:
        assert block.split(b"\n")[0] == (b'{"i": %d}' % (first - 1) if first <= 500 else b'{"last": 1}')


def test_workers_refused_with_a_model_or_a_judge():
    with pytest.raises(ValueError, match="--workers"):
        EvalConfig(workers=2, model="x")
    with pytest.raises(ValueError, match="at least 1"):
        EvalConfig(workers=0)


def test_the_cli_scores_the_same_with_workers(cli, tmp_path):
    data = corpus.lines(12_000, seed=4, bad=True)        # a few MB: several 1 MiB blocks
    (tmp_path / "in.jsonl").write_bytes(data)
    runs = {}
    for workers in ("1", "2", "auto"):
        r = cli(["thinkpipe", "eval", str(tmp_path / "in.jsonl"), "--on-error", "skip",
                 "--group-by", "task", "--workers", workers])
        assert r.rc == 0, r.stderr
        runs[workers] = (r.out, r.stderr)
    assert runs["1"] == runs["2"] == runs["auto"]
    first = data.split(b"\n").index(corpus.rng_bad(50).encode()) + 1     # its line number
    piped = cli(["thinkpipe", "eval", "--on-error", "skip", "--workers", "2"], data)
    assert piped.out == runs["1"][0]
    assert f"<stdin>:{first}: gold answer" in piped.stderr  # bad lines named at the file's line
    r = cli(["thinkpipe", "eval", str(tmp_path / "in.jsonl"), "--workers", "2"])
    assert r.rc == 65 and f"{tmp_path / 'in.jsonl'}:{first}:" in r.stderr
    assert r.out == runs["1"][0][: len(r.out)] and r.out.count(b"\n") == 51
    assert cli(["thinkpipe", "eval", "--workers", "two"], data).rc == 2


def test_closed_pipe_and_ctrl_c_stop_the_workers_quietly(tmp_path):
    import signal
    import subprocess
    import sys
    import time
    (tmp_path / "in.jsonl").write_bytes(corpus.lines(40_000, seed=5))
    tp = os.path.join(os.path.dirname(sys.executable), "thinkpipe")
    p = subprocess.run(f"{tp} eval {tmp_path / 'in.jsonl'} --workers 2 -q | head -3", shell=True,
                       capture_output=True, timeout=120)
    assert p.stdout.count(b"\n") == 3 and b"Traceback" not in p.stderr, p.stderr
    proc = subprocess.Popen([tp, "eval", str(tmp_path / "in.jsonl"), "--workers", "2", "-q",
                             "-o", str(tmp_path / "o.jsonl")], stderr=subprocess.PIPE,
                            start_new_session=True)
    time.sleep(4)
    os.killpg(proc.pid, signal.SIGINT)                     # Ctrl-C reaches the whole group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"Traceback" not in err, err
    left = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True)
    assert left.stdout == b""                              # no worker left behind
