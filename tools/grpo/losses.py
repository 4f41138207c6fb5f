"""GRPO maths as pure functions over tensors: advantages, the clipped surrogate, k3 KL, losses.

Notation (DeepSeekMath eq. 3, DAPO eqs. 8-10, Dr. GRPO eq. 2): a group of G completions o_i of
one prompt gets rewards r_i; token t of completion i has probability ratio
rho_it = pi_theta(o_it | ...) / pi_old(o_it | ...) and advantage A_i (the same for all its tokens).

    A_i   = (r_i - mean(r)) / (std(r) + eps)                    (scale_rewards="group")
            std over the whole batch instead                     (scale_rewards="batch")
            r_i - mean(r), no division (Dr. GRPO)                (scale_rewards="none")
    L_it  = -[ min(rho_it A_i, clip(rho_it, 1 - eps_low, 1 + eps_high) A_i) - beta KL_it ]
    KL_it = exp(d) - d - 1, d = log pi_ref - log pi_theta        (k3, Schulman 2020; unbiased, >= 0)

Aggregation (`loss_type`, the LOSSES registry), with m_it the completion mask:
    grpo     (1/N) sum_i (sum_t m_it L_it) / (sum_t m_it)        per-sequence mean, then mean
    dapo     sum_it m_it L_it / sum_it m_it                      token mean over the whole batch
    dr_grpo  sum_it m_it L_it / (N * L_max)                      a constant normaliser
Each entry gives the *sum* of a micro-batch's contributions and, apart, the normaliser of a
set of completions from their trained-token counts, so the loop can split a batch over
micro-batches and ranks and still divide by the global normaliser. A new loss type is two
functions and one LOSSES entry; the trainer uses nothing else.

Official code differs in places, documented where it matters: TRL's std is unbiased and its eps
1e-4; verl's eps 1e-6; Video-R1 runs one on-policy step (rho = 1, no clipping in effect); VILASR
clips asymmetrically (0.2 / 0.3) with KL off.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch

SCALES = ("group", "batch", "none")


def group_advantages(rewards: torch.Tensor, group_size: int, scale: str = "group",
                     eps: float = 1e-4, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Rewards (N,) in consecutive groups of `group_size` -> advantages (N,).

    `valid` (N,) bool marks samples with a reward; others get advantage 0 and are left out of
    their group's mean and std. The std is the population std (divide by the group count).
    """
    if scale not in SCALES:
        raise ValueError(f"scale_rewards must be one of {SCALES}")
    valid = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid
    r = rewards.view(-1, group_size).double()                          # (N/G, G)
    v = valid.view(-1, group_size).double()                            # (N/G, G)
    n = v.sum(1, keepdim=True).clamp(min=1)                            # (N/G, 1)
    mean = (r * v).sum(1, keepdim=True) / n                            # (N/G, 1)
    centred = (r - mean) * v                                           # (N/G, G)
    if scale == "none":
        return centred.view(-1).to(rewards.dtype)                      # (N,)
    if scale == "group":
        std = ((centred ** 2).sum(1, keepdim=True) / n).sqrt()         # (N/G, 1)
    else:  # batch: one std over every valid reward of the batch
        std = ((centred ** 2).sum() / v.sum().clamp(min=1)).sqrt().expand_as(mean)
    return (centred / (std + eps)).view(-1).to(rewards.dtype)          # (N,)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi_theta || pi_ref): exp(d) - d - 1, d = ref - logp. (B, T)"""
    d = (ref_logp - logp).clamp(-20, 20)                               # (B, T)
    return torch.exp(d) - d - 1                                        # (B, T)


class TokenLoss(NamedTuple):
    per_token: torch.Tensor   # (B, T) L_it (0 where masked)
    clipped: torch.Tensor     # (B, T) bool: the clip was active
    kl: torch.Tensor          # (B, T) KL_it (0 when beta == 0)


def token_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
               mask: torch.Tensor, eps_low: float = 0.2, eps_high: float | None = None,
               beta: float = 0.0, ref_logp: torch.Tensor | None = None) -> TokenLoss:
    """The clipped surrogate with optional KL penalty, per token."""
    eps_high = eps_low if eps_high is None else eps_high
    ratio = torch.exp(logp - old_logp)                                 # (B, T)
    adv = advantages.unsqueeze(1)                                      # (B, 1)
    unclipped = ratio * adv                                            # (B, T)
    clipped_ratio = ratio.clamp(1 - eps_low, 1 + eps_high)             # (B, T)
    surrogate = torch.minimum(unclipped, clipped_ratio * adv)          # (B, T)
    kl = k3_kl(logp, ref_logp) if beta and ref_logp is not None else torch.zeros_like(logp)
    per_token = -(surrogate - beta * kl) * mask                        # (B, T)
    clipped = (clipped_ratio * adv < unclipped) & mask.bool()          # (B, T)
    return TokenLoss(per_token, clipped, kl * mask)


def per_sequence_mean(per_token: torch.Tensor, mask: torch.Tensor, max_len: int) -> torch.Tensor:
    """grpo: sum_i (sum_t m_it L_it) / (sum_t m_it) over this micro-batch."""
    lengths = mask.sum(1).clamp(min=1)                                 # (B,)
    return (per_token.sum(1) / lengths).sum()                          # ()


def token_sum(per_token: torch.Tensor, mask: torch.Tensor, max_len: int) -> torch.Tensor:
    """dapo, dr_grpo: sum_it m_it L_it over this micro-batch (L_it is already 0 off the mask)."""
    return per_token.sum()                                             # ()


class LossType(NamedTuple):
    contribution: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]
    normaliser: Callable[[list[int], int], float]   # trained tokens per completion, L_max -> share


LOSSES: dict[str, LossType] = {
    "grpo": LossType(per_sequence_mean, lambda tokens, max_len: float(len(tokens))),
    "dapo": LossType(token_sum, lambda tokens, max_len: float(sum(tokens))),
    "dr_grpo": LossType(token_sum, lambda tokens, max_len: float(len(tokens) * max_len)),
}
LOSS_TYPES = tuple(LOSSES)


def aggregate(per_token: torch.Tensor, mask: torch.Tensor, loss_type: str,
              max_len: int) -> tuple[torch.Tensor, float]:
    """(sum of this micro-batch's contributions, its share of the normaliser).

    The global loss is sum(contributions) / sum(normalisers) over every micro-batch and rank:
    grpo counts sequences, dapo tokens, dr_grpo sequences x max_len.
    """
    if loss_type not in LOSSES:
        raise ValueError(f"loss_type must be one of {LOSS_TYPES}")
    entry = LOSSES[loss_type]
    tokens = [int(n) for n in mask.sum(1).tolist()]                    # per completion
    return entry.contribution(per_token, mask, max_len), entry.normaliser(tokens, max_len)


def constant_within_groups(component: torch.Tensor, group_size: int) -> bool:
    """True when a reward component takes one value in every group, so group normalisation
    cancels it: it cannot change any advantage (Video-R1's +0.3 bonus, issue #51)."""
    g = component.view(-1, group_size)
    return bool(((g - g[:, :1]).abs() < 1e-12).all())


def tied_groups(rewards: torch.Tensor, group_size: int,
                valid: torch.Tensor | None = None) -> torch.Tensor:
    """(N/G,) bool: groups whose rewards all tie (zero advantage; DAPO's dynamic sampling drops
    them, TRL reports their fraction as frac_reward_zero_std). With `valid` (N,) bool, only
    valid rewards count and a group with fewer than two is tied too."""
    valid = torch.ones_like(rewards, dtype=torch.bool) if valid is None else valid
    g = rewards.view(-1, group_size).double()                          # (N/G, G)
    v = valid.view(-1, group_size)                                     # (N/G, G)
    high = g.masked_fill(~v, float("-inf")).max(1).values              # (N/G,)
    low = g.masked_fill(~v, float("inf")).min(1).values                # (N/G,)
    return (v.sum(1) < 2) | ((high - low) < 1e-12)
