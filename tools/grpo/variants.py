"""Reward variants applied to each group after the --reward specs: SophiaVL-R1's format gate and
Trust-GRPO thinking reward, Video-R1's T-GRPO temporal bonus and length bonus.

The maths are shaping.py's; here they meet the completions. Each variant is a Shaper (a class
with `__call__(groups, step)` adding to `c.reward` and `c.rewards`, and `stats()`); `shapers()`
lists those the config turns on, in the order the papers add them: outcome (gated by format),
then the thinking reward, then the temporal and length bonuses. A new variant is one class and
one line in `shapers()`, never an `if` in the trainer's loop.

Every shaped completion keeps its parts in `rewards`: `outcome` (the --reward specs' weighted
sum, gated by --format-gate), `thinking` (R^t), `temporal`, `length`; `trust_gamma` and
`think_weight` (the weight actually applied to R^t) sit on the completion, for --rollouts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import torch

from thinkpipe.core.plugins import spec_kind

from . import shaping

log = logging.getLogger("thinkpipe.grpo")


@dataclass(frozen=True)
class ShapingConfig:
    """Which reward variants grpo applies, and their constants (shaping.py has the formulas).

    format_gate        outcome = 0 unless the response is <think>...</think><answer>...</answer>
    thinking_reward    Trust-GRPO's R^t scorer: model folder | URL | module:function (None: off)
    thinking_model     the model name sent to a thinking-reward URL
    trust              paper | released: Trust-GRPO's variant (shaping.TRUST)
    think_alpha        alpha, R^t's weight before annealing
    anneal_steps       T in exp(-step / T); None: the run's total optimizer steps
    correct_threshold  outcome >= this counts as correct (the C / W split)
    score_threshold    released variant: outcome below this gets R^t = 0, no reward-model call
    temporal           T-GRPO: shuffled-frame responses for every record with frames
    shuffled_fraction  shuffled responses per group, as a fraction of G (at least 1)
    temporal_ratio     mu in p >= mu p~ (1.0 as the author intends; 0.8 is the released code's)
    temporal_alpha     the bonus added to ordered responses with accuracy > 0.1
    length_bonus       omega, Video-R1's length reward (0: off)
    length_range       (l_min, l_max), completion tokens for the length bonus
    """
    format_gate: bool = False
    thinking_reward: str | None = None
    thinking_model: str | None = None
    trust: str = "paper"
    think_alpha: float = 0.3
    anneal_steps: int | None = None
    correct_threshold: float = 0.5
    score_threshold: float = 0.2
    temporal: bool = False
    shuffled_fraction: float = 0.5
    temporal_ratio: float = 1.0
    temporal_alpha: float = 0.3
    length_bonus: float = 0.0
    length_range: tuple[int, int] = (320, 512)

    def __post_init__(self):
        if self.trust not in shaping.TRUST:
            raise ValueError(f"--trust must be one of {', '.join(shaping.TRUST)}")
        if not 0 < self.shuffled_fraction <= 1:
            raise ValueError("--shuffled-fraction must be in (0, 1]")
        low, high = self.length_range
        if not 0 <= low <= high:
            raise ValueError("--length-range is MIN,MAX tokens with MIN <= MAX")
        if self.thinking_reward and spec_kind(self.thinking_reward) is None:
            raise ValueError(f"--thinking-reward {self.thinking_reward}: not a model folder, an "
                             "http(s):// URL or module:function")   # before the policy loads

    def shuffled_count(self, G: int) -> int:
        return max(1, round(self.shuffled_fraction * G))


def response_text(c) -> str:
    """Every assistant turn of the trajectory (the whole response the reward model judges)."""
    return "\n".join(m["content"] for m in c.traj.messages[c.prompt_len:]
                     if m["role"] == "assistant" and isinstance(m.get("content"), str))


def accuracy(c) -> float:
    """The accuracy a bonus looks at: the `accuracy` reward, else the outcome."""
    return float(c.rewards.get("accuracy", c.rewards.get("outcome", c.reward or 0.0)))


def _scored(groups) -> list:
    return [g for g in groups if all(c.reward is not None for c in g)]


class Shaper:
    """A reward variant: `__call__(groups, step)` adds to each completion's reward; `stats()`
    gives {metric: (sum, count)} since the last call (metrics.py means them over ranks)."""

    def __init__(self):
        self.sums: dict[str, tuple[float, int]] = {}

    def add(self, key: str, value: float, count: int = 1) -> None:
        s, n = self.sums.get(key, (0.0, 0))
        self.sums[key] = (s + value, n + count)

    def stats(self) -> dict:
        out, self.sums = self.sums, {}
        return out


class Outcome(Shaper):
    """rewards["outcome"]: the --reward specs' sum, 0 with --format-gate when the format breaks."""

    def __init__(self, gate: bool):
        super().__init__()
        self.gate = gate

    def __call__(self, groups, step: int) -> None:
        from thinkpipe.core.rewards import think_answer
        for g in _scored(groups):
            outcome = torch.tensor([c.reward for c in g], dtype=torch.float64)       # (G,)
            if self.gate:
                ok = torch.tensor([think_answer(response_text(c)) >= 1.0 for c in g])  # (G,)
                outcome = shaping.format_gate(outcome, ok)
                self.add("format_broken", float((~ok).sum()), len(g))
            for c, r in zip(g, outcome.tolist()):
                c.reward = c.rewards["outcome"] = r


class TrustReward(Shaper):
    """Trust-GRPO: R_i = R^o_i + gamma w(step) R^t_i (shaping.TRUST[variant])."""

    def __init__(self, cfg: ShapingConfig, scorer, total_steps: int, record_of: dict):
        super().__init__()
        self.cfg, self.scorer, self.record_of = cfg, scorer, record_of
        self.total = cfg.anneal_steps or total_steps

    def __call__(self, groups, step: int) -> None:
        groups = _scored(groups)
        if not groups:
            return
        cfg, variant = self.cfg, shaping.TRUST[self.cfg.trust]
        outcome = torch.tensor([[c.reward for c in g] for g in groups], dtype=torch.float64)
        calls = variant.calls(outcome, cfg.score_threshold)                  # (P, G)
        todo = [c for g, row in zip(groups, calls.tolist()) for c, k in zip(g, row) if k]
        scores = iter(self.scorer.score([(self.record_of[c.prompt_id], response_text(c))
                                         for c in todo]))
        thinking = torch.tensor([[next(scores) if k else 0.0 for k in row]
                                 for row in calls.tolist()], dtype=torch.float64)
        out = variant.combine(outcome, thinking, cfg.think_alpha, step, self.total,
                              cfg.correct_threshold, cfg.score_threshold)
        for i, g in enumerate(groups):
            for j, c in enumerate(g):
                c.reward, c.rewards["thinking"] = float(out.reward[i, j]), float(thinking[i, j])
                c.trust_gamma, c.think_weight = float(out.gamma[i]), float(out.weight[i])
        scored, spent = thinking[calls], self.scorer.delta()     # the scorer counts its calls
        self.add("thinking", float(scored.sum()), scored.numel())
        self.add("trust_gamma", float(out.gamma.sum()), out.gamma.numel())
        self.add("think_weight", float(out.weight.sum()), out.weight.numel())
        self.add("trust_fired", float((out.gamma < 1).sum()), out.gamma.numel())
        for key in ("calls", "failures", "seconds"):
            self.add(f"thinking_{key}" if key != "seconds" else "thinking_s", spent[key])


class TemporalBonus(Shaper):
    """T-GRPO: alpha to ordered responses with accuracy > 0.1 when p >= mu p~."""

    def __init__(self, cfg: ShapingConfig, scale: str = "group"):
        super().__init__()
        self.cfg, self.scale = cfg, scale
        self.warned = scale != "group" or bool(cfg.length_bonus)   # then the bonus counts

    def __call__(self, groups, step: int) -> None:
        framed = [g for g in _scored(groups) if getattr(g, "shuffled", None)]
        self._warn_if_a_rescaling(framed)
        for g in framed:
            acc = torch.tensor([[accuracy(c) for c in g]], dtype=torch.float64)
            shuffled = torch.tensor([[accuracy(c) for c in g.shuffled]], dtype=torch.float64)
            out = shaping.temporal_bonus(acc, shuffled, self.cfg.temporal_alpha,
                                         self.cfg.temporal_ratio)
            for c, b in zip(g, out.bonus[0].tolist()):
                c.reward += b
                c.rewards["temporal"] = b
            self.add("temporal_fired", float(out.fired[0]))
            self.add("temporal_p", float(out.p[0]))
            self.add("temporal_p_shuffled", float(out.p_shuffled[0]))

    def _warn_if_a_rescaling(self, framed) -> None:
        """Video-R1 #51: when the reward is a binary accuracy alone, the bonus turns a group's
        (1, 0) into (1 + alpha, 0), a rescaling that per-group std normalisation undoes."""
        if self.warned or not framed or not all(
                accuracy(c) in (0.0, 1.0) and c.reward == accuracy(c) for g in framed for c in g):
            return
        self.warned = True
        log.warning("the temporal bonus only rescales rewards here (a binary accuracy is the "
                    "whole reward): --scale-rewards group cancels it; --scale-rewards batch, a "
                    "format or length reward keep it (Video-R1 issue #51)")


class LengthBonus(Shaper):
    """Video-R1's length reward for correct, in-range responses of groups with > 1 correct."""

    def __init__(self, cfg: ShapingConfig):
        super().__init__()
        self.cfg = cfg

    def __call__(self, groups, step: int) -> None:
        low, high = self.cfg.length_range
        for g in _scored(groups):
            acc = torch.tensor([[accuracy(c) for c in g]], dtype=torch.float64)
            lengths = torch.tensor([[c.length for c in g]])
            bonus = shaping.length_bonus(acc, lengths, self.cfg.length_bonus, low, high)[0]
            for c, b in zip(g, bonus.tolist()):
                c.reward += b
                c.rewards["length"] = b
            self.add("length_bonus", float((bonus > 0).sum()), len(g))


def shapers(cfg: ShapingConfig, total_steps: int, record_of: dict, scale: str = "group") -> list:
    """The variants `cfg` turns on, in the order they add to the reward (`scale`: the
    advantages' --scale-rewards, which decides whether a rescaling bonus survives)."""
    out: list = [Outcome(cfg.format_gate)]
    if cfg.thinking_reward:
        from thinkpipe.core.rewards.thinking import load_thinking_scorer
        out.append(TrustReward(cfg, load_thinking_scorer(cfg.thinking_reward, cfg.thinking_model),
                               total_steps, record_of))
    if cfg.temporal:
        out.append(TemporalBonus(cfg, scale))
    if cfg.length_bonus:
        out.append(LengthBonus(cfg))
    return out
