"""reject-sample: sample trajectories, score them, keep the ones worth training on (VILASR stage 2).

VILASR's reflective rejection sampling samples trajectories from the cold-start model and keeps
those that are correct, well formatted and reflective (a drawing revised under its label), then
fine-tunes on them. This tool does the sampling (or takes samples records already carry in
`responses`, from any generator), scores every sample with core/rewards, and writes one SFT
record per accepted sample — and, with --rejected, one record per rejected sample with the
reasons, so accepted + rejected = sampled, always.

    synth-draw --task maze --count 200 | reject-sample --model ckpt/cold --tools draw --num-samples 8 --require correct,format,reflection > rrs.jsonl
    reject-sample --require correct --keep best samples.jsonl --rejected rejected.jsonl > kept.jsonl
    torchrun --nproc_per_node 8 $(which reject-sample) --model ckpt/cold --tools draw tasks.jsonl -o rrs.jsonl

Requirements (--require, any subset): correct (the answer verifies as correct), format (the
VILASR multi-turn format with --tools draw, else <think>...</think><answer>...</answer>),
reflection (a label redrawn with a different shape; boxes and lines — the reference's detector
sees boxes only), min-turns=N (assistant turns), min-reward=X (sum of the --reward components).
--keep then picks among a record's accepted samples: all, first, best (highest reward sum, ties
to the first) or N (the first N); --max-per-record caps them.

Videos: with --model, a record's `videos` are decoded first (core/records/video.py):
--max-frames frames sampled at --fps, which the model sees as images. The sampled record is the
decoded one, so its output records carry those frames in `images` (with `frames` and
`frame_times`) in place of `videos`, and SFT trains on exactly what the sampler saw. A video that
cannot be decoded makes the record a bad one. Filtering carried `responses` decodes nothing.

Departures: the reference ran the filter as a one-off script over 72B samples; here it is a
stream filter. Sample seeds derive from (--seed, record id, sample number), so results do not
depend on batching, --shard or the number of ranks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from thinkpipe.core.drawing.rollout import RolloutConfig
from thinkpipe.core.records.ids import record_id, sample_seed

from .samples import Sample, judge_sample, samples_from_record, to_record

REQUIREMENTS = ("correct", "format", "reflection", "min-turns", "min-reward")


@dataclass(frozen=True)
class Requirement:
    name: str
    value: float | None = None

    @classmethod
    def parse(cls, spec: str) -> "tuple[Requirement, ...]":
        out = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            name, _, value = part.partition("=")
            if name not in REQUIREMENTS:
                raise ValueError(f"--require: unknown requirement {name!r} "
                                 f"(choose from {', '.join(REQUIREMENTS)})")
            if name in ("min-turns", "min-reward"):
                try:
                    out.append(cls(name, float(value)))
                except ValueError:
                    raise ValueError(f"--require {name}=N needs a number") from None
            elif value:
                raise ValueError(f"--require {name} takes no value")
            else:
                out.append(cls(name))
        return tuple(out)

    def met(self, s: Sample) -> bool:
        if self.name == "correct":
            return s.status == "correct"
        if self.name == "format":
            return s.format == 1.0
        if self.name == "reflection":
            return s.reflection == 1.0
        if self.name == "min-turns":
            return s.turns >= self.value
        return s.reward >= self.value

    def __str__(self) -> str:
        return self.name if self.value is None else f"{self.name}={self.value:g}"


@dataclass(frozen=True)
class RejectConfig:
    """What reject-sample samples, what it keeps, where it writes.

    model             sample with this model; None filters the `responses` records carry
    num_samples       trajectories per record
    rollout           the sampler's settings (tools, turns, token budgets, temperature, ...)
    rewards           reward specs recorded on every sample (built-in, module:function, URL)
    require           what an accepted sample meets (correct, format, reflection, min-...)
    keep              all | first | best | N: which accepted samples of a record are kept
    max_per_record    a cap on the kept samples of a record
    system            system prompt (with tools=draw, VILASR's by default)
    max_frames        frames a video is sampled to at most (core/records/video.py)
    fps               frames a second sampled from a video (fewer when max_frames caps them)
    seed              with the record id and sample number, each sample's seed
    records_per_batch records whose samples share one batched rollout
    output            accepted samples go here (stdout when None)
    fmt               output format (else from the extension)
    rejected          rejected samples go here, with `rejected_for`
    media_dir         rendered images written there and referenced by path
    embed_media       keep images inline (the default; contradicts media_dir)
    """
    model: str | None = None
    num_samples: int = 4
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    rewards: tuple[str, ...] = ("accuracy",)
    require: tuple[Requirement, ...] = ()
    keep: str = "all"
    max_per_record: int | None = None
    system: str | None = None
    max_frames: int = 16
    fps: float = 2.0
    seed: int = 0
    records_per_batch: int = 8
    output: str | None = None
    fmt: str | None = None
    rejected: str | None = None
    media_dir: str | None = None
    embed_media: bool = False

    def __post_init__(self):
        from thinkpipe.core.records import resolve_format
        if self.keep not in ("all", "first", "best") and not (str(self.keep).isdigit()
                                                              and int(self.keep) >= 1):
            raise ValueError(f"--keep is all, first, best or a number N >= 1, not {self.keep!r} "
                             "(to keep nothing, leave -o out and write only --rejected)")
        if self.num_samples < 1:
            raise ValueError("--num-samples must be at least 1")
        if self.max_frames < 1 or self.fps <= 0:
            raise ValueError("--max-frames must be at least 1 and --fps above 0")
        if self.embed_media and self.media_dir:
            raise ValueError("--embed-media and --media-dir pull opposite ways; pick one")
        resolve_format(self.output, self.fmt)          # -o x.csv: refused before the model loads
        if self.rejected:
            resolve_format(self.rejected, None)


def select(samples: list[Sample], config: RejectConfig) -> None:
    """Mark samples accepted or rejected (with reasons), in place."""
    for s in samples:
        s.failed = [str(r) for r in config.require if not r.met(s)]
    passing = [s for s in samples if not s.failed]
    if config.keep == "first":
        chosen = passing[:1]
    elif config.keep == "best":
        chosen = sorted(passing, key=lambda s: -s.reward)[:1]
    elif config.keep == "all":
        chosen = passing
    else:
        chosen = passing[:int(config.keep)]
    if config.max_per_record is not None:
        chosen = chosen[:config.max_per_record]
    for s in passing:
        if s not in chosen:
            s.failed = ["keep"]
    for s in samples:
        s.accepted = not s.failed


def process(items: Iterator[tuple[int, str, dict]], config: RejectConfig, bundle=None,
            reward_fns=None) -> Iterator[tuple[int, list[Sample]]]:
    """(index, where, record) -> (index, its judged samples), in input order.

    Records are gathered `records_per_batch` at a time so one rollout covers all their samples.
    """
    window: list[tuple[int, str, dict]] = []

    def flush():
        groups = samples_from_record_batch(window, config, bundle)
        for (index, where, record), samples in zip(window, groups):
            for s in samples:
                judge_sample(s, record, config, reward_fns)
            select(samples, config)
            yield index, samples
        window.clear()

    for item in items:
        window.append(item)
        if len(window) >= config.records_per_batch:
            yield from flush()
    if window:
        yield from flush()


def samples_from_record_batch(window, config: RejectConfig, bundle) -> list[list[Sample]]:
    if bundle is None:
        return [samples_from_record(record, where) for _, where, record in window]
    from thinkpipe.core.drawing.rollout import rollout

    from thinkpipe.core.drawing.rollout import prompt_for

    from .samples import from_trajectory
    prompts, seeds, owners = [], [], []
    for n, (_, where, record) in enumerate(window):
        rid = record_id(record)
        prompt = prompt_for(record, config.system, config.rollout.tools == "draw")
        for k in range(config.num_samples):
            prompts.append(prompt)
            seeds.append(sample_seed(config.seed, rid, k))
            owners.append((n, k))
    trajs = rollout(bundle, prompts, config.rollout, seeds)
    groups: list[list[Sample]] = [[] for _ in window]
    for (n, k), prompt, traj in zip(owners, prompts, trajs):
        groups[n].append(from_trajectory(traj, k, len(prompt)))
    return groups


__all__ = ["RejectConfig", "Requirement", "process", "select", "record_id", "sample_seed",
           "to_record"]
