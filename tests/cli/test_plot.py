import json

import numpy as np
import pytest
from PIL import Image

from ..conftest import run

BLUE, ORANGE = (0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e)     # matplotlib's first two colours


def _metrics(path, slope):
    rows = [{"step": s, "reward": slope * s, "loss": 1 / s} for s in range(1, 21)]
    rows.append({"summary": True, "steps": 20})                      # no reward: left out
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def _pixels(png, colour):
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    return int((np.abs(rgb - colour).sum(axis=2) < 40).sum())


def test_png_of_two_runs_has_both_curves_in_two_panels(tmp_path):
    a, b = _metrics(tmp_path / "a.jsonl", 0.05), _metrics(tmp_path / "b.jsonl", 0.02)
    out = tmp_path / "curves.png"
    r = run(["thinkpipe", "plot", a, b, "--y", "reward,loss", "--smooth", "0.6", "-o", str(out)])
    assert r.rc == 0, r.stderr
    image = Image.open(out)
    assert image.format == "PNG" and image.size == (960, 1080)     # 6.4 x 3.6 in per panel, 150 dpi
    assert _pixels(out, BLUE) > 500 and _pixels(out, ORANGE) > 500  # both curves are drawn
    assert "4 curve(s), 80 points" in r.stderr


def test_svg_html_and_parquet_on_stdin(tmp_path):
    src = tmp_path / "m.jsonl"
    _metrics(src, 0.1)
    parquet = run(["thinkpipe", "convert", str(src), "--format", "parquet"]).out
    r = run(["thinkpipe", "plot", "--y", "reward", "-o", str(tmp_path / "r.html")], parquet)
    assert r.rc == 0, r.stderr
    page = (tmp_path / "r.html").read_text()
    assert page.startswith("<!doctype html>") and "<svg" in page and "<?xml" not in page
    assert "src=" not in page and "<script" not in page and "<path" in page   # nothing fetched
    assert run(["thinkpipe", "plot", str(src), "--y", "loss", "-o", str(tmp_path / "l.svg")]).rc == 0
    assert (tmp_path / "l.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize("args, rc, message", [
    (["--y", "rewrd", "-o", "x.png"], 2, "no record has a number for rewrd"),
    (["--y", "reward", "-o", "x.jpg"], 2, "by its extension"),
    (["--y", "reward", "-o", "/no/such/dir/x.png"], 73, "cannot write"),
])
def test_mistakes_are_one_line_errors(tmp_path, args, rc, message):
    r = run(["thinkpipe", "plot", _metrics(tmp_path / "m.jsonl", 0.1), *args])
    assert r.rc == rc and message in r.stderr and "Traceback" not in r.stderr


def test_a_malformed_line_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"step": 1, "reward": 0.1}\n{"step": 2, broken\n')
    r = run(["thinkpipe", "plot", str(bad), "--y", "reward", "-o", str(tmp_path / "x.png")])
    assert r.rc == 65 and "bad.jsonl:2" in r.stderr


def test_runs_with_the_same_file_name_keep_their_paths_apart(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _metrics(tmp_path / "a" / "m.jsonl", 0.05), _metrics(tmp_path / "b" / "m.jsonl", 0.02)
    r = run(["thinkpipe", "plot", a, b, "--y", "reward", "-o", str(tmp_path / "x.png")])
    assert r.rc == 0 and "2 curve(s), 40 points" in r.stderr


def test_a_field_only_some_inputs_lack_is_a_warning_and_a_missing_panel(tmp_path):
    src = _metrics(tmp_path / "m.jsonl", 0.1)
    r = run(["thinkpipe", "plot", src, "--y", "reward,kl", "-o", str(tmp_path / "x.png")])
    assert r.rc == 0 and "no record has a number for kl" in r.stderr
    assert Image.open(tmp_path / "x.png").size == (960, 540)          # one panel


def test_a_run_keeps_its_colour_in_every_panel(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text("".join(json.dumps({"step": s, "loss": 1 / s}) + "\n" for s in range(1, 11)))
    b = _metrics(tmp_path / "b.jsonl", 0.05)                  # reward and loss
    out = tmp_path / "x.png"
    assert run(["thinkpipe", "plot", str(a), str(b), "--y", "loss,reward", "-o", str(out)]).rc == 0
    rgb = np.asarray(Image.open(out).convert("RGB")).astype(int)
    reward_panel = rgb[rgb.shape[0] // 2:]                     # only b has a reward: orange there
    near = lambda img, c: int((np.abs(img - c).sum(axis=2) < 40).sum())  # noqa: E731
    assert near(reward_panel, ORANGE) > 300 and near(reward_panel, BLUE) < 50
