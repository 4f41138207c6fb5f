"""The reinforced knowledge judge: FreeKD's two policies, their states and rewards, REINFORCE.

Fixed by the paper's Fig. 2: a node-level policy theta maps a state s1_i to a1_i, which copy of
node i teaches; a structure-level policy delta maps s2_i (which includes a1_i) to a2_i, whether
the teacher's local structure around i is propagated; each has its own reward. Everything below
is thinkpipe's choice (the formulas are not available), each one an option:

    s1_i = [ p_k(i), CE_k(i) * lab_i, H(p_k(i)) ]_k , lab_i    standardised per column over
           the nodes, then [ W_k h_k(i) / |h_k(i)| ]_k              all detached
    s2_i = [ s1_i, onehot(a1_i) ]
    pi_theta(a1 | s1) = softmax(MLP_theta(s1))         categorical over the K networks
                        (K = 2: a Bernoulli over the direction)
    pi_delta(a2 | s2) = sigmoid(MLP_delta(s2))         Bernoulli
    L_agent = -mean_i [ A1_i log pi_theta(a1_i) + A2_i log pi_delta(a2_i) ]
              - c_H mean_i [ H(pi_theta) + H(pi_delta) ]
    A_i = (r_i - b) / std(r),  b <- m b + (1 - m) mean(r)   (moving baseline, per policy)

Rewards (REWARDS; `r_node` for theta, `r_struct` for delta), with l_k(i) the receiving loss of
losses.receiver_loss, before and after the GNN step the actions drove:

    loss-drop  r1_i = mean_{k != a1_i} [ l_k(i)_before - l_k(i)_after ]
               r2_i = the same averaged over i and its 1-hop neighbours
    gap        r1_i = g_{a1_i}(i) - mean_{k != a1_i} g_k(i),  g = p(y_i) where labelled, max_c p
               elsewhere (the teacher is the one that is right, or surer)
               r2_i = a2_i [ gbar_{a1_i}(i) - mean_{k != a1_i} gbar_k(i) ],  gbar = g averaged
               over i and its neighbours (0 when the structure is not passed)
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from .losses import entropy, neighbourhood_mean, receiver_loss


class Snapshot(NamedTuple):
    """The networks' outputs around one GNN step, for a reward."""
    before: list[torch.Tensor]   # K x (N, C) logits before the step (eval mode)
    after: list[torch.Tensor]    # K x (N, C) logits after it
    y: torch.Tensor              # (N,) labels (-1 unknown)
    labelled: torch.Tensor       # (N,) bool: the training labels the networks learn from
    teacher: torch.Tensor        # (N,) long a1
    structure: torch.Tensor      # (N,) bool a2
    edge_index: torch.Tensor     # (2, E)


def _receivers_mean(per_net: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """mean over k != a1_i of per_net[k, i]. (K, N), (N,) -> (N,)"""
    k = per_net.size(0)
    receive = torch.arange(k).unsqueeze(1) != teacher.unsqueeze(0)               # (K, N)
    return (per_net * receive).sum(0) / max(k - 1, 1)                            # (N,)


def loss_drop(s: Snapshot) -> tuple[torch.Tensor, torch.Tensor]:
    """The receivers' loss reduction on the node, and over its neighbourhood."""
    target = torch.stack(s.before)[s.teacher, torch.arange(s.teacher.numel())]   # (N, C)
    drop = torch.stack([receiver_loss(b, target, s.y, s.labelled)
                        - receiver_loss(a, target, s.y, s.labelled)
                        for b, a in zip(s.before, s.after)])                     # (K, N)
    near = torch.stack([neighbourhood_mean(d, s.edge_index) for d in drop])      # (K, N)
    return _receivers_mean(drop, s.teacher), _receivers_mean(near, s.teacher)


def gap(s: Snapshot) -> tuple[torch.Tensor, torch.Tensor]:
    """How much better the teacher is: its probability of the label where labelled, its
    confidence (largest probability) elsewhere, minus the receivers'; in [-1, 1]. Passing the
    structure earns the same advantage over the neighbourhood (a loss if the teacher is worse
    there); not passing it earns 0, so the structure reward depends on a2."""
    rows = torch.arange(s.teacher.numel())
    probs = [torch.softmax(b, -1) for b in s.before]                             # K x (N, C)
    g = torch.stack([torch.where(s.labelled, p.gather(1, s.y.clamp_min(0).unsqueeze(1))[:, 0],
                                 p.max(1).values) for p in probs])               # (K, N)
    near = torch.stack([neighbourhood_mean(v, s.edge_index) for v in g])         # (K, N)
    better_near = near[s.teacher, rows] - _receivers_mean(near, s.teacher)      # (N,)
    return g[s.teacher, rows] - _receivers_mean(g, s.teacher), better_near * s.structure


REWARDS: dict[str, Callable[[Snapshot], tuple[torch.Tensor, torch.Tensor]]] = {
    "loss-drop": loss_drop, "gap": gap}


def node_features(logits: list[torch.Tensor], y: torch.Tensor,
                  labelled: torch.Tensor) -> torch.Tensor:
    """s1 without the embeddings: per network p, masked CE, entropy; then the label flag."""
    lab = labelled.float().unsqueeze(1)                                          # (N, 1)
    parts = []
    for z in logits:
        ce = receiver_loss(z, z, y, labelled).unsqueeze(1) * lab                 # (N, 1)
        parts += [torch.softmax(z, -1), ce, entropy(z).unsqueeze(1)]
    return torch.cat(parts + [lab], 1).detach()                                  # (N, S)


class Judge(nn.Module):
    """Both policies; `act` samples (a1, a2), `update` takes one REINFORCE step."""

    def __init__(self, n_nets: int, n_classes: int, hidden_sizes: list[int], width: int = 64,
                 proj: int = 16, entropy_coef: float = 0.01, momentum: float = 0.9):
        super().__init__()
        self.k, self.entropy_coef, self.momentum = n_nets, entropy_coef, momentum
        self.proj = nn.ModuleList(nn.Linear(h, proj) for h in hidden_sizes)
        d = n_nets * (n_classes + 2 + proj) + 1
        self.theta = nn.Sequential(nn.Linear(d, width), nn.ReLU(), nn.Linear(width, n_nets))
        self.delta = nn.Sequential(nn.Linear(d + n_nets, width), nn.ReLU(), nn.Linear(width, 1))
        self.baselines = [0.0, 0.0]
        self._memory: list[tuple] = []

    def state(self, feats: torch.Tensor, embeddings: list[torch.Tensor]) -> torch.Tensor:
        projected = [p(F.normalize(h.detach(), dim=1)) for p, h in zip(self.proj, embeddings)]
        std, mean = torch.std_mean(feats, 0, keepdim=True)                       # (1, S)
        return torch.cat([(feats - mean) / (std + 1e-6)] + projected, 1)         # (N, D)

    def policies(self, s1: torch.Tensor, a1: torch.Tensor):
        node = torch.distributions.Categorical(logits=self.theta(s1))            # (N,) over K
        s2 = torch.cat([s1, nn.functional.one_hot(a1, self.k).float()], 1)       # (N, D + K)
        structure = torch.distributions.Bernoulli(logits=self.delta(s2).squeeze(1))
        return node, structure

    @torch.no_grad()
    def act(self, feats: torch.Tensor, embeddings: list[torch.Tensor], greedy: bool = False):
        s1 = self.state(feats, embeddings)
        node_logits = self.theta(s1)                                             # (N, K)
        a1 = node_logits.argmax(1) if greedy else \
            torch.distributions.Categorical(logits=node_logits).sample()         # (N,)
        _, structure = self.policies(s1, a1)
        a2 = (structure.probs > 0.5) if greedy else structure.sample().bool()    # (N,)
        return a1, a2

    def remember(self, feats, embeddings, a1, a2, r_node, r_struct) -> None:
        self._memory.append((feats, [h.detach() for h in embeddings], a1, a2, r_node, r_struct))

    def _advantage(self, r: torch.Tensor, which: int) -> torch.Tensor:
        b = self.baselines[which]
        self.baselines[which] = self.momentum * b + (1 - self.momentum) * float(r.mean())
        return (r - b) / (r.std() + 1e-8)                                        # (N,)

    def update(self, optimizer: torch.optim.Optimizer) -> dict:
        """One REINFORCE step over the transitions remembered since the last one."""
        losses, stats = [], {"policy_entropy": 0.0}
        for feats, embeddings, a1, a2, r_node, r_struct in self._memory:
            node, structure = self.policies(self.state(feats, embeddings), a1)
            adv1, adv2 = self._advantage(r_node, 0), self._advantage(r_struct, 1)
            ent = node.entropy().mean() + structure.entropy().mean()
            losses.append(-(adv1 * node.log_prob(a1)).mean()
                          - (adv2 * structure.log_prob(a2.float())).mean()
                          - self.entropy_coef * ent)
            stats["policy_entropy"] = float(ent.detach())
        self._memory.clear()
        if losses:
            optimizer.zero_grad()
            torch.stack(losses).mean().backward()
            optimizer.step()
        return stats
