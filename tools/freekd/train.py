"""One seeded run of one mode: full-batch training of the K networks, the judge between them.

Each epoch (FreeKD's environment step):
    1. the networks' eval-mode outputs (no dropout) are the state and the teachers' targets;
    2. the judge samples a1 (who teaches each node) and a2 (whether its structure goes too);
    3. every network takes one Adam step on
           CE(labelled) + lambda_n L_node(nodes it receives) + lambda_s L_struct(their structures)
    4. the outputs after the step give the rewards; every `agent_every` epochs the judge takes a
       REINFORCE step on what it remembered.
Model selection is Planetoid's: each network's test accuracy at its best validation epoch.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .agent import REWARDS, Judge, Snapshot, node_features
from .losses import local_structure, node_kd, structure_kd
from .nets import GNN
from .views import eval_input, train_input


@dataclass
class Best:
    val: float = -1.0
    test: float = 0.0
    epoch: int = 0
    pred: torch.Tensor | None = None


@dataclass
class RunResult:
    best: list[Best]
    seconds_per_epoch: float
    teacher: torch.Tensor | None = None           # (N,) greedy a1 at the end (judge modes)


def _accuracy(logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor) -> float:
    total = int(mask.sum())
    return int((logits[mask].argmax(1) == y[mask]).sum()) / total if total else 0.0


@torch.no_grad()
def _outputs(nets, views, data):
    outs = []
    for net, view in zip(nets, views):
        net.eval()
        outs.append(net(*eval_input(view, data)))
    return [h for h, _ in outs], [z for _, z in outs]


def _fit_teacher(cfg, data, seed: int) -> torch.Tensor:
    """kd-teacher's deeper GNN trained alone; its logits at its best validation epoch."""
    torch.manual_seed(seed + 7919)
    net = GNN(cfg.teacher_arch or cfg.archs[0], data.num_features, cfg.n_classes,
              cfg.teacher_hidden, cfg.teacher_layers, cfg.dropout, cfg.heads)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best, best_logits = -1.0, None
    for _ in range(cfg.epochs):
        net.train()
        opt.zero_grad()
        _, z = net(data.x, data.edge_index)
        F.cross_entropy(z[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
        net.eval()
        with torch.no_grad():
            _, z = net(data.x, data.edge_index)
        acc = _accuracy(z, data.y, data.val_mask)
        if acc > best:
            best, best_logits = acc, z.clone()
    return best_logits


def _step(cfg, net, x, edge_index, data, targets, receive, centres, t_log_s):
    """A network's loss on this epoch's input; returns it (backward is the caller's)."""
    net.train()
    h, z = net(x, edge_index)
    loss = F.cross_entropy(z[data.train_mask], data.y[data.train_mask])
    if targets is not None and cfg.node_weight > 0:
        loss = loss + cfg.node_weight * node_kd(z, targets, receive, cfg.temperature)
    if t_log_s is not None and cfg.structure_weight > 0:
        s_log_s = local_structure(h, data.edge_index, cfg.kernel, cfg.structure_temperature)
        loss = loss + cfg.structure_weight * structure_kd(s_log_s, t_log_s, data.edge_index,
                                                          centres)
    return loss


def _targets(cfg, epoch, hs, zs, a1, data, teacher_logits):
    """This epoch's teachers, the same for every receiving network: (soft-label targets (N, C),
    the teachers' log S per edge (E,)), or None where the mode has none."""
    if cfg.mode == "base" or epoch <= cfg.warmup_epochs:
        return None, None
    if cfg.mode == "kd-teacher":
        return teacher_logits, None
    targets = torch.stack(zs)[a1, torch.arange(data.num_nodes)]                  # (N, C)
    log_s = torch.stack([local_structure(h, data.edge_index, cfg.kernel,
                                         cfg.structure_temperature) for h in hs])  # (K, E)
    return targets, log_s[a1[data.edge_index[1]], torch.arange(log_s.size(1))]  # (E,)


def _receiving(cfg, k: int, a1, a2, n: int):
    """The nodes network k learns on, and the centres whose structure it receives."""
    if cfg.mode == "kd-teacher":
        return torch.ones(n, dtype=torch.bool), None
    receive = a1 != k                                                            # (N,)
    return receive, receive & a2                                                 # (N,), (N,)


def _record(cfg, run, epoch, zs, losses, data, judge_stats) -> dict:
    names = cfg.net_names
    row = {"run": run, "seed": cfg.seed + run, "epoch": epoch, "mode": cfg.mode,
           "loss": {nm: round(v, 6) for nm, v in zip(names, losses)},
           "train_acc": {nm: _accuracy(z, data.y, data.train_mask) for nm, z in zip(names, zs)},
           "val_acc": {nm: _accuracy(z, data.y, data.val_mask) for nm, z in zip(names, zs)},
           "test_acc": {nm: _accuracy(z, data.y, data.test_mask) for nm, z in zip(names, zs)}}
    row.update(judge_stats)
    return row


def _judge_step(cfg, judge, opt, feats, hs, a1, a2, zs_before, zs_after, data, epoch):
    snap = Snapshot(zs_before, zs_after, data.y, data.train_mask, a1, a2, data.edge_index)
    r_node, r_struct = REWARDS[cfg.reward](snap)
    if cfg.judge == "rl":
        judge.remember(feats, hs, a1, a2, r_node, r_struct)
    stats = {"teacher_share": {nm: float((a1 == k).float().mean())
                               for k, nm in enumerate(cfg.net_names)},
             "structure_share": float(a2.float().mean()),
             "reward_node": float(r_node.mean()), "reward_structure": float(r_struct.mean())}
    if cfg.judge == "rl" and epoch % cfg.agent_every == 0:
        stats.update(judge.update(opt))
    return stats


def run_once(data, cfg, views, run: int, log=None) -> RunResult:
    """Train the K networks of `cfg.mode` on their views with seed cfg.seed + run (cfg
    resolved, as run.prepare gives it); `log(row)` per logged epoch."""
    seed = cfg.seed + run
    teacher_logits = _fit_teacher(cfg, data, seed) if cfg.mode == "kd-teacher" else None
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    nets = [GNN(a, data.num_features, cfg.n_classes, cfg.hidden, cfg.layers, cfg.dropout,
                cfg.heads) for a in cfg.archs]
    opts = [torch.optim.Adam(n.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            for n in nets]
    judge = judge_opt = None
    if cfg.mode in ("freekd", "freekd++"):
        judge = Judge(len(nets), cfg.n_classes, [cfg.hidden] * len(nets), cfg.agent_hidden,
                      entropy_coef=cfg.entropy_coef, momentum=cfg.baseline_momentum)
        judge_opt = torch.optim.Adam(judge.parameters(), lr=cfg.agent_lr)
    best = [Best() for _ in nets]
    hs, zs = _outputs(nets, views, data)
    start = time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        a1 = a2 = feats = None
        if judge is not None:
            feats = node_features(zs, data.y, data.train_mask)
            a1, a2 = judge.act(feats, hs) if cfg.judge == "rl" else _coin_flips(cfg, data, g)
        losses = []
        targets, t_log_s = _targets(cfg, epoch, hs, zs, a1, data, teacher_logits)
        for k, (net, opt, view) in enumerate(zip(nets, opts, views)):
            receive, centres = (None, None) if targets is None else \
                _receiving(cfg, k, a1, a2, data.num_nodes)
            opt.zero_grad()
            loss = _step(cfg, net, *train_input(view, data, g), data, targets, receive,
                         centres, t_log_s)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        hs_after, zs_after = _outputs(nets, views, data)
        stats = {} if judge is None else _judge_step(cfg, judge, judge_opt, feats, hs, a1, a2,
                                                     zs, zs_after, data, epoch)
        hs, zs = hs_after, zs_after
        _select(best, zs, data, epoch)
        if log is not None and (epoch % cfg.log_every == 0 or epoch == cfg.epochs):
            log(_record(cfg, run, epoch, zs, losses, data, stats))
    elapsed = (time.perf_counter() - start) / max(cfg.epochs, 1)
    teacher = None
    if judge is not None and cfg.judge == "rl":
        teacher, _ = judge.act(node_features(zs, data.y, data.train_mask), hs, greedy=True)
    return RunResult(best, elapsed, teacher)


def _coin_flips(cfg, data, g):
    """--judge random: a uniform teacher per node and a fair coin for its structure."""
    n = data.num_nodes
    return torch.randint(cfg.k, (n,), generator=g), torch.rand(n, generator=g) < 0.5


def _select(best: list[Best], zs, data, epoch: int) -> None:
    for b, z in zip(best, zs):
        val = _accuracy(z, data.y, data.val_mask)
        if val > b.val:
            b.val, b.test, b.epoch, b.pred = val, _accuracy(z, data.y, data.test_mask), epoch, \
                z.argmax(1)
