"""Running reject-sample over a stream: one process, or several ranks under torchrun.

Under torchrun every rank loads the model and takes the records whose index i has
i mod world_size == rank; each writes its judged groups to `<output>.rank<r>.tmp`, and rank 0
merges them back in input order into the output and --rejected files, so the result is the
same as one process's. Counts for the summary are summed over ranks the same way.
"""
from __future__ import annotations

import heapq
import logging
import os
import time
from dataclasses import dataclass, field

from thinkpipe.core.drawing.rollout import prompt_for
from thinkpipe.core.errors import UsageError
from thinkpipe.core.models.chat import render
from thinkpipe.core.progress import current
from thinkpipe.core.records import RecordWriter, media
from thinkpipe.core.records.jsonl import dumps, loads
from thinkpipe.core.records.video import expand_videos

from . import RejectConfig, process, record_id, to_record
from .samples import samples_from_record

log = logging.getLogger("thinkpipe.reject_sample")


@dataclass
class Stats:
    read: int = 0                                     # records this run read (good ones)
    records: int = 0                                  # records whose samples were judged
    without_samples: int = 0                          # no --model and no `responses`
    sampled: int = 0
    accepted: int = 0
    passed: dict = field(default_factory=dict)       # requirement -> samples meeting it
    by_task: dict = field(default_factory=dict)      # task -> [accepted, sampled]

    def add(self, record: dict, samples, requirements) -> None:
        self.records += 1
        task = str(record.get("task") or record.get("question_type") or "all")
        slot = self.by_task.setdefault(task, [0, 0])
        for s in samples:
            self.sampled += 1
            slot[1] += 1
            if s.accepted:
                self.accepted += 1
                slot[0] += 1
            for r in requirements:
                self.passed[str(r)] = self.passed.get(str(r), 0) + (str(r) not in s.failed)

    def text(self) -> str:
        pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "n/a"  # noqa: E731
        parts = [f"{self.read} records read, {self.records} with samples: {self.sampled} samples, "
                 f"{self.accepted} accepted ({pct(self.accepted, self.sampled)}), "
                 f"{self.sampled - self.accepted} rejected"]
        if self.passed:
            parts.append("met: " + ", ".join(f"{k} {pct(v, self.sampled)}"
                                             for k, v in self.passed.items()))
        if self.without_samples:
            parts.append(f"{self.without_samples} record(s) had no `responses` or `response` "
                         "to filter (give --model to sample)")
        if len(self.by_task) > 1 or self.by_task.keys() - {"all"}:
            parts.append("by task: " + ", ".join(f"{k} {pct(a, n)}" for k, (a, n) in
                                                   sorted(self.by_task.items())))
        return "; ".join(parts)


def _setup(config: RejectConfig, local_rank):
    info = None
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        from thinkpipe.core.train import dist
        info = dist.setup(local_rank)
    bundle = None
    if config.model:
        from thinkpipe.core.models import load
        bundle = load(config.model, device=str(info.device) if info else None)
    from thinkpipe.core.rewards import load_reward
    return info, bundle, [load_reward(spec) for spec in config.rewards]


def _groups(items, config, policy, bundle, reward_fns, info, stats):
    """(index, record, samples) for this rank's records; bad records go to the policy.
    Without a model, a record with no `responses` has nothing to sample: it is counted."""
    rank, world = (info.rank, info.world_size) if info else (0, 1)
    mine = ((i, where, rec) for i, (where, rec) in enumerate(items) if i % world == rank)
    checked = []
    needs_gold = any(r.name == "correct" for r in config.require)
    for i, where, rec in mine:
        stats.read += 1
        if bundle is None and rec.get("responses") is None and \
                not isinstance(rec.get("response"), str):
            stats.without_samples += 1
            continue
        if needs_gold and rec.get("answer") is None:
            policy.handle(where, "no gold `answer` for --require correct", dumps(rec))
            continue
        if bundle is None:
            try:
                samples_from_record(rec, where)
            except ValueError as e:
                policy.handle(where, str(e), dumps(rec))
                continue
        else:
            try:      # an unreadable image or video, images for a text-only model: a bad record
                rec = expand_videos(rec, config.max_frames, config.fps)   # frames, as images
                render(bundle, prompt_for(rec, config.system, config.rollout.tools == "draw"))
            except (ValueError, OSError) as e:
                policy.handle(where, f"cannot build the prompt: {e}", dumps(rec))
                continue
        checked.append((i, where, rec))
        if len(checked) >= config.records_per_batch:
            yield from _judged(checked, config, bundle, reward_fns)
            checked = []
    yield from _judged(checked, config, bundle, reward_fns)


def _judged(checked, config, bundle, reward_fns):
    records = {i: rec for i, _, rec in checked}
    for index, samples in process(iter(checked), config, bundle, reward_fns):
        yield index, records[index], samples


def run(items, config: RejectConfig, policy, local_rank=None) -> Stats | None:
    """Judge every record's samples, write the kept and rejected ones, summarise on stderr
    (rank 0); the stats, or None on other ranks."""
    start = time.perf_counter()
    stats = _run(items, config, policy, local_rank)
    if stats is not None:
        log.info("%s (%.1f s)", stats.text(), time.perf_counter() - start)
    return stats


def _run(items, config: RejectConfig, policy, local_rank):
    output, fmt, rejected_path, media_dir = config.output, config.fmt, config.rejected, \
        config.media_dir
    info, bundle, reward_fns = _setup(config, local_rank)
    progress = current()
    externalise = media.writer_to_dir(media_dir) if media_dir else None
    stats = Stats()

    def records_of(index, record, samples):
        rid = record_id(record)
        out = [to_record(s, record, rid) for s in samples]
        if externalise:
            for r in out:
                media.map_refs(r, externalise)
        return [r for r, s in zip(out, samples) if s.accepted], \
            [r for r, s in zip(out, samples) if not s.accepted]

    if info is None or info.world_size == 1:
        with RecordWriter(output, fmt, line_buffered=True) as out, \
                _maybe(rejected_path) as rej:
            groups = _groups(items, config, policy, bundle, reward_fns, info, stats)
            for index, record, samples in groups:
                stats.add(record, samples, config.require)
                progress.advance(0, accepted=f"{stats.accepted}/{stats.sampled}")
                kept, dropped = records_of(index, record, samples)
                for r in kept:
                    out.write(r)
                for r in dropped:
                    if rej is not None:
                        rej.write(r)
        return stats
    if not output:
        raise UsageError("under torchrun give -o FILE: ranks cannot share stdout")
    part = f"{output}.rank{info.rank}.tmp"
    with open(part, "wb") as f:
        groups = _groups(items, config, policy, bundle, reward_fns, info, stats)
        for index, record, samples in groups:
            kept, dropped = records_of(index, record, samples)
            f.write(dumps({"index": index, "kept": kept, "dropped": dropped,
                           "task": str(record.get("task") or record.get("question_type") or "all"),
                           "passed": {str(r): sum(str(r) not in s.failed for s in samples)
                                      for r in config.require}}))
    from thinkpipe.core.train import dist
    stats.read = int(dist.all_reduce_sum(stats.read, info.device))
    stats.without_samples = int(dist.all_reduce_sum(stats.without_samples, info.device))
    dist.barrier()
    if info.is_main:
        _merge([f"{output}.rank{r}.tmp" for r in range(info.world_size)], output, fmt,
               rejected_path, stats)
    dist.barrier()
    return stats if info.is_main else None


class _maybe:
    """A RecordWriter for a path, or nothing."""

    def __init__(self, path):
        self.writer = RecordWriter(path) if path else None

    def __enter__(self):
        return self.writer

    def __exit__(self, *exc):
        if self.writer is not None:
            self.writer.__exit__(*exc)


def _merge(parts, output, fmt, rejected_path, stats: Stats) -> None:
    def read(path):
        with open(path, "rb") as f:
            for line in f:
                group = loads(line)
                yield group["index"], group
    with RecordWriter(output, fmt) as out, _maybe(rejected_path) as rej:
        for _, group in heapq.merge(*(read(p) for p in parts), key=lambda x: x[0]):
            stats.records += 1
            n = len(group["kept"]) + len(group["dropped"])
            stats.sampled += n
            stats.accepted += len(group["kept"])
            slot = stats.by_task.setdefault(group["task"], [0, 0])
            slot[0] += len(group["kept"])
            slot[1] += n
            for k, v in group["passed"].items():
                stats.passed[k] = stats.passed.get(k, 0) + v
            for r in group["kept"]:
                out.write(r)
            for r in group["dropped"]:
                if rej is not None:
                    rej.write(r)
    for p in parts:
        os.unlink(p)
