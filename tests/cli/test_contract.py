"""Every command against the CLI contract of DESIGN.md: help, usage errors, bad input, streams."""
import pytest

from thinkpipe.cli.main import ORDER, STANDALONE

COMMANDS = [[name] if name in STANDALONE else ["thinkpipe", name] for name in ORDER]
READERS = [["thinkpipe", "convert"], ["thinkpipe", "eval"], ["reject-sample"]]  # stdin, no other option


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c[-1])
def test_help_exits_0_and_bad_option_exits_2(cli, cmd):
    r = cli(cmd + ["--help"])
    assert r.rc == 0 and len(r.out) > 40
    r = cli(cmd + ["--no-such-option"])
    assert r.rc == 2 and b"Traceback" not in r.err and r.out == b""


@pytest.mark.parametrize("name", STANDALONE)
def test_standalone_matches_umbrella(cli, name):
    from thinkpipe.cli.main import resolve
    first_words = " ".join((resolve(name)[0].__doc__ or "").split()[:4])
    for cmd in ([name], ["thinkpipe", name]):
        assert first_words in " ".join(cli(cmd + ["--help"]).text.split())
    assert cli([name, "--version"]).text.startswith("thinkpipe ")


def test_version(cli):
    r = cli(["thinkpipe", "--version"])
    assert r.rc == 0 and r.text.startswith("thinkpipe 0.")


@pytest.mark.parametrize("cmd", READERS, ids=lambda c: c[-1])
class TestReader:
    def test_empty_input_gives_empty_output(self, cli, cmd):
        r = cli(cmd)
        assert (r.rc, r.out) == (0, b"")

    def test_malformed_line_exits_65_naming_line(self, cli, cmd):
        r = cli(cmd, b'{"id": "a"}\n{"id": "b", broken\n')
        assert r.rc == 65 and "<stdin>:2:" in r.stderr and "Traceback" not in r.stderr

    def test_skip_counts_the_bad_record(self, cli, cmd):
        r = cli(cmd + ["--on-error", "skip"], b'{"id": "a"}\nnope\n{"id": "c"}\n')
        # convert and eval write a record per good input; reject-sample a record per sample (none)
        assert r.rc == 0 and r.out.count(b"\n") == (0 if cmd == ["reject-sample"] else 2)
        assert "1 bad record(s)" in r.stderr and "skipped" in r.stderr

    def test_quarantine_writes_the_bad_record(self, cli, cmd, tmp_path):
        q = tmp_path / "bad.jsonl"
        r = cli(cmd + ["--on-error", f"quarantine:{q}"], b'{"id": "a"}\nnope\n')
        assert r.rc == 0 and q.read_bytes() == b"nope\n"

    def test_bad_on_error_is_a_usage_error(self, cli, cmd):
        assert cli(cmd + ["--on-error", "ignore"]).rc == 2

    def test_binary_garbage_exits_65(self, cli, cmd):
        r = cli(cmd, bytes(range(256)) * 8)
        assert r.rc == 65 and "Traceback" not in r.stderr

    def test_missing_file_exits_66_naming_it(self, cli, cmd):
        r = cli(cmd + ["/no/such/file.jsonl"])
        assert r.rc == 66 and "file.jsonl" in r.stderr and "Traceback" not in r.stderr

    def test_stdout_carries_records_only(self, cli, cmd):
        import json
        r = cli(cmd + ["-v"], b'{"id": "a", "answer": "x", "responses": ["<answer>x</answer>"]}\n')
        lines = r.out.splitlines()
        assert r.rc == 0 and len(lines) == 1 and json.loads(lines[0])["id"] in ("a", "a-s0")
        assert r.stderr.strip() and "{" not in r.stderr   # the summary on stderr, no record


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: c[-1])
def test_help_at_80_columns_keeps_every_option_name_whole(cli, cmd):
    import typer.main

    from thinkpipe.cli.main import build_app
    text = cli(cmd + ["--help"], env={"COLUMNS": "80"}).text
    assert "…" not in text and "<int" not in text
    command = typer.main.get_command(build_app()).commands[cmd[-1]]
    for param in command.params:
        for name in getattr(param, "opts", []):
            if name.startswith("--") and not getattr(param, "hidden", False):
                assert name in text, name


def test_verbose_is_a_counted_flag(cli):
    r = cli(["thinkpipe", "convert", "-v", "--limit", "1"], b'{"a": 1}\n')
    assert r.rc == 0 and r.out == b'{"a": 1}\n'
