"""Progress on stderr: a live display on a terminal, plain lines in a log, nothing under -q."""
import pytest
import io
import os
import select
import subprocess
import sys

from thinkpipe.cli.progress import LineProgress

BIN = os.path.dirname(sys.executable)


def under_a_terminal(cmd, env=None):
    """Run with stderr on a pseudo-terminal (stdout a file); (exit status, stdout, terminal)."""
    import tempfile
    master, slave = os.openpty()
    stdout = tempfile.TemporaryFile()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=slave, stdin=subprocess.DEVNULL,
                         env={**os.environ, "TERM": "xterm", "COLUMNS": "120", **(env or {})})
    os.close(slave)
    seen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 1 << 16)
            except OSError:            # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        elif p.poll() is not None:
            break
    p.wait()
    os.close(master)
    stdout.seek(0)
    return p.returncode, stdout.read(), seen.decode(errors="replace")


SYNTH = [os.path.join(BIN, "synth-draw"), "--task", "maze", "--count", "200", "--canvas", "224"]


def test_a_terminal_gets_a_live_display_and_stdout_only_records():
    rc, out, terminal = under_a_terminal(SYNTH)
    assert rc == 0 and "/200" in terminal and "records" in terminal and "\x1b[" in terminal
    assert len(out.splitlines()) == 200 and b"\x1b" not in out and b"/200" not in out


def test_quiet_and_a_dumb_terminal():
    rc, _, terminal = under_a_terminal(SYNTH + ["-q"])
    assert rc == 0 and terminal.strip() == ""
    rc, _, terminal = under_a_terminal(SYNTH + ["--progress-every", "0"], env={"TERM": "dumb"})
    assert rc == 0 and "synth-draw: progress: " in terminal and "\x1b[" not in terminal


def test_a_log_gets_plain_lines_at_most_every_so_often(cli):
    r = cli(SYNTH[:1] + SYNTH[1:] + ["--progress-every", "0"])
    lines = [x for x in r.stderr.splitlines() if "progress:" in x]
    assert r.rc == 0 and lines and "\r" not in r.stderr and "\x1b" not in r.stderr
    assert lines[-1].startswith("synth-draw: progress: 200/200 records (")
    assert "progress:" not in cli(SYNTH).stderr        # the default 30 s: a short run says nothing


@pytest.mark.slow
def test_trainers_report_steps_with_their_loss(cli, tiny_models, tmp_path):
    import json
    data = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                            {"role": "assistant", "content": f"{i}"}]}) + "\n"
                   for i in range(4)).encode()
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path / "o"),
             "--max-steps", "2", "--per-device-train-batch-size", "2", "--progress-every", "0"], data)
    steps = [x for x in r.stderr.splitlines() if " steps (" in x]
    assert r.rc == 0 and steps[-1].startswith("sft: progress: 2/2 steps (") and "loss " in steps[-1]


def test_line_progress_waits_its_interval():
    now = [0.0]
    out = io.StringIO()
    p = LineProgress("eval", every=30, stream=out, clock=lambda: now[0])
    p.begin("records")
    for t in range(100):               # one record a second for 100 s
        now[0] = float(t + 1)
        p.advance(accepted="1/2")
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and lines[0] == ("eval: progress: 30 records (1/s, 0:00:30 elapsed), "
                                            "accepted 1/2")
