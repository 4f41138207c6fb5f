"""thinkpipe plot: training curves from metrics or rollout JSONL (tools/plot)."""
from __future__ import annotations

import logging
import os
from typing import Annotated, Optional

import typer

from .options import Config, OnError, Quiet, Verbose
from .options import comma_list as _list
from .options import panel_option as _opt
from .runner import guard, records, usage_errors

log = logging.getLogger("thinkpipe.plot")
PLOT = "Plot"

EXAMPLES = """\
thinkpipe plot metrics.jsonl --y reward,loss -o curves.png
thinkpipe plot runs/dapo.jsonl runs/grpo.jsonl --y rewards/accuracy --smooth 0.6 -o accuracy.svg
thinkpipe plot rollouts.jsonl --y reward --label model -o reward.html
"""


def plot(
    inputs: Annotated[Optional[list[str]], typer.Argument(
        help="Metrics or rollout files (JSONL, JSONL.gz or Parquet), a run each; none or - "
             "reads stdin.", show_default=False, metavar="FILE")] = None,
    output: Annotated[str, typer.Option(
        "--output", "-o", metavar="PATH", rich_help_panel=PLOT,
        help="The picture: .png, .svg or .html (the SVG inline, works offline).")] = ...,
    y: Annotated[str, _opt("--y", PLOT, "Fields to plot, a panel each: reward,loss.",
                           metavar="FIELD,...")] = ...,
    x: Annotated[str, _opt("--x", PLOT, "The x field; a record without it is placed at its "
                           "index among its curve's points.", metavar="FIELD")] = "step",
    label: Annotated[Optional[str], _opt(
        "--label", PLOT, "Name curves by this field's value (one file may hold several) "
        "instead of by file.", metavar="FIELD")] = None,
    smooth: Annotated[float, _opt("--smooth", PLOT, "TensorBoard's debiased moving average, "
                                  "weight in [0, 1); the raw curve stays, faint.",
                                  metavar="W")] = 0.0,
    title: Annotated[Optional[str], _opt("--title", PLOT, "The figure's title.")] = None,
    on_error: OnError = "fail",
    quiet: Quiet = False,
    verbose: Verbose = 0,
    config: Config = None,
) -> None:
    """Draw training curves from metrics or rollout records, several runs overlaid.

    Each input file is a run, labelled by its name (or by --label's field); each --y field gets
    its own panel. Records without a number for a field (a summary row) are left out of that
    panel; a field no record has is warned about (an error when it is every field). Needs
    matplotlib: pip install -c constraints.txt 'thinkpipe[plot]'.
    """
    with guard("plot", verbose, quiet):
        from thinkpipe.core.errors import UsageError

        from thinkpipe.tools import plot as tool

        ext = os.path.splitext(output)[1].lower()
        if ext not in tool.FORMATS:
            raise UsageError(f"--output {output}: say the format by its extension "
                             f"({', '.join(tool.FORMATS)})")
        with usage_errors():
            cfg = tool.PlotConfig(y=_list(y), x=x, label=label, smooth=smooth, title=title)
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise UsageError("plot needs matplotlib: pip install -c constraints.txt "
                             "'thinkpipe[plot]'") from None
        curves = tool.collect(_runs(inputs, on_error), cfg)
        absent = tool.missing(curves)
        if len(absent) == len(curves):
            raise UsageError(f"no record has a number for {', '.join(absent)}")
        if absent:
            log.warning("no record has a number for %s: no panel for it", ", ".join(absent))
            curves = {y: runs for y, runs in curves.items() if y not in absent}
        tool.write(curves, cfg, output)
        points = sum(len(xs) for by_run in curves.values() for xs, _ in by_run.values())
        log.info("%d curve(s), %d points -> %s", sum(map(len, curves.values())), points, output)


def _runs(inputs, on_error):
    """(run name, records) per input file, read one after another; a run is named by its
    file name, or by the path as given when two inputs share a file name."""
    paths = inputs or ["-"]
    names = [("stdin" if p == "-" else os.path.basename(p)) for p in paths]
    if len(set(names)) < len(names):
        names = ["stdin" if p == "-" else p for p in paths]
    for path, name in zip(paths, names):
        with records([path], on_error) as stream:
            yield name, stream.records
