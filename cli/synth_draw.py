"""synth-draw: generate verified draw-to-reason training records (tools/synth_draw)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import (Config, EmbedMedia, Format, MediaDir, Output, ProgressEvery, Quiet, Seed,
                      Shard, Verbose)
from .runner import guard, usage_errors

TASKS_PANEL = "Tasks"

EXAMPLES = """\
synth-draw --task maze --count 2000 > cold.jsonl
synth-draw --task maze,relations,geometry --count 300 --reflection-rate 0.5 --media-dir img -o cold.parquet
synth-draw --task maze --count 100 --style sharegpt --media-dir data/img -o data/maze.jsonl
synth-draw --count 100000 --shard 3/8 --workers 2 -o part-3.jsonl
synth-draw --task geometry --geometry-questions collinear,parallel --dialect tool_call | head -1
"""


class Style(str, Enum):
    thinkpipe = "thinkpipe"
    sharegpt = "sharegpt"


class Dialect(str, Enum):
    vilasr = "vilasr"
    tool_call = "tool_call"


def _csv(value: Optional[str]) -> tuple[str, ...] | None:
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def _range(value: str) -> tuple[int, int]:
    lo, _, hi = value.partition("-")
    try:
        return int(lo), int(hi or lo)
    except ValueError:
        raise ValueError(f"--relations-objects wants MIN-MAX, like 4-7, not {value!r}") from None


def synth_draw(
    task: Annotated[str, typer.Option("--task", metavar="maze,relations,geometry",
                                      rich_help_panel=TASKS_PANEL,
                                      help="Task families, taken in turn.")] = "maze,relations,geometry",
    count: Annotated[int, typer.Option("--count", min=0, help="Records to generate (before --shard).")] = 100,
    canvas: Annotated[int, typer.Option("--canvas", min=200, rich_help_panel=TASKS_PANEL,
                                        help="Image size in pixels (VILASR's mazes: 616). The "
                                             "smallest that works: maze 200, geometry 360, "
                                             "relations 320-560 by its largest object "
                                             "count.")] = 616,
    maze_sizes: Annotated[str, typer.Option("--maze-sizes", metavar="N,N,...", rich_help_panel=TASKS_PANEL,
                                            help="Maze grid sizes to draw from.")] = "4,5,6",
    maze_questions: Annotated[Optional[str], typer.Option(
        "--maze-questions", rich_help_panel=TASKS_PANEL,
        help="Subset of path_mc,path_seq,reachable,turns.")] = None,
    relations_questions: Annotated[Optional[str], typer.Option(
        "--relations-questions", rich_help_panel=TASKS_PANEL,
        help="Subset of position,nearer,count,order.")] = None,
    relations_objects: Annotated[str, typer.Option(
        "--relations-objects", metavar="MIN-MAX", rich_help_panel=TASKS_PANEL,
        help="Objects per relations scene.")] = "4-7",
    geometry_questions: Annotated[Optional[str], typer.Option(
        "--geometry-questions", rich_help_panel=TASKS_PANEL,
        help="Subset of collinear,parallel,closer,angle.")] = None,
    reflection_rate: Annotated[float, typer.Option(
        "--reflection-rate", min=0.0, max=1.0, metavar="P", rich_help_panel=TASKS_PANEL,
        help="Fraction of traces with a deliberate wrong drawing that the next turn redraws "
             "under the same label.")] = 0.3,
    style: Annotated[Style, typer.Option("--style", help="thinkpipe records, or LLaMA-Factory "
                                          "sharegpt (needs --media-dir).")] = Style.thinkpipe,
    dialect: Annotated[Dialect, typer.Option("--dialect", help="How assistant turns draw: VILASR's "
                                              "fenced JSON, or <tool_call> blocks.")] = Dialect.vilasr,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes generating records "
                                          "(output order and bytes do not change).")] = 1,
    output: Output = None,
    fmt: Format = None,
    embed_media: EmbedMedia = False,
    media_dir: MediaDir = None,
    shard: Shard = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Generate synthetic spatial-reasoning tasks (maze, relations, geometry) with draw-to-reason
    traces that are replayed and verified before they are written: cold-start data for VILASR.

    Each record carries the question, options, answer and image, and the whole conversation in
    `messages`: assistant turns that think and draw boxes and lines, user turns with the images
    the drawing environment rendered, and the final answer. Every trace is executed by that
    environment and its answer confirmed by an independent solver. Images are inline PNG unless
    --media-dir is given.
    """
    with guard("synth-draw", verbose, quiet, progress_every):
        from thinkpipe.core.records import parse_shard
        from thinkpipe.tools.synth_draw import TASKS, SynthConfig, run

        questions = dict(TASKS)
        for name, value in (("maze", maze_questions), ("relations", relations_questions),
                            ("geometry", geometry_questions)):
            if value:
                questions[name] = _csv(value)
        with usage_errors():
            cfg = SynthConfig(tasks=_csv(task) or (), count=count, seed=seed, canvas=canvas,
                              maze_sizes=tuple(int(n) for n in _csv(maze_sizes) or ()),
                              questions=questions, relations_objects=_range(relations_objects),
                              reflection_rate=reflection_rate, dialect=dialect.value,
                              style=style.value, workers=workers, shard=parse_shard(shard),
                              media_dir=media_dir, embed_media=embed_media)
        run(cfg, output, fmt.value if fmt else None)
