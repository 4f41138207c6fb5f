"""PlanKD's losses as pure functions (Feng et al., CVPR 2024; ../shared/papers/distill.md
section 2 and S.3). The paper's total objective is

    L = L_w + L_w* - L_IB + alpha_z L_z + alpha_r L_rank + alpha_e L_e

L_w: the ground-truth waypoint loss; L_w*: the safety-aware attentive distillation of the
teacher's waypoints; L_IB: the information bottleneck (maximised, so it is minimised here as
its negative, by its own optimiser); L_z: L1 between the teacher's and student's codes;
L_rank, L_e: the attention's ranking and entropy regularisers.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LN2 = math.log(2.0)


def kl_standard_normal(mu: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum_d (sigma^2 + mu^2 - 1 - log sigma^2), averaged
    over the batch. mu, sigma: (B, z) -> scalar >= 0."""
    var = sigma.pow(2)
    return 0.5 * (var + mu.pow(2) - 1 - torch.log(var)).sum(1).mean()


def ib_loss(logits: list, labels: torch.Tensor, mu: torch.Tensor, sigma: torch.Tensor,
            beta: float = 1e-3) -> torch.Tensor:
    """-J_IB's variational bound (VIB): sum_i CE(decoder_i(z), y_i) / ln 2 (a lower bound on
    I(Z, Y_i), in bits) + beta KL(q(z|h) || N(0, I)) / ln 2 (an upper bound on I(Z, H)).
    logits: M tensors (B, C_i); labels: (B, M) long. beta = 1e-3 in the code."""
    ce = sum(F.cross_entropy(lg, labels[:, i]) for i, lg in enumerate(logits))
    return (ce + beta * kl_standard_normal(mu, sigma)) / LN2


def code_l1(z_teacher: torch.Tensor, z_student: torch.Tensor) -> torch.Tensor:
    """L_z = mean |z^T - z^S| over the batch and dims (the code samples both z fresh)."""
    return (z_teacher - z_student).abs().mean()


def safety_density(waypoints: torch.Tensor, actors: torch.Tensor, mask: torch.Tensor,
                   sigma: float = 3.0) -> torch.Tensor:
    """rho_k = sum_j exp(-||w_k - p_j||^2 / (2 sigma^2)) over the valid actors j.
    waypoints: (B, K, 2); actors: (B, J, 2); mask: (B, J) -> (B, K). sigma = 3 m."""
    d2 = (waypoints.unsqueeze(2) - actors.unsqueeze(1)).pow(2).sum(-1)     # (B, K, J)
    return (torch.exp(-d2 / (2 * sigma ** 2)) * mask.unsqueeze(1)).sum(-1)


def ranking_loss(attention: torch.Tensor, rho: torch.Tensor, margin: float = 0.1) -> torch.Tensor:
    """L_rank = mean_{b,k,l} max(0, -sign(rho_k - rho_l) (a_k - a_l) + margin): a waypoint
    in denser traffic must get more attention by the margin. The diagonal (and ties) add the
    constant margin, as in the code. attention, rho: (B, K) -> scalar."""
    order = torch.sign(rho.unsqueeze(2) - rho.unsqueeze(1))                # (B, K, K)
    diff = attention.unsqueeze(2) - attention.unsqueeze(1)                 # (B, K, K)
    return F.relu(-order * diff + margin).mean()


def neg_entropy(attention: torch.Tensor) -> torch.Tensor:
    """L_e = mean_b sum_k a_k log a_k (the negative entropy: minimising it spreads the
    attention). attention: (B, K) -> scalar."""
    return (attention * torch.log(attention.clamp_min(1e-12))).sum(1).mean()


def waypoint_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-waypoint L1, averaged over x and y. pred, target: (B, K, 2) -> (B, K)."""
    return (pred - target).abs().mean(-1)


def attentive(per_waypoint: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
    """sum_k a_k l_k averaged over the batch: the attention-weighted waypoint loss. With a
    uniform a it is the plain mean L1 (the code's mean_k a_k l_k is this / K, then x 0.2,
    InterFuser's waypoint weight). per_waypoint, attention: (B, K) -> scalar."""
    return (attention * per_waypoint).sum(1).mean()
