"""Options every command shares, defined once so they are spelled and documented the same everywhere.

Use them as annotations: `def convert(inputs: Inputs = None, output: Output = None, ...)`.
Validation that can fail on a bad value happens in callbacks, so it is a usage error (exit 2).
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from thinkpipe.core.records import ErrorPolicy, parse_shard

from .config import config_callback

IO = "Input and output"
RUN = "Running"


class OutFormat(str, Enum):
    jsonl = "jsonl"
    jsonl_gz = "jsonl.gz"
    parquet = "parquet"
    hf = "hf"


def _check_on_error(value: str) -> str:
    try:
        ErrorPolicy.parse(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    return value


def _check_shard(value: Optional[str]) -> Optional[str]:
    try:
        parse_shard(value)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    return value


def version_text() -> str:
    from importlib.metadata import version
    return f"thinkpipe {version('thinkpipe')}"


def _show_version(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        typer.echo(version_text())
        raise typer.Exit()


Inputs = Annotated[Optional[list[str]], typer.Argument(
    help="Record files (JSONL, JSONL.gz or Parquet, sniffed from their bytes), Hugging Face "
         "datasets save_to_disk folders, or hf:NAME[:CONFIG][@SPLIT] (datasets.load_dataset; "
         "the local cache when offline); none or - reads stdin.", show_default=False,
    metavar="FILE")]
Output = Annotated[Optional[str], typer.Option(
    "--output", "-o", metavar="PATH", rich_help_panel=IO,
    help="Write records here instead of stdout (written to a temporary name, renamed on success).")]
Format = Annotated[Optional[OutFormat], typer.Option(
    "--format", case_sensitive=False, rich_help_panel=IO,
    help="Output format; default from the --output extension (.parquet, .jsonl.gz), else jsonl. "
         "hf writes a datasets save_to_disk folder (-o DIR) that datasets.load_from_disk opens.")]
OnError = Annotated[str, typer.Option(
    "--on-error", metavar="fail|skip|quarantine:FILE", callback=_check_on_error, rich_help_panel=IO,
    help="A malformed record stops with exit 65 (fail), is counted and dropped (skip), or is "
         "appended to FILE (quarantine:FILE).")]
Shard = Annotated[Optional[str], typer.Option(
    "--shard", metavar="K/N", callback=_check_shard, rich_help_panel=IO,
    help="Process only the K-th of N interleaved slices of the input (K from 1), to split work "
         "across jobs without coordination.")]
Limit = Annotated[Optional[int], typer.Option(
    "--limit", min=0, metavar="N", rich_help_panel=IO,
    help="Stop after N records (after --shard).")]
EmbedMedia = Annotated[bool, typer.Option(
    "--embed-media", rich_help_panel=IO,
    help="Inline every media file a record points to as {path, bytes}.")]
MediaDir = Annotated[Optional[str], typer.Option(
    "--media-dir", metavar="DIR", rich_help_panel=IO,
    help="Write inline media bytes to files in DIR (named by content hash) and reference them by "
         "path.")]
Seed = Annotated[int, typer.Option(
    "--seed", rich_help_panel=RUN,
    help="Random seed; the same input and seed give byte-identical output.")]
Quiet = Annotated[bool, typer.Option(
    "--quiet", "-q", rich_help_panel=RUN, help="Print only errors on stderr.")]
Verbose = Annotated[int, typer.Option(
    "--verbose", "-v", count=True, rich_help_panel=RUN,
    help="Print more detail on stderr (tracebacks of internal errors too).")]
ProgressEvery = Annotated[float, typer.Option(
    "--progress-every", min=0.0, metavar="SECONDS", rich_help_panel=RUN,
    help="When stderr is not a terminal, a plain progress line at most this often (a terminal "
         "gets a live display; -q neither).")]
Config = Annotated[Optional[str], typer.Option(
    "--config", metavar="FILE", is_eager=True, callback=config_callback, rich_help_panel=RUN,
    help="Read options from a YAML, JSON or TOML file (keys are option names; the command line "
         "wins).")]
Version = Annotated[Optional[bool], typer.Option(
    "--version", is_eager=True, callback=_show_version, help="Print the version and exit.")]



def frame_options(panel: str) -> tuple:
    """--max-frames and --fps (core/records/video.py), listed in a command's `panel`: how a
    video becomes the frames a model sees, alike in eval, reject-sample and grpo."""
    max_frames = Annotated[int, typer.Option(
        "--max-frames", min=1, rich_help_panel=panel,
        help="A video becomes at most N frames, shown as images (spaced uniformly over the "
             "video when --fps would give more).")]
    fps = Annotated[float, typer.Option("--fps", min=0.01, rich_help_panel=panel,
                                        help="Frames a second sampled from a video.")]
    return max_frames, fps


def comma_list(text: str | None) -> tuple:
    """`a, b,c` -> ("a", "b", "c"); None or "" -> ()."""
    return tuple(p.strip() for p in text.split(",") if p.strip()) if text else ()


def panel_option(flag: str, panel: str, help: str, **kw):
    """A command's own option, shown under its help panel: `panel_option("--alpha", PANEL, "...")`."""
    return typer.Option(flag, rich_help_panel=panel, help=help, **kw)
