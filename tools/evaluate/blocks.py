"""Rule scoring in blocks: the records cut into blocks, each block scored on its own (in this
process, or in --workers processes), the results written back in input order.

    score_files(Files(["a.jsonl", "b.parquet"]), config, by, policy, out, summary)

A block is a piece of a JSONL input as bytes (whole lines and the number of the first, so bad
lines are reported at the file's own `file:line`), parsed, scored and encoded where it is
scored; other inputs (Parquet, gzip, datasets, a --benchmark's files, --shard and --limit) are
read here and sent as blocks of (where, record) pairs. A block comes back as
  - its output cut at its bad records into len(bad) + 1 segments: for a JSONL output each
    segment is (bytes, lines), its JSON lines joined (the bytes write() would write; one
    buffer pickles and writes at memcpy speed where a list of lines costs per line), else a
    list of records;
  - its bad records, each met between two segments, so the run's error policy sees them in
    input order: `fail` stops at the first with the output before it written, `skip` and
    `quarantine:` log and keep them in order, exactly as one pass would;
  - the Summary of its records, merged in order (Summary.merge keeps every score in order, so
    the means and intervals are the same numbers).
Reading never gets ahead of the error policy: readers here record what they reject into the
block they are filling, and an input that fails outright (a missing file) is raised once every
block before it is written. One worker scores in this process, with no pool and no pickling;
cutting the stream this way also spares a per-record `file:line` string (made only for a bad
record) and three generator layers, which is most of why one worker is faster than the
record-at-a-time loop of evaluate().
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from thinkpipe.core.records import RecordReader, apply
from thinkpipe.core.records.jsonl import block_records, dumps, iter_jsonl, line_blocks
from thinkpipe.core.records.reader import STDIN_NAME, open_input

from .summary import Summary

BLOCK_BYTES = 1 << 20       # bytes of JSONL per block (a few thousand records)
ITEMS = 2000                # records per block read here (Parquet, datasets, --shard ...)


@dataclass(frozen=True)
class Plan:
    """What every block is scored with.

    config   the run's EvalConfig (rule scoring: no --model)
    by       the summary's group-by fields; keep_ids: keep id -> score for --baseline
    lines    return encoded JSON lines (a JSONL output), else the scored records
    stop     the error policy is `fail`: a block stops at its first bad record
    """
    config: Any
    by: tuple[str, ...]
    keep_ids: bool
    lines: bool
    stop: bool


@dataclass(frozen=True)
class Files:
    """The inputs of a run as eval reads them: paths (None: stdin), --shard (k, n) and --limit,
    or `source(policy)`, a benchmark's loader of (where, record) pairs."""
    paths: list | None = None
    shard: tuple[int, int] | None = None
    limit: int | None = None
    source: Callable | None = None


@dataclass
class Result:
    """A scored block: `out`, its output in len(bad) + 1 segments, and `bad` as
    (where, why, raw), the bad records met between them."""
    out: list
    bad: list
    summary: Summary
    read: int = 0           # records the block held (the progress count)


class Stop(Exception):
    """Raised by a Recorder that stops at the first bad record."""


@dataclass
class Recorder:
    """An error policy that records each bad record at its place (the length of `at` when it
    was met) instead of acting on it; the run's policy replays them in order."""
    stop: bool
    at: list = field(default_factory=list)
    bad: list = field(default_factory=list)

    def handle(self, where, message: str, raw: bytes) -> None:
        self.bad.append((len(self.at), str(where), message, raw))
        if self.stop:
            raise Stop


class Place:
    """`file:line` of the record a parser is at, spelled out only when a record is bad."""
    __slots__ = ("name", "pos")

    def __init__(self, name: str, pos: list):
        self.name, self.pos = name, pos

    def __str__(self) -> str:
        return f"{self.name}:{self.pos[0]}"


_plan: Plan | None = None
_scorer: Callable | None = None


def start(plan: Plan) -> None:
    """Set up a worker (or this process) to score blocks under `plan`."""
    from . import make_scorer
    global _plan, _scorer
    _plan, _scorer = plan, make_scorer(plan.config)


def score_block(job: tuple) -> Result:
    """Score one block: ("lines", name, data, first_line) or ("items", pairs, bad)."""
    plan = _plan
    out: list = []
    summary = Summary(plan.by, plan.config.macro, keep_ids=plan.keep_ids)
    recorder = Recorder(plan.stop, out)
    score = _lines if job[0] == "lines" else _pairs
    try:
        read = score(job, recorder, summary.add, dumps if plan.lines else None)
    except Stop:
        read = 0
    cuts = [bad[0] for bad in recorder.bad]
    segments = [out[a:b] for a, b in zip([0, *cuts], [*cuts, len(out)])]
    if plan.lines:
        segments = [(b"".join(lines), len(lines)) for lines in segments]
    return Result(segments, [bad[1:] for bad in recorder.bad], summary, read)


def _lines(job: tuple, recorder: Recorder, add: Callable, encode: Callable | None) -> int:
    """Parse, score and keep the records of a block of JSONL lines; the number read."""
    from . import scored
    _, name, data, first = job
    scorer, keep, pos = _scorer, recorder.at.append, [0]
    where = Place(name, pos)
    records = block_records(data)           # every line a clean object: one list, at once
    if records is None:                     # else line by line, bad lines to the recorder
        lines = iter_jsonl(io.BytesIO(data), name, recorder, pos, first_line=first)
        numbered = ((pos[0], record) for record in lines)
    else:
        numbered = enumerate(records, first)
    read = 0
    for pos[0], record in numbered:
        read += 1
        if scored(record, scorer, recorder, where):
            add(record)
            keep(encode(record) if encode else record)
    return read


def _pairs(job: tuple, recorder: Recorder, add: Callable, encode: Callable | None) -> int:
    """Score and keep a block of (where, record) pairs; what the reader rejected before pair i
    (job[2], as (i, where, why, raw)) goes to the recorder at its place."""
    from . import scored
    _, pairs, pending = job
    scorer, out, bad = _scorer, recorder.at, recorder.bad
    for i, (where, record) in enumerate(pairs):
        while pending and pending[0][0] <= i:
            bad.append((len(out), *pending.pop(0)[1:]))
        if scored(record, scorer, recorder, where):
            add(record)
            out.append(encode(record) if encode else record)
    bad += [(len(out), *rejected[1:]) for rejected in pending]
    return len(pairs)


def _pair_blocks(make: Callable, stop: bool, shard=None, limit=None) -> Iterator[tuple]:
    """("items", pairs, bad) blocks of the (where, record) pairs `make(policy)` reads, sharded
    and limited; what its reader rejects is recorded at its place in the block."""
    block: list = []
    recorder = Recorder(stop, block)
    try:
        for pair in apply(make(recorder), shard, limit):
            block.append(pair)
            if len(block) >= ITEMS:
                yield "items", block, recorder.bad
                block = recorder.at = []
                recorder.bad = []
    except Stop:
        pass
    except Exception:
        yield "items", block, recorder.bad      # what was read before the failure, then it
        raise
    if block or recorder.bad:
        yield "items", block, recorder.bad


def _input_blocks(path: str, stop: bool) -> Iterator[tuple]:
    """The blocks of one input: a JSONL file as bytes, anything else read here."""
    from thinkpipe.core.records import hf
    if hf.is_datasets_input(path):
        def datasets(policy):
            reader = RecordReader([path], policy)
            return ((reader.where, r) for r in reader)
        yield from _pair_blocks(datasets, stop)
        return
    name, stream, kind = open_input(path)
    try:
        if kind == "jsonl":
            for data, first in line_blocks(stream, BLOCK_BYTES):
                yield "lines", name, data, first
            return

        def opened(policy):
            reader = RecordReader([path], policy)
            return ((reader.where, r) for r in reader.records_of(name, stream, kind))
        yield from _pair_blocks(opened, stop)
    finally:
        if name != STDIN_NAME:
            stream.close()


class Jobs:
    """The blocks of a run; an error while making them is kept (`error`) and raised by the
    caller once every block before it has been written, where one pass would raise it."""

    def __init__(self, blocks: Iterator[tuple]):
        self.blocks, self.error = blocks, None

    def __iter__(self) -> Iterator[tuple]:
        try:
            yield from self.blocks
        except Exception as e:      # noqa: BLE001 (re-raised by write_scored, in order)
            self.error = e


def blocks(files: Files, stop: bool) -> Iterator[tuple]:
    """Every block of a run's inputs: JSONL files as bytes when nothing is sharded, limited
    or loaded by a benchmark's reader, else (where, record) pairs read here."""
    if files.source is None and files.shard is None and files.limit is None:
        for path in files.paths or ["-"]:
            yield from _input_blocks(path, stop)
        return
    source = files.source
    if source is None:
        def source(policy):
            reader = RecordReader(files.paths, policy)
            return ((reader.where, r) for r in reader)
    yield from _pair_blocks(source, stop, files.shard, files.limit)


def score_files(files: Files, config, by: tuple[str, ...], policy, out, summary: Summary) -> None:
    """Score the blocks of `files` in config.workers processes, write each block's output in
    input order with its bad records handed to `policy` at their places, merge the summaries."""
    from thinkpipe.core.parallel import ordered_map
    from thinkpipe.core.progress import current
    plan = Plan(config, by, summary.by_id is not None, out.takes_lines, policy.mode == "fail")
    jobs = Jobs(blocks(files, plan.stop))
    progress = current()
    progress.begin("records")
    write = (lambda segment: out.write_block(*segment)) if plan.lines else out.write_many
    with ordered_map(score_block, jobs, config.workers, start, (plan,)) as results:
        for result in results:
            for segment, bad in zip(result.out, result.bad):
                write(segment)
                policy.handle(*bad)
            write(result.out[-1])
            summary.merge(result.summary)
            progress.advance(result.read)
    if jobs.error is not None:
        raise jobs.error
