"""KPOD's in-rationale progressive schedule as pure functions (Feng et al., "Keypoint-based
Progressive Chain-of-Thought Distillation for LLMs", ICML 2024, section 3.4 and Algorithm 1).

N questions; question i has n_i >= 1 rationale steps with difficulties d_ij >= 0. At stage t the
first c_i(t) steps are given as input and the student generates steps c_i + 1 .. n_i and the
answer, so training moves from the last steps towards the whole rationale.

    h_i(t)  = sum_{j = c_i(t) + 1 .. n_i} d_ij         difficulty still generated     (eq. 9)
    H(t)    = sum_i h_i(t)                             B = sum_i sum_j d_ij
    D(t)    = u t^(p+1) / (p+1) + C0,                  the difficulty budget of stage t (eq. 10)
    u       = (B - C0)(p+1) / T^(p+1)                  so D(0) = C0 and D(T) = B
    S(t)    the questions moved on at t -> c_i(t) = max(c_i(t-1) - ds, 0), others unchanged (eq. 11)
    delta_i = sum_{j = max(c_i - ds, 0) + 1 .. c_i} d_ij   the difficulty question i adds
    dH(S)   = sum_{i in S} delta_i,  dD(t) = D(t) - H(t-1)  (unused budget carries over)
    F(S)    = -(dD - dH(S)) + beta sum_{k=1..K} sqrt(|C_k n S|)                          (eq. 12)
    max F(S)  subject to  dH(S) <= dD                                                     (eq. 13)

C_k are K clusters of the questions (clusters.py), so the sqrt term rewards moving on questions
of many kinds at once. F is monotone submodular: delta_i >= 0 and sqrt of a count is concave.
Defaults follow the paper: p = 0.5, C0 = 0.3 B, beta = 12, ds = 1.

Stages: before stage 0 every c_i = n_i (only the answer is generated, H = 0); stage 0 runs the
selection with dD(0) = D(0) = C0; stages 1 .. T-1 run eq. 11; at stage T every c_i = 0, the full
rationale, as Algorithm 1 (appendix B) trains on it after T. Questions still above 0 at T - 1
jump there at once; `Plan.forced` counts them. Only questions with c_i > 0 can be selected.

Where we depart from the paper:
  - Solver. The paper maximises eq. 13 with FTGP (Li, Feldman, Kazemi, Karbasi, NeurIPS 2022).
    `select` is a density threshold-greedy for a knapsack constraint instead: cost-0 elements
    first (free), then thresholds tau from the largest singleton density down by (1 - eps) to
    eps m / dD (m the best singleton gain; elements below it add at most eps OPT in all), at
    each adding, in index order, every element whose marginal gain / cost >= tau that still
    fits, and a last sweep at tau = 0 (F is monotone, so filling the budget never lowers it).
    The result is the better of that set and the best feasible singleton. Greedy + best
    singleton is proven to reach about 0.405 OPT (Tang et al. 2021; the threshold version loses
    eps); on small random instances it reaches well above (1/2 - eps) OPT (the tests check it).
    Deterministic: ties go to the lower index.
  - dD <= 0 selects nothing (with positive costs); in `plan` it cannot happen, since
    H(t-1) <= D(t-1) < D(t).
  - Cluster labels may be any integers; they are only compared for equality.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn.utils.rnn import pad_sequence

TOL = 1e-12   # float slack when a cost is checked against what is left of the budget


def budget(t: float, T: int, B: float, C0: float, p: float = 0.5) -> float:
    """D(t) = u t^(p+1) / (p+1) + C0 with u = (B - C0)(p+1) / T^(p+1) (eq. 10).

    Computed as C0 + (B - C0) (t / T)^(p+1), the same number, exact at both ends.
    """
    if T < 1:
        raise ValueError("the schedule needs T >= 1 stages")
    return C0 + (B - C0) * (t / T) ** (p + 1)


def _labels(clusters: torch.Tensor) -> torch.Tensor:
    """Cluster labels renumbered 0 .. K-1 in sorted order. (N,) long"""
    return torch.unique(clusters, return_inverse=True)[1].view(-1)


def value(chosen: torch.Tensor, cost: torch.Tensor, clusters: torch.Tensor, delta_D: float,
          beta: float) -> float:
    """F(S) = -(dD - dH(S)) + beta sum_k sqrt(|C_k n S|) (eq. 12).

    chosen (N,) bool is S, cost (N,) the delta_i, clusters (N,) an integer label per question.
    """
    spent = float(cost.double()[chosen].sum())                         # dH(S)
    counts = torch.bincount(_labels(clusters)[chosen])                 # (K',) |C_k n S|
    return -(delta_D - spent) + beta * float(counts.double().sqrt().sum())


def _gains(cost: torch.Tensor, labels: torch.Tensor, counts: torch.Tensor,
           beta: float) -> torch.Tensor:
    """Marginal gain of each element given the cluster counts of S: delta_x + beta
    (sqrt(n_k + 1) - sqrt(n_k)), k the element's cluster. (N,) float64"""
    n = counts[labels].double()                                        # (N,)
    return cost + beta * ((n + 1).sqrt() - n.sqrt())                   # (N,)


def _thresholds(top: float, floor: float, eps: float) -> list[float]:
    """top, top (1 - eps), ... while >= floor, then 0 (the final filling sweep)."""
    out, tau = [], top
    while tau >= floor and tau > 0 and len(out) < 10_000:              # a cap for extreme ratios
        out.append(tau)
        tau *= 1 - eps
    return out + [0.0]


def _threshold_greedy(cost: torch.Tensor, labels: torch.Tensor, start: torch.Tensor,
                      fits: torch.Tensor, room: float, beta: float, eps: float,
                      floor: float) -> torch.Tensor:
    """Threshold-greedy from `start` over the elements `fits` within `room`. (N,) bool

    At each threshold the gains are computed for all elements at once; the candidates are then
    re-checked one by one in index order, as earlier additions of the sweep change the counts.
    """
    chosen = start.clone()                                             # (N,) bool
    counts = torch.bincount(labels[chosen], minlength=int(labels.max()) + 1)  # (K,)
    c, lab = cost.tolist(), labels.tolist()
    top = float((_gains(cost, labels, counts, beta) / cost)[fits].max())
    for tau in _thresholds(top, floor, eps):
        gain = _gains(cost, labels, counts, beta)                      # (N,)
        cand = fits & ~chosen & (cost <= room + TOL) & (gain >= tau * cost)  # (N,) bool
        for i in cand.nonzero().view(-1).tolist():
            n = int(counts[lab[i]])
            g = c[i] + beta * (math.sqrt(n + 1) - math.sqrt(n))
            if c[i] <= room + TOL and g >= tau * c[i]:
                chosen[i] = True
                counts[lab[i]] += 1
                room -= c[i]
    return chosen


def select(cost: torch.Tensor, clusters: torch.Tensor, delta_D: float, beta: float,
           eligible: torch.Tensor | None = None, eps: float = 0.1) -> torch.Tensor:
    """S maximising F(S) subject to dH(S) <= dD (eq. 13), by threshold-greedy. (N,) bool

    cost (N,) the delta_i >= 0; clusters (N,) integer labels; eligible (N,) bool, default all.
    Eligible cost-0 elements are always taken (when dD >= 0); the result is the better of the
    greedy set and the best feasible singleton (with the free elements). dD < 0: nothing.
    """
    n = cost.shape[0]
    chosen = torch.zeros(n, dtype=torch.bool)                          # (N,)
    if delta_D < 0:
        return chosen
    eligible = torch.ones(n, dtype=torch.bool) if eligible is None else eligible.bool()
    cost = cost.double()                                               # (N,)
    labels = _labels(clusters)                                         # (N,)
    chosen |= eligible & (cost <= 0)                                   # free elements
    fits = eligible & ~chosen & (cost <= delta_D)                      # (N,) could fit alone
    if not bool(fits.any()):
        return chosen
    counts = torch.bincount(labels[chosen], minlength=int(labels.max()) + 1)  # (K,)
    singles = _gains(cost, labels, counts, beta).masked_fill(~fits, float("-inf"))  # (N,)
    best = int(singles.argmax())                                       # first of the ties
    floor = eps * float(singles[best]) / delta_D
    greedy = _threshold_greedy(cost, labels, chosen, fits, delta_D, beta, eps, floor)
    single = chosen.clone()
    single[best] = True
    if value(greedy, cost, clusters, delta_D, beta) >= value(single, cost, clusters, delta_D, beta):
        return greedy
    return single


def _prefix(difficulty: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """(P, n): P (N, n_max + 1) float64 with P[i, j] = sum_{l <= j} d_il (1-based, P[i, 0] = 0,
    constant past n_i), n (N,) long the step counts."""
    lengths = torch.tensor([len(d) for d in difficulty], dtype=torch.long)  # (N,)
    padded = pad_sequence([d.double().view(-1) for d in difficulty], batch_first=True)  # (N, n_max)
    zero = torch.zeros(len(difficulty), 1, dtype=torch.float64)        # (N, 1)
    return torch.cat([zero, padded.cumsum(1)], 1), lengths             # (N, n_max + 1), (N,)


def _checked(inputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """inputs as (N, 1) long, after checking 0 <= c_i <= n_i."""
    c = inputs.long().view(-1)                                         # (N,)
    if c.shape != lengths.shape or bool((c < 0).any()) or bool((c > lengths).any()):
        raise ValueError("inputs must hold one c_i in 0 .. n_i per question")
    return c.unsqueeze(1)                                              # (N, 1)


def step_costs(difficulty: list[torch.Tensor], inputs: torch.Tensor, step: int = 1) -> torch.Tensor:
    """delta_i = sum_{j = max(c_i - ds, 0) + 1 .. c_i} d_ij, the difficulty question i adds when
    it moves on by ds = `step` steps; 0 where c_i = 0. (N,) float64"""
    prefix, lengths = _prefix(difficulty)                              # (N, n_max + 1), (N,)
    c = _checked(inputs, lengths)                                      # (N, 1)
    lower = (c - step).clamp(min=0)                                    # (N, 1)
    return (prefix.gather(1, c) - prefix.gather(1, lower)).view(-1)    # (N,)


def remaining(difficulty: list[torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
    """h_i = sum_{j = c_i + 1 .. n_i} d_ij, the difficulty still generated (eq. 9). (N,) float64"""
    prefix, lengths = _prefix(difficulty)                              # (N, n_max + 1), (N,)
    c = _checked(inputs, lengths)                                      # (N, 1)
    return (prefix.gather(1, lengths.unsqueeze(1)) - prefix.gather(1, c)).view(-1)  # (N,)


@dataclass(frozen=True)
class Plan:
    """The whole schedule, computed before training.

    inputs   (T+1, N) long: c_i(t), the leading steps given as input at stage t; row T all 0
    budgets  D(t) for t = 0 .. T (eq. 10)
    spent    H(t) for t = 0 .. T (eq. 9): the difficulty generated at stage t
    chosen   |S(t)| for t = 0 .. T-1
    forced   questions with c_i(T-1) > 0, jumped to the full rationale at T
    """
    inputs: torch.Tensor
    budgets: list[float]
    spent: list[float]
    chosen: list[int]
    forced: int

    def at_epoch(self, epoch: int) -> torch.Tensor:
        """c_i at a training epoch: row min(epoch, T); past T the full rationale. (N,) long"""
        if epoch < 0:
            raise ValueError("epoch must be >= 0")
        return self.inputs[min(epoch, self.inputs.shape[0] - 1)]


def plan(difficulty: list[torch.Tensor], clusters: torch.Tensor, stages: int, c0_ratio: float = 0.3,
         p: float = 0.5, beta: float = 12.0, step: int = 1, eps: float = 0.1) -> Plan:
    """The progressive schedule over T = `stages` stages: stage 0 from c_i = n_i with budget C0,
    eq. 11 for t = 1 .. T-1, the full rationale at T. difficulty: N 1-D tensors of d_ij."""
    if stages < 1:
        raise ValueError("the schedule needs stages >= 1")
    if step < 1:
        raise ValueError("step (ds) must be >= 1")
    _, lengths = _prefix(difficulty)
    total = float(remaining(difficulty, torch.zeros_like(lengths)).sum())   # B
    budgets = [budget(t, stages, total, c0_ratio * total, p) for t in range(stages + 1)]
    c, spent_before = lengths.clone(), 0.0                             # (N,) c_i = n_i, H = 0
    rows, spent, chosen = [], [], []
    for t in range(stages):
        cost = step_costs(difficulty, c, step)                         # (N,)
        s = select(cost, clusters, budgets[t] - spent_before, beta, eligible=c > 0, eps=eps)
        c = torch.where(s, (c - step).clamp(min=0), c)                 # (N,)
        spent_before = float(remaining(difficulty, c).sum())
        rows.append(c)
        spent.append(spent_before)
        chosen.append(int(s.sum()))
    forced = int((c > 0).sum())
    rows.append(torch.zeros_like(c))
    spent.append(total)
    return Plan(torch.stack(rows), budgets, spent, chosen, forced)
