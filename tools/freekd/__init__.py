"""freekd: free-direction knowledge distillation between GNNs (FreeKD, KDD 2022; FreeKD++).

Two shallow GNNs Phi and Psi (any of GCN, GAT, GraphSAGE; PyTorch Geometric) train together;
a reinforced knowledge judge decides per node which network teaches the other (node-level
action; KD on soft labels after the FC layer) and whether the teacher's local structure around
the node goes too (structure-level action; LSP-style similarity distributions over the 1-hop
neighbourhood, on the embeddings before the FC layer). FreeKD++ runs K networks on K views of
the graph and the judge picks each node's teacher among the K.

Departures: the paper's full text is not available (only its abstract and framework figure),
so the state, rewards, RL algorithm, structure similarity and every hyperparameter are our
choices (agent.py, losses.py, views.py say which), each an option. `--mode base` trains the
networks alone and `--mode kd-teacher` distils a deeper GNN into each: the paper's rows.

    freekd --planetoid ../shared/data/planetoid --name cora --runs 10 --metrics m.jsonl > pred.jsonl
    freekd --synthetic 700 --mode freekd++ --arch gcn,gat,sage --metrics m.jsonl > pred.jsonl
    freekd --edges edges.tsv --mode base --arch sage nodes.jsonl > pred.jsonl
"""
from __future__ import annotations

from dataclasses import dataclass

MODES = ("freekd", "freekd++", "base", "kd-teacher")
JUDGES = ("rl", "random")
NET_NAMES = ("phi", "psi")
DEFAULT_VIEWS = ("original", "features:0.2", "edges:0.2")


@dataclass(frozen=True)
class FreeKDConfig:
    mode: str = "freekd"                 # freekd | freekd++ | base | kd-teacher
    archs: tuple = ("gcn",)              # one GNN architecture per network (one: all the same)
    networks: int = 0                    # K; 0: 2, or one per view for freekd++
    views: tuple = ()                    # view specs per network (views.py); () by mode
    normalize_features: bool = True      # rows of x scaled to sum 1 (PyG's NormalizeFeatures)
    hidden: int = 64                     # embedding width h of every network
    layers: int = 2                      # message-passing layers of every network
    dropout: float = 0.5                 # dropout before each layer and the FC layer
    heads: int = 8                       # GAT attention heads (hidden is split over them)
    teacher_arch: str = ""               # kd-teacher's architecture ("": the first of archs)
    teacher_hidden: int = 128            # kd-teacher's width
    teacher_layers: int = 3              # kd-teacher's depth (deeper than the students)
    epochs: int = 200                    # full-batch training epochs per run
    lr: float = 0.01                     # Adam learning rate of the networks
    weight_decay: float = 5e-4           # their L2 weight decay
    temperature: float = 1.0             # tau of node-level KD (tau^2-scaled)
    node_weight: float = 1.0             # lambda_n, node-level KD weight
    structure_weight: float = 1.0        # lambda_s, structure-level KD weight
    kernel: str = "cosine"               # local-structure similarity: cosine | rbf | linear
    structure_temperature: float = 0.1   # tau_s of the cosine kernel
    judge: str = "rl"                    # rl (the two policies) | random (coin flips, ablation)
    reward: str = "gap"                  # agent.REWARDS entry
    agent_every: int = 1                 # a REINFORCE step every this many epochs
    agent_lr: float = 1e-3               # the judge's Adam learning rate
    agent_hidden: int = 64               # width of each policy's MLP
    entropy_coef: float = 0.01           # policy entropy bonus c_H
    baseline_momentum: float = 0.9       # moving reward baseline m
    warmup_epochs: int = 0               # epochs of cross-entropy alone before any transfer
    runs: int = 1                        # seeds seed .. seed + runs - 1
    seed: int = 0                        # first run's seed
    log_every: int = 1                   # a metrics line every this many epochs
    n_classes: int = 0                   # set from the graph

    def __post_init__(self):
        from .losses import KERNELS
        from .nets import ARCHS
        from .agent import REWARDS
        checks = [(self.mode in MODES, f"--mode must be one of {', '.join(MODES)}"),
                  (all(a in ARCHS for a in self.archs) and self.archs,
                   f"--arch takes {', '.join(ARCHS)} (a comma list: one per network)"),
                  (self.judge in JUDGES, f"--judge must be one of {', '.join(JUDGES)}"),
                  (self.kernel in KERNELS, f"--kernel must be one of {', '.join(KERNELS)}"),
                  (self.reward in REWARDS, f"--reward must be one of {', '.join(REWARDS)}"),
                  (self.networks in (0,) or self.networks >= 2, "--networks must be at least 2"),
                  (self.mode == "freekd++" or self.networks in (0, 2),
                   "--networks K > 2 is FreeKD++: give --mode freekd++")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        k = self.k
        if len(self.archs) not in (1, k):
            raise ValueError(f"--arch names {len(self.archs)} architectures for {k} networks")
        if self.views and len(self.views) != k:
            raise ValueError(f"--views names {len(self.views)} views for {k} networks")

    @property
    def k(self) -> int:
        if self.networks:
            return self.networks
        if self.views:
            return len(self.views)
        if self.mode != "freekd++":
            return 2
        return len(self.archs) if len(self.archs) > 1 else len(DEFAULT_VIEWS)

    def resolved(self, n_classes: int) -> "FreeKDConfig":
        """Every per-network field spelled out, for a graph of n_classes."""
        import dataclasses
        k = self.k
        augmented = [DEFAULT_VIEWS[0]] + [DEFAULT_VIEWS[1 + i % 2] for i in range(k - 1)]
        views = self.views or (augmented if self.mode == "freekd++" else ["original"] * k)
        archs = self.archs * k if len(self.archs) == 1 else self.archs
        return dataclasses.replace(self, networks=k, views=tuple(views), archs=tuple(archs),
                                   n_classes=n_classes)

    @property
    def net_names(self) -> list[str]:
        return [NET_NAMES[i] if i < 2 else f"net{i + 1}" for i in range(self.k)]


from .run import load_graph, prepare, run  # noqa: E402  (run.py takes the config above)

__all__ = ["FreeKDConfig", "MODES", "JUDGES", "load_graph", "prepare", "run"]
