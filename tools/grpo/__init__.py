"""grpo: group-relative policy optimisation, the RL stage of VILASR, SophiaVL-R1 and Video-R1.

For each prompt, G completions are sampled (with --tools draw, whole drawing trajectories whose
observation turns are context, never trained on), scored by core/rewards specs, and compared
within their group: A_i = (r_i - mean) / (std + eps). The policy then takes clipped-surrogate
steps (asymmetric with --epsilon-high, μ of them per rollout batch with --num-iterations), with an
optional k3 KL penalty to a frozen reference (--beta; 0 skips loading it), aggregated as GRPO
(per-sequence mean), DAPO (token mean over the batch) or Dr. GRPO (constant normaliser).
DAPO's dynamic sampling (--filter-groups) drops groups whose rewards all tie and samples more.
Maths: losses.py; the loop: trainer.py; generation: engine.py (an interface a vLLM engine can
implement).

    grpo --model ckpt/rrs --output-dir ckpt/rl rl.jsonl > metrics.jsonl
    grpo --model ckpt/rrs --output-dir ckpt/rl --tools draw --reward vilasr --epsilon-high 0.3 --beta 0 rl.jsonl
    deepspeed --num_gpus 8 $(which grpo) --model ckpt/rrs --output-dir ckpt/rl --zero 3 --num-generations 8 rl.jsonl

Departures (defaults follow TRL's GRPOConfig; the papers' settings are flags away): VILASR's RL
used loss per micro-batch of 1 (per-sequence mean), clip 0.2/0.3, no KL, lr 1e-6, G 8 — here
`--loss-type grpo --epsilon-high 0.3 --beta 0`; Video-R1 takes one on-policy step without
clipping in effect and beta 0.04. Sample seeds derive from (seed, epoch, prompt, sample), so a
run resumed from a checkpoint continues with the same rollouts. Trust-GRPO's thinking reward
and T-GRPO's frame shuffling are not part of this command yet. --max-steps counts optimizer
steps: with --num-iterations μ a rollout batch gives μ steps, each with its metrics row.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Iterator

from thinkpipe.core.drawing.rollout import RolloutConfig
from thinkpipe.core.train import TrainConfig

from .losses import LOSS_TYPES, SCALES

log = logging.getLogger("thinkpipe.grpo")


@dataclass(frozen=True)
class GRPOConfig:
    model: str
    train: TrainConfig
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    num_generations: int = 8
    rewards: tuple[str, ...] = ("accuracy",)
    reward_weights: tuple[float, ...] | None = None
    scale_rewards: str = "group"            # group | batch | none
    advantage_eps: float = 1e-4
    epsilon: float = 0.2
    epsilon_high: float | None = None
    num_iterations: int = 1
    beta: float = 0.0
    loss_type: str = "dapo"                 # grpo | dapo | dr_grpo
    mask_truncated: bool = False
    filter_groups: bool = False
    max_filter_rounds: int = 3
    max_seq_length: int = 4096
    system: str | None = None
    rollouts_path: str | None = None

    def __post_init__(self):
        problems = []
        if self.num_generations < 2:
            problems.append("--num-generations must be at least 2 (advantages compare a group)")
        if self.loss_type not in LOSS_TYPES:
            problems.append(f"--loss-type must be one of {', '.join(LOSS_TYPES)}")
        if self.scale_rewards not in SCALES:
            problems.append(f"--scale-rewards must be one of {', '.join(SCALES)}")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.rewards):
            problems.append(f"--reward-weights has {len(self.reward_weights)} values for "
                            f"{len(self.rewards)} --reward specs")
        if self.num_iterations < 1:
            problems.append("--num-iterations must be at least 1")
        if self.rollouts_path:
            from thinkpipe.core.records import resolve_format
            resolve_format(self.rollouts_path, None)      # UsageError for x.csv, before loading
        if problems:
            raise ValueError("; ".join(problems))


def rollout_config(tools: str, max_completion_length: int, max_total_tokens: int,
                   **sampling) -> RolloutConfig:
    """The sampler's settings from grpo's options (TRL's names): --max-completion-length is the
    budget of one turn; --max-total-tokens bounds a whole drawing trajectory and, without
    tools, is the one completion's length."""
    drawing = tools == "draw"
    return RolloutConfig(tools="draw" if drawing else None, max_turn_tokens=max_completion_length,
                         max_total_tokens=max_total_tokens if drawing else max_completion_length,
                         **sampling)


def prompts_from(items: Iterator[tuple[str, dict]], config: GRPOConfig, policy, bundle=None):
    """(id, record, prompt messages) for every usable record; bad ones go to the policy: a
    prompt that cannot be built or that the model cannot take (an unreadable image, images for
    a text-only model), or no gold `answer` for a reward that needs one (accuracy, vilasr)."""
    import hashlib

    from thinkpipe.core.drawing.rollout import prompt_for
    from thinkpipe.core.models.chat import render
    from thinkpipe.core.records.jsonl import dumps
    from thinkpipe.core.rewards import NEEDS_ANSWER

    gold = sorted(set(config.rewards) & NEEDS_ANSWER)
    out, seen = [], set()
    for where, record in items:
        try:
            if gold and record.get("answer") is None:
                raise ValueError(f"no gold `answer` for the {gold[0]} reward")
            prompt = prompt_for(record, config.system, config.rollout.tools == "draw")
            if bundle is not None:
                render(bundle, prompt)
        except (ValueError, OSError) as e:
            policy.handle(where, str(e), dumps(record))
            continue
        pid = str(record["id"]) if record.get("id") is not None else \
            "p" + hashlib.sha256(dumps(record)).hexdigest()[:12]
        if pid in seen:
            pid = f"{pid}#{len(out)}"
        seen.add(pid)
        out.append((pid, record, prompt))
    if not out:
        from thinkpipe.core.errors import UsageError
        raise UsageError("no prompts to train on")
    return out


def train(items, config: GRPOConfig, policy, local_rank=None):
    """Optimizer steps until --max-steps (or the epochs' rollout batches x num_iterations);
    checkpoints at rollout-batch boundaries, so a resumed run regenerates nothing it used."""
    from thinkpipe.core.train import check_output_dir

    from .trainer import GRPORun

    check_output_dir(config.train, remove=False)     # before loading a model
    run = GRPORun(config, items, policy, local_rank)
    trainer = run.trainer
    try:
        if trainer.finished:
            return trainer.state
        while trainer.state.step < trainer.total_steps:
            start = trainer.state.step
            for row in run.steps(trainer.total_steps - start):
                trainer.log(row)
            trainer.maybe_save(since=start)
        if trainer._last_saved != trainer.state.step:
            trainer.save()
        trainer.save_model(config.train.output_dir, run.bundle.processor or run.bundle.tokenizer)
    finally:
        run.close()
        trainer.close()
    return trainer.state


__all__ = ["GRPOConfig", "rollout_config", "train", "prompts_from"]
