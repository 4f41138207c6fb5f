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


def test_canvases_too_small_are_refused_at_once_naming_the_smallest_that_works(cli):
    for args, smallest in ((["--task", "relations", "--canvas", "300"], "460 px"),
                           (["--task", "geometry", "--canvas", "220"], "360 px"),
                           (["--canvas", "200"], "460 px")):
        r = cli(["synth-draw", *args], timeout=20)
        assert r.rc == 2 and smallest in r.stderr and r.out == b""
    r = cli(["synth-draw", "--task", "relations", "--canvas", "460", "--count", "6"], timeout=60)
    assert r.rc == 0 and len(r.out.splitlines()) == 6


def test_relations_object_ranges_are_checked(cli):
    for bad in ("7-4", "1-3", "4-11", "x"):
        r = cli(["synth-draw", "--relations-objects", bad], timeout=20)
        assert r.rc == 2 and "--relations-objects" in r.stderr and "internal" not in r.stderr
    r = cli(["synth-draw", "--task", "relations", "--relations-objects", "2-3"])
    assert r.rc == 2 and "three objects" in r.stderr


def test_layout_search_is_bounded():
    import random

    import pytest

    from thinkpipe.tools.synth_draw import relations
    from thinkpipe.tools.synth_draw.task import CanvasTooSmall
    with pytest.raises(CanvasTooSmall, match="too small"):
        relations.place(random.Random(0), 200, 10)      # ten 50-80 px objects cannot fit
