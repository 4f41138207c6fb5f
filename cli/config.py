"""`--config FILE`: any option from a YAML, JSON or TOML file; the command line wins.

Keys are option names with `-` or `_` (`learning-rate` or `learning_rate`). A file may hold one
section per command (`grpo: {...}`, `convert: {...}`), so one file can configure a whole pipeline;
top-level keys that are not sections apply to the command reading the file. Unknown keys are a
usage error (exit 2) that names the file and the key.
"""
from __future__ import annotations

import json
import os
from typing import Any

import typer


def load_file(path: str) -> dict[str, Any]:
    """Parse a config file by its extension (.yaml/.yml, .json, .toml)."""
    ext = os.path.splitext(path)[1].lower()
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise typer.BadParameter(f"{path}: {e.strerror}", param_hint="--config") from None
    try:
        if ext in (".yaml", ".yml"):
            import yaml
            data = yaml.safe_load(raw) or {}
        elif ext == ".toml":
            import tomllib
            data = tomllib.loads(raw.decode("utf-8"))
        elif ext == ".json":
            data = json.loads(raw) if raw.strip() else {}
        else:
            raise typer.BadParameter(f"{path}: use a .yaml, .yml, .json or .toml file",
                                     param_hint="--config")
    except typer.BadParameter:
        raise
    except Exception as e:  # the parsers' errors have no common base class
        raise typer.BadParameter(f"{path}: cannot parse: {_one_line(e)}",
                                 param_hint="--config") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{path}: expected a mapping of option names to values",
                                 param_hint="--config")
    return data


def _one_line(e: Exception) -> str:
    """A parser's error on one line (YAML's spans several: the problem, a mark, a snippet)."""
    mark, problem = getattr(e, "problem_mark", None), getattr(e, "problem", None)
    if mark is not None and problem:
        return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(e).split())


def _command_names() -> set[str]:
    from .main import ORDER       # lazily: main imports the option modules, which import this
    return set(ORDER)


def defaults_for(ctx: typer.Context, path: str) -> dict[str, Any]:
    """The default_map for this command from the file at `path`. A section is a command's name
    (`synth-draw:`, or `synth_draw:`); a top-level key that is neither one of this command's
    options nor a command is an error, so a mistyped section (`evaluate:`) never passes
    silently."""
    data = load_file(path)
    command = ctx.info_name or ""
    names = {p.name for p in ctx.command.params if p.name}
    commands = _command_names() | {command}
    merged, mine = {}, {}
    for key, value in data.items():
        as_command = str(key).replace("_", "-")
        if str(key).replace("-", "_") in names and not (isinstance(value, dict)
                                                      and as_command in commands):
            merged[key] = value
        elif as_command in commands and isinstance(value, dict):
            if as_command == command:
                mine.update(value)
        else:
            hint = " (a command section? the commands are " + ", ".join(sorted(commands)) + ")" \
                if isinstance(value, dict) else ""
            raise typer.BadParameter(f"{path}: unknown option or section {key!r} for "
                                     f"{command}{hint}", param_hint="--config")
    merged.update(mine)
    out = {}
    for key, value in merged.items():
        name = str(key).replace("-", "_")
        if name not in names or name == "config":
            raise typer.BadParameter(f"{path}: unknown option {key!r} for {command}",
                                     param_hint="--config")
        out[name] = value
    return out


def config_callback(ctx: typer.Context, param: typer.CallbackParam, value: str | None):
    """Eager callback: load the file before the other options take their defaults."""
    if value:
        ctx.default_map = {**(ctx.default_map or {}), **defaults_for(ctx, value)}
    return value
