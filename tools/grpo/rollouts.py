"""`grpo --rollouts FILE`: every trajectory as a record, in the format the extension names.

    .jsonl      one line per trajectory, flushed after every rollout batch (follow it live)
    .jsonl.gz   one gzip member per rollout batch: a killed run leaves a readable file
    .parquet    written under a temporary name, in place when the run ends or is interrupted

A fresh run starts the file anew. A resumed run (--resume) keeps the records of the steps its
checkpoint holds (`step` <= the checkpoint's) and drops the rest, which it regenerates exactly,
so the file ends as an uninterrupted run's would.
"""
from __future__ import annotations

import gzip
import os

from thinkpipe.core.errors import OutputError
from thinkpipe.core.records import ErrorPolicy, RecordWriter, read_records, resolve_format
from thinkpipe.core.records.jsonl import dumps


def _kept(path: str, resumed_step: int | None) -> list[dict]:
    if resumed_step is None or not os.path.exists(path):
        return []
    reader = read_records([path], ErrorPolicy("skip"))    # a torn last batch is dropped
    return [r for r in reader if isinstance(r.get("step"), int) and r["step"] <= resumed_step]


class RolloutLog:
    def __init__(self, path: str, resumed_step: int | None = None, fmt: str | None = None):
        self.path, self.format = path, fmt or resolve_format(path, None)
        kept = _kept(path, resumed_step)
        self._writer = self._file = None
        try:
            if self.format == "parquet":
                self._writer = RecordWriter(path, "parquet")
                self._writer.write_many(kept)
                return
            with RecordWriter(path, self.format) as out:     # the kept records, atomically
                out.write_many(kept)
            self._file = open(path, "ab")
        except OSError as e:
            raise OutputError(f"--rollouts {path}: cannot write: {e.strerror}") from None

    def write(self, rows: list[dict]) -> None:
        """One rollout batch."""
        if self._writer is not None:
            self._writer.write_many(rows)
            return
        data = b"".join(dumps(r) for r in rows)
        try:
            if self.format == "jsonl.gz":
                with gzip.GzipFile(fileobj=self._file, mode="wb", mtime=0) as member:
                    member.write(data)
            else:
                self._file.write(data)
            self._file.flush()
        except OSError as e:
            raise OutputError(f"--rollouts {self.path}: cannot write: {e.strerror}") from None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._file is not None:
            self._file.close()


# fields of a prompt record that describe its own trace or scoring, not the new trajectory
TRACE_FIELDS = {"messages", "response", "responses", "num_turns", "reflection", "end_reason",
                "finish_reason", "format", "score", "status", "extracted", "extract_method",
                "verifier", "score_detail", "prediction_from", "rewards", "reward"}


def prompt_turns(messages: list) -> list:
    """The turns before the first assistant turn."""
    first = next((i for i, m in enumerate(messages)
                  if isinstance(m, dict) and m.get("role") == "assistant"), len(messages))
    return messages[:first]


def rollout_rows(comps, record_of: dict, step: int) -> list[dict]:
    """Every trajectory of a batch as a record eval and reject-sample read: the prompt
    record's fields (its images included, a stored trace not), `response` (the last assistant
    turn), `turns`, `rewards` (each component), `reward` (the final scalar), `advantage`,
    `finish_reason`; `step`: the first step it trains. Trust-GRPO adds `trust_gamma` and
    `think_weight` (the weight applied to R^t); T-GRPO's shuffled-frame samples have
    `frames_shuffled` true and `frame_order` (image k of the prompt record is shown k-th in
    `frame_order`'s order: the images as shown are [images[i] for i in frame_order])."""
    rows = []
    for c in comps:
        rec = record_of[c.prompt_id]
        base = {k: v for k, v in rec.items() if k not in TRACE_FIELDS}
        if isinstance(rec.get("messages"), list):
            base["messages"] = prompt_turns(rec["messages"])
        turns = [m["content"] for m in c.traj.messages[c.prompt_len:] if m["role"] == "assistant"]
        rows.append({
            **base, "id": f"{c.prompt_id}-step{step}-g{c.group}-s{c.sample}",
            "prompt_id": c.prompt_id, "step": step, "group": c.group, "sample": c.sample,
            "seed": c.traj.seed, "response": turns[-1] if turns else "", "turns": turns,
            "rewards": c.rewards, "reward": c.reward, "advantage": c.advantage,
            "trust_gamma": c.trust_gamma, "think_weight": c.think_weight,
            "frames_shuffled": c.permutation is not None,
            **({"frame_order": c.permutation} if c.permutation is not None else {}),
            "num_turns": c.traj.turns, "finish_reason": c.traj.reason, "trained": c.trained})
    return rows
