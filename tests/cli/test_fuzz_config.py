"""Fuzzed `--config` files (issue 22): any file loads as options or is one clean usage error.

Properties:
  - whatever a `--config` file holds (random bytes, or YAML/JSON/TOML mappings of option names,
    command sections and unknown keys to values of any type, under any extension), parsing a
    command line with it (cli/config.py's eager callback, then each option's type) either gives
    the command's parameters or raises a usage error that exits 2 with a one-line message naming
    the option — never another exception (cli/config.py: "Unknown keys are a usage error (exit
    2) that names the file and the key");
  - the real executables agree: a hostile config exits 2 with one line on stderr and no
    traceback.
"""
import json
import os
import tempfile

import pytest
import typer
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from thinkpipe.cli.main import standalone_command
from tests.fuzzing import fuzz

FUZZ = fuzz(150)
COMMANDS = {name: standalone_command(name) for name in ("convert", "synth-draw")}

OPTION_KEYS = ["select", "limit", "seed", "shard", "on-error", "on_error", "format", "fmt",
               "output", "inputs", "quiet", "verbose", "progress-every", "set", "balance",
               "embed-media", "media_dir", "config", "count", "task", "canvas", "selct", ""]
SECTIONS = ["convert", "synth-draw", "synth_draw", "grpo", "eval", "evaluate"]
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8) | \
    st.sampled_from(["1/2", "2/8", "skip", "quarantine:", "jsonl", "parquet", "-1", "1e999"])
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) |
                      st.dictionaries(st.sampled_from(OPTION_KEYS) | st.text(max_size=4), inner,
                                      max_size=3), max_leaves=6)
keys = st.sampled_from(OPTION_KEYS + SECTIONS) | st.text(max_size=6)
mappings = st.dictionaries(keys, values | st.dictionaries(st.sampled_from(OPTION_KEYS), values,
                                                          max_size=3), max_size=4)


def _toml(data: dict) -> str:
    """A TOML rendering good enough to be valid most of the time (JSON-like values)."""
    return "".join(f"{json.dumps(str(k))} = {json.dumps(v)}\n" for k, v in data.items())


def _render(data: dict, ext: str) -> bytes:
    if ext in (".yaml", ".yml"):
        return yaml.safe_dump(data, allow_unicode=True).encode()
    if ext == ".toml":
        return _toml(data).encode()
    return json.dumps(data).encode()


@st.composite
def config_files(draw) -> tuple[str, bytes]:
    ext = draw(st.sampled_from([".yaml", ".yml", ".json", ".toml", ".txt", ""]))
    if draw(st.integers(0, 3)) == 0:
        return ext, draw(st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
    return ext, _render(draw(mappings), ext)


def _parse(command: str, path: str):
    """The parameters the command line `command --config path` gives, or the usage error."""
    try:
        return COMMANDS[command].make_context(command, ["--config", path]).params
    except typer.TyperException as e:
        assert getattr(e, "exit_code", None) == 2, e
        message = e.format_message()
        assert message and "\n" not in message and "Traceback" not in message, message
        return e


@FUZZ
@given(config_files(), st.sampled_from(sorted(COMMANDS)))
@example((".json", b"[1, 2]"), "convert")
@example((".yaml", b"limit: {a: 1}\n"), "convert")
@example((".toml", b"\xff"), "convert")
@example((".yaml", b"convert:\n  limit: 3\n  seed: [1]\n"), "convert")
def test_any_config_file_loads_or_is_a_usage_error(case, command):
    ext, data = case
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c" + ext)
        with open(path, "wb") as f:
            f.write(data)
        _parse(command, path)


def test_a_config_that_parses_supplies_its_options(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("convert:\n  limit: 3\n  select: id\nseed: 5\n")
    assert _parse("convert", str(path)) == {**_parse("convert", str(path)), "limit": 3,
                                            "select": "id", "seed": 5}


@pytest.mark.parametrize("name, content", [
    ("c.yaml", "convert: [unclosed\n  - : :\n"),
    ("c.toml", 'limit = {a = 1}\nseed = "x"\n'),
])
def test_the_executable_exits_2_with_one_line(cli, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    r = cli(["thinkpipe", "convert", "--config", str(path)], b'{"a": 1}\n')
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert r.rc == 2 and r.out == b"" and "Traceback" not in r.stderr, r.stderr
    # click's usage error: the usage line, the hint, then the error on one line
    assert [line.split(":")[0] for line in lines] == ["Usage", "Try 'thinkpipe convert -h' for help.",
                                                      "Error"], r.stderr
