"""synth-draw from the command line: determinism, shards, media, styles."""
import json
import os


def records(text):
    return [json.loads(line) for line in text.splitlines()]


def test_same_seed_same_bytes_and_workers_do_not_change_them(cli):
    a = cli(["synth-draw", "--count", "9", "--seed", "3"])
    b = cli(["synth-draw", "--count", "9", "--seed", "3", "--workers", "2"])
    c = cli(["synth-draw", "--count", "9", "--seed", "4"])
    assert a.rc == 0 and a.out == b.out and a.out != c.out
    assert [r["task"] for r in records(a.text)][:3] == ["maze", "relations", "geometry"]
    assert "9 records" in a.stderr


def test_shards_split_without_overlap_or_loss(cli):
    whole = cli(["synth-draw", "--count", "10", "--task", "maze,geometry"]).text.splitlines()
    parts = [cli(["synth-draw", "--count", "10", "--task", "maze,geometry", "--shard", f"{k}/3"])
             .text.splitlines() for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == sorted(whole) and len(sum(parts, [])) == 10


def test_media_dir_and_sharegpt(cli, tmp_path):
    r = cli(["synth-draw", "--count", "2", "--task", "relations", "--media-dir", "img",
             "--style", "sharegpt"], cwd=tmp_path)
    recs = records(r.text)
    assert r.rc == 0 and all(os.path.exists(tmp_path / p) for rec in recs for p in rec["images"])
    text = "".join(m["content"] for m in recs[0]["messages"])
    assert text.count("<image>") == len(recs[0]["images"])
    assert cli(["synth-draw", "--style", "sharegpt"]).rc == 2


def test_parquet_output_round_trips(cli, tmp_path):
    out = tmp_path / "d.parquet"
    assert cli(["synth-draw", "--count", "3", "-o", str(out)]).rc == 0
    back = records(cli(["thinkpipe", "convert", str(out)]).text)
    direct = records(cli(["synth-draw", "--count", "3"]).text)
    assert back == direct


def test_bad_options_are_usage_errors(cli):
    assert cli(["synth-draw", "--task", "chess"]).rc == 2
    assert cli(["synth-draw", "--reflection-rate", "2"]).rc == 2
    assert cli(["synth-draw", "--embed-media", "--media-dir", "x"]).rc == 2
    assert cli(["synth-draw", "--count", "0"]).out == b""
