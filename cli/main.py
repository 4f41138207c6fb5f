"""The `thinkpipe` umbrella command and the standalone executables (synth-draw, grpo, ...).

Commands are registered from a table: name -> "module:function" in thinkpipe.cli. Importing a
command module is cheap (typer and the option definitions); tools import torch, transformers or
deepspeed inside the function, so `--help` stays fast and never loads them.
"""
from __future__ import annotations

import importlib
import re
import sys
from typing import Callable

import typer
import typer.core
import typer.main

from . import stubs
from .options import Version, version_text

# Standalone executables (each is also `thinkpipe NAME`); eval is umbrella-only (shell builtin).
STANDALONE = ["synth-draw", "reject-sample", "sft", "grpo", "distill-kpod", "distill-plankd",
              "pudnet-predict", "freekd", "fira-pretrain"]

# name -> "module:function" for commands that have landed; the rest come from stubs.PLANNED.
COMMANDS = {
    "convert": "convert:convert",
    "env": "env:env",
    "completion": "completion:completion",
    "init-model": "init_model:init_model",
    "synth-draw": "synth_draw:synth_draw",
    "eval": "evaluate:evaluate",
    "reject-sample": "reject_sample:reject_sample",
    "sft": "sft:sft",
    "grpo": "grpo:grpo",
    "fira-pretrain": "fira_pretrain:fira_pretrain",
    "distill-kpod": "distill_kpod:distill_kpod",
    "freekd": "freekd:freekd",
    "pudnet-predict": "pudnet_predict:pudnet_predict",
    "distill-plankd": "distill_plankd:distill_plankd",
    "plot": "plot:plot",
}
ORDER = ["synth-draw", "reject-sample", "sft", "grpo", "eval", "distill-kpod", "distill-plankd",
         "pudnet-predict", "freekd", "fira-pretrain", "convert", "plot", "init-model", "env", "completion"]

HELP = """Composable Unix tools for building reasoning models.

Every command reads records (JSONL or Parquet) from files or stdin and writes records to stdout,
so shell pipelines and Makefiles chain them. Run `thinkpipe COMMAND --help` for each.
"""
SETTINGS = {"help_option_names": ["-h", "--help"]}


def resolve(name: str) -> tuple[Callable, str]:
    """(function, examples text) for a command name."""
    if name in COMMANDS:
        module_name, attr = COMMANDS[name].split(":")
        module = importlib.import_module(f"thinkpipe.cli.{module_name}")
        return getattr(module, attr), getattr(module, "EXAMPLES", "")
    return stubs.make(name), ""


def _epilog(examples: str) -> str | None:
    if not examples:
        return None   # "\b" keeps click from re-wrapping the lines: they stay copy-pasteable
    return "Examples:\n\n" + "\n\n".join("\b\n  " + line for line in examples.strip().splitlines())


_TYPE_NAMES = [(re.compile(r" ?<list\[str\]>"), "..."),
               (re.compile(r"<int(?: range)?>"), "INTEGER"),
               (re.compile(r"<float(?: range)?>"), "FLOAT"), (re.compile(r"<str>"), "TEXT"),
               (re.compile(r"<([\w.-]+(?:\|[\w.-]+)+)>"), r"[\1]")]


def _metavars(text: str) -> str:
    """typer's rich type names (`<int range>`, `<a|b>`) as click spells them (INTEGER, [a|b])."""
    for pattern, name in _TYPE_NAMES:
        text = pattern.sub(name, text)
    return text


class Command(typer.core.TyperCommand):
    """Plain-text help, options grouped under their panels. Rich's tables cut long option
    names at 80 columns (`--mask-truncated-comp…`); click's formatter wraps instead."""

    def get_short_help_str(self, limit: int = 45) -> str:
        """The first paragraph, cut at a word (click's stops at the first ". ", as in "Dr.")."""
        text = " ".join((self.short_help or self.help or "").split("\n\n")[0].split())
        return text if len(text) <= limit else text[:limit - 3].rsplit(" ", 1)[0] + "..."

    def format_options(self, ctx, formatter) -> None:
        groups: dict[str, list] = {}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            record = (_metavars(record[0]), record[1])
            panel = "Arguments" if param.param_type_name == "argument" else \
                getattr(param, "rich_help_panel", None) or "Options"
            groups.setdefault(panel, []).append(record)
        for title, rows in groups.items():
            with formatter.section(title):
                formatter.write_dl(rows)


def build_app() -> typer.Typer:
    app = typer.Typer(name="thinkpipe", help=HELP, add_completion=False, no_args_is_help=True,
                      pretty_exceptions_enable=False, context_settings=SETTINGS,
                      rich_markup_mode=None)

    @app.callback()
    def root(version: Version = None) -> None:
        """Composable Unix tools for building reasoning models."""

    for name in ORDER:
        fn, examples = resolve(name)
        app.command(name, epilog=_epilog(examples), cls=Command)(fn)
    return app


def standalone_command(name: str):
    """The command object behind a standalone executable."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                      context_settings=SETTINGS, rich_markup_mode=None)
    fn, examples = resolve(name)
    app.command(name, epilog=_epilog(examples), cls=Command)(fn)
    return typer.main.get_command(app)


def _enable_completion() -> None:
    """Register typer's shell classes so `_PROG_COMPLETE=complete_bash prog` answers.

    typer does this only when it adds its own --install-completion, which detects the shell and
    fails in containers; `thinkpipe completion SHELL` replaces that option.
    """
    from typer.completion import completion_init
    completion_init()


def main() -> None:
    _enable_completion()
    typer.main.get_command(build_app())(prog_name="thinkpipe")


def run_standalone(name: str) -> None:
    if sys.argv[1:] == ["--version"]:  # typer offers no public way to add it to one command
        print(version_text())
        return
    _enable_completion()
    standalone_command(name)(prog_name=name)
