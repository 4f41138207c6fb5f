"""grpo: group-relative policy optimisation, the RL stage of VILASR, SophiaVL-R1 and Video-R1.

For each prompt, G completions are sampled (with --tools draw, whole drawing trajectories whose
observation turns are context, never trained on), scored by core/rewards specs, and compared
within their group: A_i = (r_i - mean) / (std + eps). The policy then takes clipped-surrogate
steps (asymmetric with --epsilon-high, μ of them per rollout batch with --num-iterations), with an
optional k3 KL penalty to a frozen reference (--beta; 0 skips loading it), aggregated as GRPO
(per-sequence mean), DAPO (token mean over the batch) or Dr. GRPO (constant normaliser).
DAPO's dynamic sampling (--filter-groups) drops groups whose rewards all tie and samples more.
A rollout batch's completions are scored --reward-concurrency at a time; a reward that cannot be
computed (a ServiceError: an endpoint still failing after its retries) stops the run before the
step trains, with a checkpoint of the last completed step, exit 69.
Maths: losses.py; the loop, phase by phase: trainer.py; rollout collection and dynamic
sampling: collect.py; generation: sampler.py (an interface a vLLM sampler can implement);
metrics rows: metrics.py; --rollouts: rollouts.py. Rollouts decode with --decoder (DECODER,
`loop` by default: core/models/decoding.py's loop over the policy's forward, whose tokens are
transformers' generate's, at less cost per step: bench/RESULTS.md).

    grpo --model ckpt/rrs --output-dir ckpt/rl rl.jsonl > metrics.jsonl
    grpo --model ckpt/rrs --output-dir ckpt/rl --tools draw --reward vilasr --epsilon-high 0.3 --beta 0 rl.jsonl
    deepspeed --num_gpus 8 $(which grpo) --model ckpt/rrs --output-dir ckpt/rl --zero 3 --num-generations 8 rl.jsonl

Departures (defaults follow TRL's GRPOConfig; the papers' settings are flags away): VILASR's RL
used loss per micro-batch of 1 (per-sequence mean), clip 0.2/0.3, no KL, lr 1e-6, G 8 — here
`--loss-type grpo --epsilon-high 0.3 --beta 0`; Video-R1 takes one on-policy step without
clipping in effect and beta 0.04. Sample seeds derive from (seed, epoch, prompt, sample), so a
run resumed from a checkpoint continues with the same rollouts. --max-steps counts optimizer
steps: with --num-iterations μ a rollout batch gives μ steps, each with its metrics row.
Trust-GRPO (--thinking-reward, --trust paper|released) and T-GRPO (--temporal, frame records)
reshape each group's rewards before the advantages (variants.py, maths in shaping.py); both
follow their paper by default and the released code under an option, as the man page says.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from thinkpipe.core.drawing.rollout import RolloutConfig
from thinkpipe.core.train import TrainConfig

from .collect import prompts_from
from .losses import LOSS_TYPES, SCALES
from .trainer import train
from .variants import ShapingConfig

log = logging.getLogger("thinkpipe.grpo")

DECODER = "loop"   # rollouts' decoder unless told otherwise (core/models/decoding.py)


@dataclass(frozen=True)
class GRPOConfig:
    """What grpo trains, how it samples and what it optimises.

    model              the policy to train (a model folder)
    train              the shared loop's settings (core/train TrainConfig: lr, steps, ...)
    rollout            the sampler's settings (rollout_config: tools, token budgets, ...)
    num_generations    G, completions per prompt
    rewards            reward specs (built-in, module:function, URL), summed with...
    reward_weights     ...these weights (default 1 each)
    reward_concurrency completions scored at once (threads: a reward endpoint's calls overlap)
    scale_rewards      group | batch | none: the std dividing the advantages
    advantage_eps      added to that std
    epsilon            lower clip (and upper, unless epsilon_high)
    epsilon_high       upper clip (DAPO's clip-higher)
    num_iterations     mu, optimizer steps per rollout batch
    beta               k3 KL coefficient; 0 never loads the reference
    loss_type          grpo | dapo | dr_grpo (losses.LOSSES)
    mask_truncated     cut-off completions stay out of the loss
    filter_groups      DAPO's dynamic sampling: tied groups dropped, more sampled
    max_filter_rounds  sampling rounds per step at most (then padding, or RunFailed)
    max_seq_length     tokens of prompt and completion trained on
    system             system prompt (with tools=draw, VILASR's by default)
    rollouts_path      write every trajectory there (.jsonl, .jsonl.gz, .parquet)
    shaping            reward variants: Trust-GRPO, T-GRPO, format gate, length (variants.py)
    max_frames         a video decodes to at most this many frames (core/records/video.py)...
    fps                ...sampled at this rate
    """
    model: str
    train: TrainConfig
    rollout: RolloutConfig = field(default_factory=lambda: RolloutConfig(decoder=DECODER))
    num_generations: int = 8
    rewards: tuple[str, ...] = ("accuracy",)
    reward_weights: tuple[float, ...] | None = None
    reward_concurrency: int = 8
    scale_rewards: str = "group"
    advantage_eps: float = 1e-4
    epsilon: float = 0.2
    epsilon_high: float | None = None
    num_iterations: int = 1
    beta: float = 0.0
    loss_type: str = "dapo"
    mask_truncated: bool = False
    filter_groups: bool = False
    max_filter_rounds: int = 3
    max_seq_length: int = 4096
    system: str | None = None
    rollouts_path: str | None = None
    shaping: ShapingConfig = field(default_factory=ShapingConfig)
    max_frames: int = 16
    fps: float = 2.0

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
        if self.reward_concurrency < 1:
            problems.append("--reward-concurrency must be at least 1")
        if self.rollouts_path:
            from thinkpipe.core.records import resolve_format
            resolve_format(self.rollouts_path, None)      # UsageError for x.csv, before loading
        if problems:
            raise ValueError("; ".join(problems))


def rollout_config(tools: str, max_completion_length: int, max_total_tokens: int,
                   **sampling) -> RolloutConfig:
    """The sampler's settings from grpo's options (TRL's names): --max-completion-length is the
    budget of one turn; --max-total-tokens bounds a whole drawing trajectory and, without
    tools, is the one completion's length. The decoder is DECODER unless `sampling` names one."""
    drawing = tools == "draw"
    return RolloutConfig(tools="draw" if drawing else None, max_turn_tokens=max_completion_length,
                         max_total_tokens=max_total_tokens if drawing else max_completion_length,
                         **{"decoder": DECODER, **sampling})


__all__ = ["DECODER", "GRPOConfig", "ShapingConfig", "rollout_config", "train", "prompts_from"]
