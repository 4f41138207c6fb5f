"""FreeKD's distillation maths as pure functions over tensors: node KD, local structure, rewards.

Notation (FreeKD, Feng et al. KDD 2022, Fig. 2; the paper's formulas are not available, see
the man page): K networks (Phi, Psi, ... ; K = 2 for FreeKD) on N nodes with C classes give
logits z_k (N, C) after their FC layer and embeddings h_k (N, H_k) before it. The node-level
action a1_i in {0..K-1} names node i's teacher; the structure-level action a2_i in {0, 1} says
whether the teacher's local structure around i is propagated as well.

    node KD        L_node^k = (1/|I_k|) sum_{i in I_k} tau^2 KL(p_t(i)^tau || p_k^tau)(i)
                   I_k = {i : a1_i != k}, p^tau = softmax(z / tau), teacher detached
    local structure (LSP, Yang et al. CVPR 2020): for an edge (j -> i), i the centre,
                   S_ij = exp(sim(h_i, h_j)) / sum_{l in N(i)} exp(sim(h_i, h_l))
                   sim: "rbf"  -||h_i - h_j||^2 / 2      "linear"  h_i . h_j
                        "cosine" cos(h_i, h_j) / tau_s
    structure KD   L_struct^k = (1/|J_k|) sum_{i in J_k} KL(S_t(i)(i, .) || S_k(i, .))
                   J_k = {i : a1_i != k, a2_i = 1, deg(i) > 0}

The per-node losses each network's receiving side is judged by (the rewards' raw material):

    l_k(i) = CE(p_k(i), y_i)                if i is labelled
             KL(p_t(i)(i) || p_k(i))        otherwise (agreement with its teacher)

Third-party code that calls itself FreeKD (see the paper notes, S.1.3) detaches these losses so
they never train anything; here they are ordinary terms of each network's loss.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch_geometric.utils import scatter, softmax


def kl_rows(p_teacher_log: torch.Tensor, p_student_log: torch.Tensor) -> torch.Tensor:
    """KL(p_t || p_s) per row from log-probabilities. (N, C), (N, C) -> (N,)"""
    return (p_teacher_log.exp() * (p_teacher_log - p_student_log)).sum(-1)          # (N,)


def node_kd(student_logits: torch.Tensor, teacher_logits: torch.Tensor, receive: torch.Tensor,
            tau: float = 1.0) -> torch.Tensor:
    """tau^2-scaled KL from the (detached) teacher's soft labels, mean over receiving nodes.

    student_logits, teacher_logits (N, C); receive (N,) bool: the nodes this network learns on.
    """
    if not bool(receive.any()):
        return student_logits.sum() * 0.0
    t = F.log_softmax(teacher_logits.detach()[receive] / tau, -1)                  # (M, C)
    s = F.log_softmax(student_logits[receive] / tau, -1)                           # (M, C)
    return tau * tau * kl_rows(t, s).mean()


def _sim_rbf(hi: torch.Tensor, hj: torch.Tensor, tau: float) -> torch.Tensor:
    return -0.5 * (hi - hj).pow(2).sum(-1)                                         # (E,)


def _sim_linear(hi: torch.Tensor, hj: torch.Tensor, tau: float) -> torch.Tensor:
    return (hi * hj).sum(-1)                                                       # (E,)


def _sim_cosine(hi: torch.Tensor, hj: torch.Tensor, tau: float) -> torch.Tensor:
    return F.cosine_similarity(hi, hj, dim=-1) / tau                               # (E,)


KERNELS: dict[str, Callable] = {"rbf": _sim_rbf, "linear": _sim_linear, "cosine": _sim_cosine}


def local_structure(h: torch.Tensor, edge_index: torch.Tensor, kernel: str = "cosine",
                    tau: float = 0.1) -> torch.Tensor:
    """Log S_ij for every edge (j -> i): a softmax over each centre i's neighbours.

    h (N, H); edge_index (2, E) with row 0 the neighbour j and row 1 the centre i (PyG's
    source -> target). Returns (E,) log-probabilities; exp sums to 1 over each centre's edges.
    """
    j, i = edge_index                                                              # (E,), (E,)
    sim = KERNELS[kernel](h[i], h[j], tau)                                         # (E,)
    return softmax(sim, i, num_nodes=h.size(0)).clamp_min(1e-12).log()           # (E,)


def structure_kd(student_log_s: torch.Tensor, teacher_log_s: torch.Tensor,
                 edge_index: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """KL(S_teacher(i, .) || S_student(i, .)) summed over i's edges, mean over chosen centres.

    student_log_s, teacher_log_s (E,) from `local_structure`; centres (N,) bool.
    """
    i = edge_index[1]                                                              # (E,)
    chosen = centres[i]                                                            # (E,)
    if not bool(chosen.any()):
        return student_log_s.sum() * 0.0
    t = teacher_log_s.detach()                                                     # (E,)
    per_edge = (t.exp() * (t - student_log_s)) * chosen                            # (E,)
    per_centre = scatter(per_edge, i, dim=0, dim_size=centres.numel(), reduce="sum")   # (N,)
    has = centres & (scatter(chosen.float(), i, dim=0, dim_size=centres.numel()) > 0)  # (N,)
    return per_centre[has].mean() if bool(has.any()) else per_edge.sum() * 0.0


def receiver_loss(logits: torch.Tensor, teacher_logits: torch.Tensor, y: torch.Tensor,
                  labelled: torch.Tensor) -> torch.Tensor:
    """l_k(i): cross-entropy where labelled, KL to the teacher's distribution elsewhere. (N,)"""
    logp = F.log_softmax(logits, -1)                                               # (N, C)
    ce = -logp.gather(1, y.clamp_min(0).unsqueeze(1)).squeeze(1)                   # (N,)
    agree = kl_rows(F.log_softmax(teacher_logits, -1), logp)                       # (N,)
    return torch.where(labelled, ce, agree)                                        # (N,)


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy of softmax(logits) per row. (N, C) -> (N,)"""
    logp = F.log_softmax(logits, -1)                                               # (N, C)
    return -(logp.exp() * logp).sum(-1)                                            # (N,)


def neighbourhood_mean(values: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Mean of values over each node and its 1-hop neighbours (the local structure). (N,)"""
    n = values.numel()
    j, i = edge_index
    total = values + scatter(values[j], i, dim=0, dim_size=n, reduce="sum")        # (N,)
    count = 1 + scatter(torch.ones_like(values[j]), i, dim=0, dim_size=n, reduce="sum")
    return total / count                                                           # (N,)
