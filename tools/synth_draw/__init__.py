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


@dataclass(frozen=True)
class SynthConfig:
    tasks: tuple[str, ...] = ("maze", "relations", "geometry")
    count: int = 100
    seed: int = 0
    canvas: int = 616
    maze_sizes: tuple[int, ...] = (4, 5, 6)
    questions: dict = field(default_factory=lambda: dict(TASKS))  # task -> question kinds
    relations_objects: tuple[int, int] = (4, 7)
    reflection_rate: float = 0.3
    dialect: str = "vilasr"         # vilasr | tool_call
    style: str = "thinkpipe"        # thinkpipe | sharegpt
    workers: int = 1
    shard: tuple[int, int] | None = None

    def __post_init__(self):
        problems = [f"unknown task {t!r} (choose from {', '.join(TASKS)})"
                    for t in self.tasks if t not in TASKS]
        for task, kinds in self.questions.items():
            problems += [f"unknown {task} question {k!r} (choose from {', '.join(TASKS[task])})"
                         for k in kinds if k not in TASKS.get(task, ())]
        if not 0 <= self.reflection_rate <= 1:
            problems.append("--reflection-rate must be between 0 and 1")
        if any(not 2 <= n <= 12 for n in self.maze_sizes):
            problems.append("maze sizes must be between 2 and 12")
        if self.canvas < 200:
            problems.append("--canvas must be at least 200 px")
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


__all__ = ["SynthConfig", "TASKS", "Task", "TraceError", "make_task", "make_record", "generate",
           "indices"]
