"""thinkpipe convert as a user runs it: files, pipes, formats, config files, signals."""
import json
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


def test_embed_media_embeds_every_reference_and_a_missing_file_is_a_bad_record(cli, tmp_path):
    (tmp_path / "a.png").write_bytes(b"png-bytes")
    data = b"".join(dumps(r) for r in [
        {"id": "1", "images": [{"path": "a.png"}]}, {"id": "2", "images": "a.png"},
        {"id": "3", "images": [{"path": "a.png", "bytes": None}]}, {"id": "4", "images": ["gone.png"]}])
    r = cli(["thinkpipe", "convert", "--embed-media"], data, cwd=tmp_path)
    assert r.rc == 65 and "<stdin>:4" in r.stderr and "gone.png" in r.stderr
    r = cli(["thinkpipe", "convert", "--embed-media", "--on-error", "skip", "-o", "x.parquet"], data,
            cwd=tmp_path)
    assert r.rc == 0 and "1 bad record(s) skipped" in r.stderr
    out = cli(["thinkpipe", "convert", str(tmp_path / "x.parquet")]).out
    back = [__import__("json").loads(x) for x in out.splitlines()]
    refs = [b["images"][0] if isinstance(b["images"], list) else b["images"] for b in back]
    assert [ref["bytes"] for ref in refs] == ["cG5nLWJ5dGVz"] * 3


def test_a_truncated_gzip_yields_its_complete_records_then_names_the_line(cli, tmp_path):
    import gzip
    whole = gzip.compress(b"".join(dumps({"i": i, "pad": "x" * 40}) for i in range(5000)))
    r = cli(["thinkpipe", "convert"], whole[:-8])              # the trailer is gone
    assert r.rc == 65 and len(r.out.splitlines()) == 5000 and "<stdin>:5001" in r.stderr
    cut = whole[:len(whole) // 2]
    r = cli(["thinkpipe", "convert"], cut)
    n = len(r.out.splitlines())
    assert r.rc == 65 and n > 1000 and f"<stdin>:{n + 1}:" in r.stderr and "truncated" in r.stderr
    assert r.out.splitlines() == b"".join(dumps({"i": i, "pad": "x" * 40}) for i in range(n)).splitlines()
    r = cli(["thinkpipe", "convert", "--on-error", "skip"], cut)
    assert r.rc == 0 and len(r.out.splitlines()) == n


def test_select_warns_about_fields_no_record_has_and_reads_nested_paths(cli):
    r = cli(["thinkpipe", "convert", "--select", "id,meta.k,qestion", "--limit", "1"], DATA)
    assert r.rc == 0 and r.out == b'{"id":"0","meta":{"k":[0]}}\n' and "qestion" in r.stderr


def test_output_names_say_their_format_and_special_files_are_written_in_place(cli, tmp_path):
    r = cli(["thinkpipe", "convert", "-o", str(tmp_path / "x.csv")], DATA)
    assert r.rc == 2 and "x.csv" in r.stderr and not list(tmp_path.iterdir())
    target = tmp_path / "target.jsonl"
    target.write_text("old\n")
    (tmp_path / "link.jsonl").symlink_to(target)
    assert cli(["thinkpipe", "convert", "-o", str(tmp_path / "link.jsonl")], DATA).rc == 0
    assert (tmp_path / "link.jsonl").is_symlink() and target.read_bytes() == DATA
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    assert cli(["thinkpipe", "convert", "-o", str(fifo)], DATA).rc == 0
    assert reader.communicate(timeout=30)[0] == DATA and fifo.exists() and not fifo.is_file()


def test_a_full_disk_is_exit_73(cli):
    with open("/dev/full", "wb") as full:
        p = subprocess.run([os.path.join(os.path.dirname(__import__("sys").executable), "thinkpipe"),
                            "convert"], input=DATA * 200, stdout=full, stderr=subprocess.PIPE)
    assert p.returncode == 73 and b"No space left" in p.stderr and b"Traceback" not in p.stderr


def test_parquet_types_with_no_json_form_are_bad_input(cli, tmp_path):
    import datetime

    import pyarrow as pa
    pq.write_table(pa.table({"id": ["a"], "duration": pa.array([datetime.timedelta(seconds=3)])}),
                   tmp_path / "d.parquet")
    r = cli(["thinkpipe", "convert", str(tmp_path / "d.parquet")])
    assert r.rc == 65 and "'duration' is duration[us]" in r.stderr and "internal" not in r.stderr


def test_config_sections_are_command_names_and_typos_are_errors(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("synth_draw:\n  count: 7\nconvert:\n  limit: 2\n")
    assert len(cli(["synth-draw", "--config", str(cfg), "--task", "maze", "--canvas", "224"]).out.splitlines()) == 7
    assert len(cli(["thinkpipe", "convert", "--config", str(cfg)], DATA).out.splitlines()) == 2
    cfg.write_text("evaluate:\n  group-by: task\n")
    r = cli(["thinkpipe", "eval", "--config", str(cfg)], b"")
    assert r.rc == 2 and "'evaluate'" in r.stderr and "eval" in r.stderr


def test_balance_keeps_the_same_number_per_score_bin_in_input_order(cli):
    import random
    rng = random.Random(1)
    data = "".join(json.dumps({"id": i, "rewards": {"thinking": rng.random() ** 3}}) + "\n"
                   for i in range(600)).encode() + b'{"id": "x"}\n'
    r = cli(["thinkpipe", "convert", "--balance", "rewards.thinking:10:12", "--seed", "3"], data)
    out = [json.loads(x) for x in r.out.splitlines()]
    bins = [min(int(o["rewards"]["thinking"] * 10), 9) for o in out]
    assert r.rc == 0 and len(out) == 120 and all(bins.count(b) == 12 for b in range(10))
    assert [o["id"] for o in out] == sorted(o["id"] for o in out)
    assert "1 record(s) without a rewards.thinking" in r.stderr
    again = cli(["thinkpipe", "convert", "--balance", "rewards.thinking:10:12", "--seed", "3"], data)
    assert again.out == r.out
    assert cli(["thinkpipe", "convert", "--balance", "score:ten"], data).rc == 2


def test_set_tags_every_record_and_reads_json_values(cli, tmp_path):
    src = tmp_path / "in.parquet"
    assert cli(["thinkpipe", "convert", "-o", str(src)], b'{"id":1}\n{"id":2,"split":"old"}\n').rc == 0
    r = cli(["thinkpipe", "convert", str(src), "--set", "split=held-out", "--set", "n=3",
             "--set", "tags=[1,2]"])
    assert r.rc == 0
    assert [json.loads(x) for x in r.out.splitlines()] == [
        {"id": 1, "split": "held-out", "n": 3, "tags": [1, 2]},
        {"id": 2, "split": "held-out", "n": 3, "tags": [1, 2]}]
    bad = cli(["thinkpipe", "convert", "--set", "split"], b'{"id":1}\n')
    assert bad.rc == 2 and "FIELD=VALUE" in bad.stderr
