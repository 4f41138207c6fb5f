"""synth-draw: synthetic spatial-reasoning tasks with draw-to-reason traces, correct by construction.

VILASR's first stage is supervised fine-tuning on "cold-start" conversations in which the
model thinks, draws boxes and lines on the image, looks at the result and answers. The authors
made theirs with Qwen2.5-VL-72B and filters and did not publish the generator; here the
conversations are scripted from the scene itself, so every trace is right:

    synth-draw --task maze --count 2000 > cold.jsonl
    synth-draw --task maze,relations,geometry --count 300 --reflection-rate 0.5 --media-dir img -o cold.parquet
    synth-draw --task maze --count 100 --style sharegpt --media-dir data/img -o data/maze.jsonl

Each record holds the question (DESIGN.md fields: question, options, answer, question_type,
images) and the whole trace in `messages`: system prompt, the question with its image, then
assistant turns in the VILASR dialect (or `--dialect tool_call`) alternating with user turns
that carry the images the drawing environment (core/drawing) rendered. Every trace is executed
by that environment and its answer checked by an independent solver before it is written
(trace.py); a failure is a bug and stops the run.

Departures: the traces are template-written, not sampled from a large model, so their language
is plainer; `--reflection-rate` plants a deliberate mistake (a wrong box or path segment) that the
next turn notices and redraws under the same label, seeding the behaviour VILASR's later stages
select for. The maze canvas reproduces the 616 px layout the reference's cell-centre check
assumes. Records are generated from (seed, index), so `--workers` and `--shard` never change a
record's content.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Iterator

from . import geometry, maze, relations
from .task import Task, TraceError

TASKS = {"maze": maze.QUESTIONS, "relations": relations.QUESTIONS, "geometry": geometry.QUESTIONS}
# The smallest canvas (px) each family lays out reliably: the smallest size at which 150 records
# of every question kind were generated with the 5000-try layout budget, plus 20%, rounded up to
# 20 px (measured 2026-12-01; relations by its largest object count).
MIN_CANVAS = {"maze": 200, "geometry": 360}
MIN_RELATIONS = {2: 320, 3: 320, 4: 340, 5: 420, 6: 460, 7: 460, 8: 460, 9: 520, 10: 560}
NEEDS_THREE = {"nearer", "order"}      # relations questions that compare three objects


def min_canvas(task: str, relations_objects: tuple[int, int]) -> int:
    if task == "relations":
        return MIN_RELATIONS[max(2, min(10, relations_objects[1]))]
    return MIN_CANVAS[task]


@dataclass(frozen=True)
class SynthConfig:
    """What synth-draw generates and how it writes it.

    tasks              task families, taken in turn by record index
    count              records before --shard
    seed               with the record index, all a record depends on
    canvas             image size in pixels (at least min_canvas of every task)
    maze_sizes         maze grid sizes drawn from
    questions          task -> the question kinds asked
    relations_objects  (min, max) objects per relations scene
    reflection_rate    fraction of traces with a planted mistake redrawn in the next turn
    dialect            vilasr (fenced JSON) | tool_call (<tool_call> blocks)
    style              thinkpipe records | sharegpt (LLaMA-Factory; needs media_dir)
    workers            processes generating (output unchanged)
    shard              (k, n): the k-th of n interleaved slices of the indices
    media_dir          write images there and reference them by path (else inline PNG)
    embed_media        inline PNG (the default anyway; contradicts media_dir)
    """
    tasks: tuple[str, ...] = ("maze", "relations", "geometry")
    count: int = 100
    seed: int = 0
    canvas: int = 616
    maze_sizes: tuple[int, ...] = (4, 5, 6)
    questions: dict = field(default_factory=lambda: dict(TASKS))
    relations_objects: tuple[int, int] = (4, 7)
    reflection_rate: float = 0.3
    dialect: str = "vilasr"
    style: str = "thinkpipe"
    workers: int = 1
    shard: tuple[int, int] | None = None
    media_dir: str | None = None
    embed_media: bool = False

    def __post_init__(self):
        problems = [f"unknown task {t!r} (choose from {', '.join(TASKS)})"
                    for t in self.tasks if t not in TASKS]
        if self.embed_media and self.media_dir:
            problems.append("--embed-media and --media-dir pull opposite ways; pick one")
        if self.style == "sharegpt" and not self.media_dir:
            problems.append("--style sharegpt references image files: give --media-dir DIR")
        for task, kinds in self.questions.items():
            problems += [f"unknown {task} question {k!r} (choose from {', '.join(TASKS[task])})"
                         for k in kinds if k not in TASKS.get(task, ())]
        if not 0 <= self.reflection_rate <= 1:
            problems.append("--reflection-rate must be between 0 and 1")
        if any(not 2 <= n <= 12 for n in self.maze_sizes):
            problems.append("maze sizes must be between 2 and 12")
        lo, hi = self.relations_objects
        wanted = set(self.questions.get("relations", TASKS["relations"]))
        if "relations" in self.tasks and not 2 <= lo <= hi <= len(relations.COLOURS):
            problems.append(f"--relations-objects {lo}-{hi}: MIN-MAX with 2 <= MIN <= MAX <= "
                            f"{len(relations.COLOURS)} (one colour per object)")
        elif "relations" in self.tasks and lo < 3 and wanted & NEEDS_THREE:
            three = ", ".join(sorted(wanted & NEEDS_THREE))
            problems.append(f"--relations-objects {lo}-{hi}: the {three} questions compare three "
                            "objects, so MIN must be at least 3")
        if not problems:
            short = {t: min_canvas(t, self.relations_objects) for t in self.tasks
                     if self.canvas < min_canvas(t, self.relations_objects)}
            if short:
                need = max(short.values())
                problems.append(f"--canvas {self.canvas} is too small for "
                                f"{', '.join(sorted(short))}: the smallest canvas that works is "
                                f"{need} px" + (f" (relations with up to {hi} objects)"
                                                 if "relations" in short else ""))
        if problems:
            raise ValueError("; ".join(problems))


def make_task(config: SynthConfig, index: int) -> Task:
    """Record `index` of a run: its task family from the index, everything else from its rng."""
    rng = random.Random(config.seed * 1_000_003 + index)
    kind = config.tasks[index % len(config.tasks)]
    question = rng.choice(list(config.questions.get(kind, TASKS[kind])))
    reflection = rng.random() < config.reflection_rate
    if kind == "maze":
        return maze.build(rng, rng.choice(config.maze_sizes), config.canvas, question, reflection)
    if kind == "relations":
        return relations.build(rng, config.canvas, question, reflection, config.relations_objects)
    return geometry.build(rng, config.canvas, question, reflection)


def make_record(config: SynthConfig, index: int) -> dict:
    """One verified record, images as PNG bytes (see styles.py for the layout)."""
    from .styles import to_record
    from .trace import run

    task = make_task(config, index)
    messages, env = run(task, config.dialect)
    return to_record(task, messages, config, index)


def indices(config: SynthConfig) -> range:
    k, n = config.shard or (1, 1)
    return range(k - 1, config.count, n)


def generate(config: SynthConfig) -> Iterator[dict]:
    """Records in index order, in parallel over `workers` processes when asked."""
    todo = indices(config)
    if config.workers <= 1:
        for i in todo:
            yield make_record(config, i)
        return
    import multiprocessing as mp
    from functools import partial

    import sys
    context = mp.get_context("fork" if sys.platform == "linux" else None)
    with context.Pool(config.workers) as pool:
        yield from pool.imap(partial(make_record, config), todo, chunksize=8)


def run(config: SynthConfig, output: str | None = None, fmt: str | None = None) -> dict:
    """Generate, write (to `output` or stdout) and summarise on stderr; returns the counts."""
    import logging
    import time

    from thinkpipe.core.progress import current
    from thinkpipe.core.records import RecordWriter, media

    from .styles import to_sharegpt
    start, counts, reflective = time.perf_counter(), {}, 0
    externalise = media.writer_to_dir(config.media_dir) if config.media_dir else None
    progress = current()
    progress.begin("records", total=len(indices(config)))
    with RecordWriter(output, fmt) as out:
        for record in generate(config):
            counts[record["task"]] = counts.get(record["task"], 0) + 1
            reflective += record["reflection"]
            if externalise:
                media.map_refs(record, externalise)
            out.write(to_sharegpt(record) if config.style == "sharegpt" else record)
            progress.advance()
    seconds, total = time.perf_counter() - start, sum(counts.values())
    logging.getLogger("thinkpipe.synth_draw").info(
        "%d records (%s; %d with reflection) in %.1f s, %.0f records/s", total,
        ", ".join(f"{k} {v}" for k, v in counts.items()) or "none", reflective, seconds,
        total / seconds if seconds else 0)
    return counts


__all__ = ["SynthConfig", "run", "TASKS", "Task", "TraceError", "make_task", "make_record", "generate",
           "indices"]
