"""thinkpipe convert as a user runs it: files, pipes, formats, config files, signals."""
import os
import signal
import subprocess
import time

import pyarrow.parquet as pq

from thinkpipe.core.records.jsonl import dumps

RECORDS = [{"id": str(i), "question": f"q{i}?", "answer": "ABCD"[i % 4], "meta": {"k": [i]}}
           for i in range(50)]
DATA = b"".join(dumps(r) for r in RECORDS)


def test_jsonl_parquet_jsonl_round_trip_through_pipes(cli, tmp_path):
    out = tmp_path / "x.parquet"
    assert cli(["thinkpipe", "convert", "-o", str(out)], DATA).rc == 0
    assert pq.read_metadata(str(out)).num_rows == 50
    r = cli(["thinkpipe", "convert"], out.read_bytes())  # Parquet on stdin
    assert r.rc == 0 and r.out == DATA


def test_format_flag_writes_parquet_to_stdout(cli):
    r = cli(["thinkpipe", "convert", "--format", "parquet"], DATA)
    assert r.out[:4] == b"PAR1" and r.out[-4:] == b"PAR1"


def test_select_limit_shard(cli):
    r = cli(["thinkpipe", "convert", "--select", "answer,id", "--shard", "2/5", "--limit", "2"], DATA)
    assert r.text.splitlines() == ['{"answer":"B","id":"1"}', '{"answer":"C","id":"6"}']
    shards = [cli(["thinkpipe", "convert", "--shard", f"{k}/3"], DATA).out for k in (1, 2, 3)]
    assert sorted(b"".join(shards).splitlines()) == sorted(DATA.splitlines())


def test_bad_shard_is_a_usage_error(cli):
    r = cli(["thinkpipe", "convert", "--shard", "0/3"], DATA)
    assert r.rc == 2 and "K counts from 1" in r.stderr


def test_closed_pipe_is_quiet(tmp_path):
    big = tmp_path / "big.jsonl"
    big.write_bytes(DATA * 2000)  # 100k records, more than a pipe buffer
    p = subprocess.run(f"thinkpipe convert {big} | head -1", shell=True, capture_output=True,
                       env={**os.environ, "PATH": os.path.dirname(os.sys.executable) + ":" +
                            os.environ["PATH"]})
    assert p.stdout == dumps(RECORDS[0]) and p.stderr == b""


def test_config_file_supplies_options_and_command_line_wins(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("convert:\n  select: id\n  limit: 3\ngrpo:\n  beta: 0.1\n")
    r = cli(["thinkpipe", "convert", "--config", str(cfg)], DATA)
    assert r.text.splitlines() == ['{"id":"0"}', '{"id":"1"}', '{"id":"2"}']
    r = cli(["thinkpipe", "convert", "--config", str(cfg), "--limit", "1"], DATA)
    assert r.text.splitlines() == ['{"id":"0"}']
    toml = tmp_path / "c.toml"
    toml.write_text('select = "answer"\nlimit = 1\n')
    assert cli(["thinkpipe", "convert", "--config", str(toml)], DATA).text == '{"answer":"A"}\n'


def test_unknown_config_key_is_a_usage_error(cli, tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text('{"selct": "id"}')
    r = cli(["thinkpipe", "convert", "--config", str(cfg)], DATA)
    assert r.rc == 2 and "selct" in r.stderr


def test_ctrl_c_exits_130_without_traceback(tmp_path):
    env = {**os.environ, "PATH": os.path.dirname(os.sys.executable) + ":" + os.environ["PATH"]}
    p = subprocess.Popen(["thinkpipe", "convert", "-o", str(tmp_path / "o.jsonl")],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    p.stdin.write(DATA)
    p.stdin.flush()
    deadline = time.time() + 60  # started: the output's temporary file exists; stdin stays open
    while not any(n.startswith(".tmp-") for n in os.listdir(tmp_path)) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    err = p.communicate(timeout=20)[1]
    assert p.returncode == 130 and b"interrupted" in err and b"Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()  # no half-written output


def test_embed_media_and_media_dir(cli, tmp_path):
    (tmp_path / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n1234")
    rec = b'{"id": "x", "images": ["a.png"]}\n'
    r = cli(["thinkpipe", "convert", "--embed-media", "-o", "e.parquet"], rec, cwd=tmp_path)
    assert r.rc == 0
    r = cli(["thinkpipe", "convert", "e.parquet", "--media-dir", "m"], cwd=tmp_path)
    assert r.rc == 0
    path = r.text.split('"images":["')[1].split('"')[0]
    assert (tmp_path / path).read_bytes() == b"\x89PNG\r\n\x1a\n1234"
    r = cli(["thinkpipe", "convert", "--embed-media"], b'{"images": ["gone.png"]}\n', cwd=tmp_path)
    assert r.rc == 65 and "<stdin>:1: media: gone.png" in r.stderr


def test_unchanged_jsonl_is_copied_byte_for_byte(cli):
    data = b'{"id": 1,  "big": 123456789012345678901234567890}\r\n\n{"id":2}'
    r = cli(["thinkpipe", "convert"], data)
    assert r.out == b'{"id": 1,  "big": 123456789012345678901234567890}\r\n{"id":2}\n'
    r = cli(["thinkpipe", "convert", "--select", "big"], data)  # changed: compact, still exact
    assert r.out == b'{"big":123456789012345678901234567890}\n{}\n'
