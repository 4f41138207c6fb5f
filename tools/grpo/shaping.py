"""Group-level reward shaping as pure functions over tensors: Trust-GRPO (SophiaVL-R1), T-GRPO's
temporal bonus and Video-R1's length bonus, each in the paper's form and the released code's.

A batch holds P prompts with G completions each, in consecutive groups; tensors are (P, G).

Trust-GRPO (SophiaVL-R1, Fan et al. 2025, eqs. 1-6). Outcome R^o_i, thinking reward R^t_i:
    C = {i : R^o_i >= tau_c},  W = {i : R^o_i < tau_c}             (tau_c = 0.5, --correct-threshold)
    mu_c = mean_{i in C} R^t_i,  mu_w = mean_{i in W} R^t_i
    gamma = 1 if mu_c >= mu_w else exp(mu_c - mu_w)                 (eq. 4, trust in R^t)
    w(step) = alpha exp(-step / T)                                  (eq. 5, alpha 0.3, T total steps)
    R_i = R^o_i + gamma w(step) R^t_i                               (eq. 6)
The paper leaves an empty C or W undefined; here gamma = 1 then (nothing contradicts R^t).

Released code (`verl/workers/reward/custom.py`, `--trust released`):
    a group whose outcomes are all >= 0.9 or all <= 0.1 gets no thinking reward (weight 0, the
    reward model is not called); otherwise only responses with R^o >= 0.2 (--score-threshold)
    are scored, the others get R^t = 0; mu over an empty set is 0; the weight is
    w(step) exp(mu_c - mu_w) when mu_c < mu_w. For binary outcomes every wrong response has
    R^o = 0 < 0.2, so mu_w = 0 <= mu_c and gamma is always 1: the trust weight only acts on
    graded outcomes in [0.2, 0.5) (OCR, free-form).

T-GRPO (Video-R1, Feng et al. 2025). p = mean accuracy of the G ordered-frame responses,
p~ = mean over the responses to shuffled frames:
    bonus_i = alpha  if p >= mu p~ and acc_i > 0.1, else 0          (alpha 0.3; mu 1.0, code 0.8)
Length bonus (Video-R1 code, --len_control): +omega (0.2) for a response with acc > 0.1 whose
length is in [l_min, l_max] (320, 512 tokens), only when more than one response of the group
has acc > 0.1.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

import torch


class Trust(NamedTuple):
    reward: torch.Tensor      # (P, G) R_i
    gamma: torch.Tensor       # (P,) trust in the thinking reward
    weight: torch.Tensor      # (P,) weight actually applied to R^t: gamma * w(step), 0 if skipped
    mu_correct: torch.Tensor  # (P,) mean R^t over C (0 where C is empty)
    mu_wrong: torch.Tensor    # (P,) mean R^t over W (0 where W is empty)


def anneal(alpha: float, step: int, total: int) -> float:
    """w(step) = alpha exp(-step / T) (eq. 5)."""
    return alpha * math.exp(-step / max(1, total))


def _means(thinking: torch.Tensor, members: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean of thinking over members per row (0 if none), whether the row has any)."""
    m = members.double()                                              # (P, G)
    n = m.sum(1)                                                      # (P,)
    return (thinking.double() * m).sum(1) / n.clamp(min=1), n > 0      # (P,), (P,)


def trust_paper(outcome: torch.Tensor, thinking: torch.Tensor, alpha: float, step: int,
                total: int, correct: float = 0.5) -> Trust:
    """Eqs. 4-6 with gamma = 1 where C or W is empty."""
    mu_c, has_c = _means(thinking, outcome >= correct)                # (P,), (P,)
    mu_w, has_w = _means(thinking, outcome < correct)                 # (P,), (P,)
    gamma = torch.where(has_c & has_w & (mu_c < mu_w), torch.exp(mu_c - mu_w),
                        torch.ones_like(mu_c))                        # (P,)
    weight = gamma * anneal(alpha, step, total)                       # (P,)
    reward = outcome.double() + weight[:, None] * thinking.double()   # (P, G)
    return Trust(reward.to(outcome.dtype), gamma, weight, mu_c, mu_w)


def released_skipped(outcome: torch.Tensor, low: float = 0.1, high: float = 0.9) -> torch.Tensor:
    """(P,) groups the released code gives no thinking reward: all outcomes >= high or <= low."""
    return (outcome >= high).all(1) | (outcome <= low).all(1)


def released_calls(outcome: torch.Tensor, threshold: float = 0.2, low: float = 0.1,
                   high: float = 0.9) -> torch.Tensor:
    """(P, G) responses the released code sends to the reward model: outcome >= threshold, in
    groups not skipped."""
    return (outcome >= threshold) & ~released_skipped(outcome, low, high)[:, None]


def trust_released(outcome: torch.Tensor, thinking: torch.Tensor, alpha: float, step: int,
                   total: int, correct: float = 0.5, threshold: float = 0.2, low: float = 0.1,
                   high: float = 0.9) -> Trust:
    """custom.py's rule; `thinking` is zeroed where released_calls is False."""
    called = released_calls(outcome, threshold, low, high)            # (P, G)
    thinking = torch.where(called, thinking.double(), torch.zeros_like(thinking.double()))
    mu_c, _ = _means(thinking, outcome >= correct)                    # (P,)
    mu_w, _ = _means(thinking, outcome < correct)                     # (P,)
    gamma = torch.where(mu_c < mu_w, torch.exp(mu_c - mu_w), torch.ones_like(mu_c))  # (P,)
    skipped = released_skipped(outcome, low, high)                    # (P,)
    weight = torch.where(skipped, torch.zeros_like(gamma), gamma * anneal(alpha, step, total))
    reward = outcome.double() + weight[:, None] * thinking            # (P, G)
    return Trust(reward.to(outcome.dtype), gamma, weight, mu_c, mu_w)


def paper_calls(outcome: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    """(P, G) the paper scores every response."""
    return torch.ones_like(outcome, dtype=torch.bool)


def _paper(outcome, thinking, alpha, step, total, correct=0.5, threshold=None) -> Trust:
    return trust_paper(outcome, thinking, alpha, step, total, correct)


class TrustVariant(NamedTuple):
    calls: Callable           # (outcome (P, G), threshold) -> (P, G) bool: who is scored
    combine: Callable         # (outcome, thinking, alpha, step, total, correct, threshold) -> Trust


TRUST = {"paper": TrustVariant(paper_calls, _paper),
         "released": TrustVariant(released_calls, trust_released)}


class Temporal(NamedTuple):
    bonus: torch.Tensor       # (P, G) added to the ordered responses' rewards
    fired: torch.Tensor       # (P,) p >= mu p~
    p: torch.Tensor           # (P,) ordered accuracy
    p_shuffled: torch.Tensor  # (P,) shuffled accuracy


def temporal_bonus(acc: torch.Tensor, acc_shuffled: torch.Tensor, alpha: float = 0.3,
                   ratio: float = 1.0, min_acc: float = 0.1) -> Temporal:
    """T-GRPO: acc (P, G) of ordered responses, acc_shuffled (P, S) of shuffled ones."""
    p = acc.double().mean(1)                                          # (P,)
    p_tilde = acc_shuffled.double().mean(1)                           # (P,)
    fired = p >= ratio * p_tilde                                      # (P,)
    bonus = alpha * (fired[:, None] & (acc > min_acc)).double()       # (P, G)
    return Temporal(bonus.to(acc.dtype), fired, p, p_tilde)


def length_bonus(acc: torch.Tensor, lengths: torch.Tensor, omega: float = 0.2, low: int = 320,
                 high: int = 512, min_acc: float = 0.1) -> torch.Tensor:
    """(P, G) Video-R1's length reward: omega for correct in-range responses of groups with
    more than one correct response."""
    correct = acc > min_acc                                           # (P, G)
    several = correct.sum(1, keepdim=True) > 1                        # (P, 1)
    in_range = (lengths >= low) & (lengths <= high)                   # (P, G)
    return omega * (correct & in_range & several).to(acc.dtype)       # (P, G)


def format_gate(outcome: torch.Tensor, format_ok: torch.Tensor) -> torch.Tensor:
    """SophiaVL's outcome reward: 0 when the response breaks the format."""
    return outcome * format_ok.to(outcome.dtype)                      # (P, G)
