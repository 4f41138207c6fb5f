"""The HTML report as a browser shows it: `thinkpipe eval --report out.html` rendered by headless
Chromium (Debian's `chromium`), screenshotted, its DOM dumped and its console read.

The console check is only worth something if it can fail, so the negative controls inject an
uncaught error, a script, a broken SVG attribute and an external image into copies of the same
page and assert the detector reports each one. Without a Chromium binary the tests are skipped
(.ci/run installs one where apt-get can).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
WIDTH, HEIGHT = 1280, 2000

pytestmark = pytest.mark.slow
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no chromium, chromium-browser or "
                                   "google-chrome binary on PATH (apt-get install chromium)")

# Chromium's --enable-logging=stderr line for a console message:
#   [9356:9356:1201/124053.019331:INFO:CONSOLE:1] "Uncaught Error: x", source: file:///p.html (1)
# (older builds write CONSOLE(1)); a page with no script should produce none at all.
CONSOLE = re.compile(r':CONSOLE(?::\d+|\(\d+\))\] "(?P<msg>.*)", source: (?P<src>\S*)')


def chromium(url: str, tmp_path, *mode: str) -> subprocess.CompletedProcess:
    """One headless run, with a fresh profile and every host name unresolvable (no network)."""
    cmd = [BROWSER, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--no-first-run", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
           "--hide-scrollbars", *mode, url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def console_errors(stderr: str, url: str) -> list[str]:
    """Console messages that refer to the page (or to no source), and any uncaught exception."""
    found = []
    for line in stderr.splitlines():
        m = CONSOLE.search(line)
        if m and (m["src"] in ("", url) or m["src"].startswith(url + "#")):
            found.append(m["msg"])
        elif "Uncaught" in line:
            found.append(line)
    return found


def make_report(cli, tmp_path, name: str = "out.html") -> str:
    """Score 24 generated DeafTest items (3 answered "no idea": unparseable) through the CLI."""
    made = cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--make", "24",
                "--media-dir", str(tmp_path / "wav")])
    assert made.rc == 0, made.stderr
    records = [json.loads(line) for line in made.text.splitlines()]
    assert len(records) == 24
    for i, r in enumerate(records):
        r["response"] = "no idea" if i % 8 == 3 else "<answer>A</answer>"
        r["model"] = "tiny-test-model"
    stdin = "".join(json.dumps(r) + "\n" for r in records).encode()
    report = tmp_path / name
    scored = cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--report", str(report)], stdin)
    assert scored.rc == 0, scored.stderr
    assert "unparseable 3" in scored.stderr
    return report.read_text()


def test_report_is_self_contained(cli, tmp_path):
    text = make_report(cli, tmp_path)
    # the SVG namespace is a name, not a fetch; nothing else may name a network location
    assert not re.search(r"https?:|//[\w.-]+\.\w", text.replace('xmlns="http://www.w3.org/2000/svg"', ""))
    assert not re.search(r"<(script|link|iframe|img|object|embed|audio|video)\b|url\(|@import", text,
                         re.I)
    assert "Content-Security-Policy" in text


@needs_browser
def test_report_renders_in_chromium(cli, tmp_path):
    from PIL import Image

    page = tmp_path / "out.html"
    make_report(cli, tmp_path)
    url = page.as_uri()

    shot = tmp_path / "shot.png"
    p = chromium(url, tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}")
    assert console_errors(p.stderr, url) == []
    assert shot.stat().st_size > 10_000
    with Image.open(shot) as im:
        assert im.size == (WIDTH, HEIGHT)
        rgb = im.convert("RGB")
    colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT)
    assert len(colours) > 20, "the screenshot is (nearly) one colour"

    def pixels(target, tol=12):
        return sum(n for n, c in colours if all(abs(a - b) <= tol for a, b in zip(c, target)))
    assert pixels((0x4C, 0x78, 0xA8)) > 1000, "no bar-chart bars were painted"
    assert pixels((0xE4, 0x57, 0x56)) > 200, "no difficulty curves were painted"

    p = chromium(url, tmp_path, "--dump-dom")
    assert console_errors(p.stderr, url) == []
    dom = p.stdout
    assert re.search(r'<table class="settings">.*?scoring.*?strict.*?models.*?tiny-test-model', dom, re.S)
    sections = dict(re.findall(r"<h2>([^<]*)</h2>(.*?)(?=<h2>|</body>)", dom, re.S))
    assert list(sections) == ["overall", "task", "difficulty", "lowest-scoring items"]
    for group in ("overall", "task"):
        assert "<svg" in sections[group] and "<rect" in sections[group]
        assert "95% CI" in sections[group] and "statuses" in sections[group]
        assert "unparseable" in sections[group]
    assert re.search(r"\[\d+\.\d\d, \d+\.\d\d\]", sections["overall"])
    curves = re.findall(r"<svg.*?</svg>", sections["difficulty"], re.S)
    assert len(curves) == 3
    for task, svg in zip(("count", "loudness", "pitch"), curves):
        assert f"{task}: accuracy by difficulty" in svg and "<polyline" in svg and "chance" in svg
        assert svg.count("<circle") >= 2
        assert "nan" not in svg.lower()
        ticks = [(float(x), t) for x, t in re.findall(
            r'<text class="tick" x="([\d.]+)"[^>]*>([^<]*)</text>', svg)]
        assert len(ticks) >= 2
        for (x1, a), (x2, b) in zip(ticks, ticks[1:]):     # ~6 px a character at font-size 11
            assert x2 - x1 >= 3 * (len(a) + len(b)), f"{task}: tick labels {a} and {b} overlap"
    worst = sections["lowest-scoring items"]
    assert "<th>extracted</th>" in worst and "<th>gold</th>" in worst
    assert worst.count("unparseable") == 3 and "no idea" in worst
    assert re.search(r"<td>incorrect</td><td[^>]*>0\.00</td><td>A</td>", worst)


CONTROLS = {
    # a script before the Content-Security-Policy runs, and its error is uncaught
    "uncaught": ("<head>", '<head><script>throw new Error("deliberate")</script>',
                 "Uncaught Error: deliberate"),
    # one after it is refused: that refusal is a console error too
    "script": ("<body>", '<body><script>console.log("deliberate")</script>', "Content Security Policy"),
    "svg": ("</body>", '<svg width="9" height="9"><rect width="-3" height="2"/></svg></body>',
            "A negative value is not valid"),
    "external": ("</body>", '<img src="https://example.invalid/x.png"></body>', "example.invalid"),
}


@needs_browser
@pytest.mark.parametrize("kind", sorted(CONTROLS))
def test_console_check_catches_injected_errors(cli, tmp_path, kind):
    """Negative control: the same page with one fault injected; the detector must report it."""
    anchor, replacement, expected = CONTROLS[kind]
    text = make_report(cli, tmp_path)
    assert anchor in text
    broken = tmp_path / "broken.html"
    broken.write_text(text.replace(anchor, replacement, 1))
    url = broken.as_uri()
    found = console_errors(chromium(url, tmp_path, "--dump-dom").stderr, url)
    assert any(expected in m for m in found), found


@needs_browser
def test_awkward_inputs_render_without_errors(tmp_path):
    """Levels that are NaN or alone, scores out of [0, 1], markup and long labels: no SVG
    attribute errors, nothing unescaped."""
    from thinkpipe.tools.evaluate.report_html import page

    def row(group, label, mean, lo=None, hi=None):
        return {"group": group, "label": label, "n": 3, "mean": mean, "ci_low": lo, "ci_high": hi,
                "statuses": {"correct": 1, "judge_failed": 2}}
    rows = [row("overall", "all", 0.5, 0.1, 0.9), row("task", "<b>&amp;" * 10, 1.2, -0.1, 1.5),
            row("task", "neg", -0.2), row("task", "none", None), row("empty", "x", None)]
    curves = {"one": {"points": {3: [1.0, 2]}}, "odd": {"points": {float("nan"): [1.0, 1],
                                                                    float("inf"): [0, 1], 0: [0, 0],
                                                                    1: [2.0, 2], 2: [-1.0, 1]},
                                                         "chance": 0.25, "unit": "dB"}}
    worst = [{"id": "<x>", "status": "judge_failed", "score": None, "extracted": "</td>",
              "answer": "A", "question": "q"}]
    path = tmp_path / "awkward.html"
    path.write_text(page(rows, None, {"inputs": ["<stdin>"]}, worst, curves))
    url = path.as_uri()
    p = chromium(url, tmp_path, "--dump-dom")
    assert console_errors(p.stderr, url) == []
    assert "<b>" not in p.stdout and not re.search(r'="[^"]*(?:nan|inf)', p.stdout, re.I)
    assert "one: accuracy by difficulty" in p.stdout and ">dB</text>" in p.stdout
