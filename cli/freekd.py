"""freekd: free-direction knowledge distillation between GNNs (tools/freekd)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

from .options import Config, Format, Inputs, Output, ProgressEvery, Quiet, Seed, Verbose
from .options import comma_list as _list
from .options import panel_option as _opt
from .train_options import TRACKERS_MAN, ReportTo, RunName
from .runner import guard, records, usage_errors

GRAPH, NETS, KD, JUDGE, RUNS = ("Graph", "Networks", "Distillation", "Knowledge judge (RL)",
                                "Runs and metrics")

EXAMPLES = """\
freekd --planetoid ../shared/data/planetoid --name cora --metrics m.jsonl > pred.jsonl
freekd --planetoid ../shared/data/planetoid --name cora --mode base --arch gat --runs 10 --metrics base.jsonl > /dev/null
freekd --synthetic 700 --mode freekd++ --arch gcn,gat,sage --metrics m.jsonl > pred.jsonl
freekd --edges edges.tsv --mode kd-teacher nodes.jsonl > pred.jsonl
tail -1 m.jsonl | jq '{mode, test_acc_mean, test_acc_std}'
"""

MAN_SECTIONS = {"Paper and our choices": """\
Follows the paper (Feng et al., KDD 2022, framework figure and abstract; the full text and
code are not available): two shallow GNNs Phi and Psi of any architecture, each with its own
FC classifier, trained together with cross-entropy plus a node distillation loss and a
structure distillation loss; a reinforced knowledge judge with two policies, node-level
(state -> which copy of each node is the teacher) and structure-level (a state that includes
the node-level action -> whether the teacher's local structure, the node and its 1-hop
neighbours, is propagated too), each with its own reward; node-level KD on the soft labels
after the FC layer, structure-level KD on the embeddings before it; transfer in both
directions within one step. FreeKD++: several GNNs on several views of the graph.

Our choices, each an option. State: each network's predicted distribution, its
cross-entropy on labelled nodes (0 elsewhere) and its entropy, plus the labelled flag, each
column standardised over the nodes, then a learned projection of each network's normalised
embedding; the structure state adds the one-hot node action. Policies: 2-layer MLPs
(--agent-hidden) trained by REINFORCE with a moving baseline and standardised advantages
(--baseline-momentum, --entropy-coef), a step every --agent-every epochs.

Rewards (--reward). gap, the default: the teacher's probability of the label (labelled nodes)
or its largest probability (elsewhere) minus the receivers'; passing the structure earns the
same advantage averaged over the node's neighbourhood, not passing it earns 0 (so the
structure reward depends on the structure action). loss-drop: the receiving network's loss
reduction on the node over the step (cross-entropy where labelled, KL to the teacher
elsewhere), over the neighbourhood for the structure. One step moves every node's loss, so
loss-drop's per-node signal is noisy: on a toy graph whose better network is known it gave
78% of the nodes the right teacher after 100 epochs against gap's 99%
(tests/tools/freekd/test_agent.py's graph).

Losses: node KD is tau^2 KL at --temperature; structure KD is LSP's (Yang et al. 2020) KL
between softmaxes of centre-neighbour similarities (--kernel, --structure-temperature).
FreeKD++ (K networks, --networks or one per --views entry): one judge picks each node's
teacher among the K (a categorical policy; for K = 2 it is FreeKD's Bernoulli) and every other
network learns from it; the default views are the original graph, feature masking and edge
dropping (drawn anew each epoch, training only); a view may also be a PyG saved graph of the
same nodes. --judge random replaces the policies by coin flips: the ablation that shows what
the RL adds.

Protocol: full-batch training, Adam (lr 0.01, weight decay 5e-4), dropout 0.5, 200 epochs,
row-normalised features, and for each network the test accuracy at its best validation epoch
(Planetoid's public split: 20 labelled nodes per class, 500 validation, 1000 test). --runs N
repeats with seeds --seed .. --seed+N-1; the last metrics line is {"summary": true, "mode",
"runs", "test_acc_mean", "test_acc_std", "nets"}, a run's accuracy being the mean over its
networks and the std the sample std over runs. kd-teacher trains a deeper GNN
(--teacher-layers, --teacher-hidden) alone, then distils its soft labels into each network.

Records: stdout has one record per node from the first run: id, label, split, pred (each
network's class at its best epoch) and, with a judge, teacher (its greedy choice at the end).
Node records in are {"id", "features": [..], "label": int or null, "split":
"train"|"val"|"test"|other}; --edges is a text edge list (SOURCE TARGET per line) or records
with source and target; edges are made undirected.
""", "Experiment trackers": TRACKERS_MAN}


class Mode(str, Enum):
    freekd = "freekd"
    freekd_pp = "freekd++"
    base = "base"
    kd_teacher = "kd-teacher"


class Kernel(str, Enum):
    cosine = "cosine"
    rbf = "rbf"
    linear = "linear"


class Reward(str, Enum):
    loss_drop = "loss-drop"
    gap = "gap"


class JudgeKind(str, Enum):
    rl = "rl"
    random = "random"


def freekd(
    inputs: Inputs = None,
    planetoid: Annotated[Optional[str], _opt("--planetoid", GRAPH, "A folder of Planetoid raw "
                                             "files (DIR/ind.NAME.x, ...).", metavar="DIR")] = None,
    name: Annotated[str, _opt("--name", GRAPH, "The Planetoid dataset: cora, citeseer or "
                              "pubmed.")] = "cora",
    pyg: Annotated[Optional[str], _opt("--pyg", GRAPH, "A PyG graph saved with torch.save "
                                       "(unpickled: only files you trust).",
                                       metavar="FILE")] = None,
    edges: Annotated[Optional[str], _opt("--edges", GRAPH, "The edge list of the node records "
                                         "read from the inputs.", metavar="FILE")] = None,
    synthetic: Annotated[Optional[int], _opt("--synthetic", GRAPH, "A Cora-like stochastic "
                                             "block model graph of N nodes (--seed).",
                                             metavar="N", min=50)] = None,
    normalize_features: Annotated[bool, _opt("--normalize-features/--raw-features", GRAPH,
                                             "Row-normalise node features.")] = True,
    mode: Annotated[Mode, _opt("--mode", KD, "freekd, freekd++ (K networks on K views), base "
                               "(each network alone) or kd-teacher (KD from a deeper GNN).")] = Mode.freekd,
    arch: Annotated[str, _opt("--arch", NETS, "gcn, gat or sage; a comma list gives one per "
                              "network.")] = "gcn",
    networks: Annotated[int, _opt("--networks", NETS, "K networks (FreeKD++; 0: 2, or one per "
                                  "view).", min=0)] = 0,
    views: Annotated[Optional[str], _opt("--views", NETS, "Comma list of views, one per network: "
                                         "original, features:RATE, edges:RATE or a PyG file.",
                                         metavar="LIST")] = None,
    hidden: Annotated[int, _opt("--hidden", NETS, "Embedding width.", min=1)] = 64,
    layers: Annotated[int, _opt("--layers", NETS, "Message-passing layers.", min=1)] = 2,
    dropout: Annotated[float, _opt("--dropout", NETS, "Dropout rate.", min=0.0, max=0.95)] = 0.5,
    heads: Annotated[int, _opt("--heads", NETS, "GAT attention heads.", min=1)] = 8,
    teacher_arch: Annotated[Optional[str], _opt("--teacher-arch", KD, "kd-teacher's GNN (default: "
                                                "the first --arch).")] = None,
    teacher_hidden: Annotated[int, _opt("--teacher-hidden", KD, "kd-teacher's width.", min=1)] = 128,
    teacher_layers: Annotated[int, _opt("--teacher-layers", KD, "kd-teacher's depth.", min=1)] = 3,
    temperature: Annotated[float, _opt("--temperature", KD, "Node-level KD temperature.",
                                       min=1e-3)] = 1.0,
    node_weight: Annotated[float, _opt("--node-weight", KD, "Node-level KD weight.", min=0.0)] = 1.0,
    structure_weight: Annotated[float, _opt("--structure-weight", KD, "Structure-level KD weight.",
                                            min=0.0)] = 1.0,
    kernel: Annotated[Kernel, _opt("--kernel", KD, "Local-structure similarity.")] = Kernel.cosine,
    structure_temperature: Annotated[float, _opt("--structure-temperature", KD, "The cosine "
                                                 "kernel's temperature.", min=1e-3)] = 0.1,
    warmup_epochs: Annotated[int, _opt("--warmup-epochs", KD, "Epochs of cross-entropy alone "
                                       "first.", min=0)] = 0,
    judge: Annotated[JudgeKind, _opt("--judge", JUDGE, "rl, or random (coin flips: the "
                                     "ablation).")] = JudgeKind.rl,
    reward: Annotated[Reward, _opt("--reward", JUDGE, "gap (the teacher's advantage on the node) "
                                   "or loss-drop (the receiver's loss reduction).")] = Reward.gap,
    agent_every: Annotated[int, _opt("--agent-every", JUDGE, "A policy step every N epochs.",
                                     min=1)] = 1,
    agent_lr: Annotated[float, _opt("--agent-lr", JUDGE, "The policies' learning rate.",
                                    min=0.0)] = 1e-3,
    agent_hidden: Annotated[int, _opt("--agent-hidden", JUDGE, "Policy MLP width.", min=1)] = 64,
    entropy_coef: Annotated[float, _opt("--entropy-coef", JUDGE, "Policy entropy bonus.",
                                        min=0.0)] = 0.01,
    baseline_momentum: Annotated[float, _opt("--baseline-momentum", JUDGE, "Moving reward "
                                             "baseline momentum.", min=0.0, max=1.0)] = 0.9,
    epochs: Annotated[int, _opt("--epochs", RUNS, "Training epochs per run.", min=1)] = 200,
    lr: Annotated[float, _opt("--lr", RUNS, "The networks' Adam learning rate.", min=0.0)] = 0.01,
    weight_decay: Annotated[float, _opt("--weight-decay", RUNS, "Their weight decay.",
                                        min=0.0)] = 5e-4,
    runs: Annotated[int, _opt("--runs", RUNS, "Runs with seeds --seed .. --seed+N-1; a summary "
                              "record (mean +- std) ends the metrics.", min=1)] = 1,
    metrics: Annotated[Optional[str], _opt("--metrics", RUNS, "Metrics JSONL (per epoch, per run, "
                                           "the summary).", metavar="FILE")] = None,
    log_every: Annotated[int, _opt("--log-every", RUNS, "A metrics line every N epochs.",
                                   min=1)] = 1,
    report_to: ReportTo = "none",
    run_name: RunName = None,
    output: Output = None,
    fmt: Format = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Free-direction knowledge distillation between two graph neural networks, the
    direction chosen per node by hierarchical reinforcement learning (FreeKD/FreeKD++).

    The graph comes from Planetoid raw files (--planetoid), a PyG saved graph (--pyg), node
    records with --edges, or --synthetic N. Each node's prediction records go to stdout;
    per-epoch metrics, one line per run and a mean +- std summary go to --metrics.
    """
    with guard("freekd", verbose, quiet, progress_every):
        from thinkpipe.core.errors import UsageError
        sources = [s for s in (planetoid, pyg, synthetic, edges) if s]
        if len(sources) != 1:
            raise UsageError("give one graph: --planetoid DIR, --pyg FILE, --synthetic N or "
                             "--edges FILE with node records")
        if inputs and not edges:
            raise UsageError("node records are read with --edges FILE (their edge list)")
        from thinkpipe.tools.freekd import FreeKDConfig, load_graph, prepare, run
        with usage_errors():
            cfg = FreeKDConfig(
                mode=mode.value, archs=_list(arch), networks=networks, views=_list(views),
                normalize_features=normalize_features, hidden=hidden, layers=layers,
                dropout=dropout, heads=heads, teacher_arch=teacher_arch or "",
                teacher_hidden=teacher_hidden, teacher_layers=teacher_layers, epochs=epochs,
                lr=lr, weight_decay=weight_decay, temperature=temperature,
                node_weight=node_weight, structure_weight=structure_weight, kernel=kernel.value,
                structure_temperature=structure_temperature, judge=judge.value,
                reward=reward.value, agent_every=agent_every, agent_lr=agent_lr,
                agent_hidden=agent_hidden, entropy_coef=entropy_coef,
                baseline_momentum=baseline_momentum, warmup_epochs=warmup_epochs, runs=runs,
                seed=seed, log_every=log_every)
        from thinkpipe.core.records import RecordWriter
        import os

        from thinkpipe.core.train import trackers
        from thinkpipe.core.train.metrics import Metrics, NullMetrics
        with usage_errors():
            trackers.check(trackers.parse(report_to))
        if edges:
            with records(inputs, "fail") as stream:
                data = load_graph(items=stream.items, edges=edges)
        else:
            data = load_graph(planetoid=planetoid, name=name, pyg=pyg, synthetic=synthetic,
                              seed=seed)
        with usage_errors():
            data, cfg, parsed_views = prepare(data, cfg)
        report = trackers.open_report(report_to, trackers.file_run(
            metrics, cfg, run_name or f"freekd-{cfg.mode}"))
        log_to = Metrics(metrics or os.devnull, report=report) if metrics or report \
            else NullMetrics()   # predictions own stdout
        try:
            with RecordWriter(output, fmt.value if fmt else None) as out:
                run(data, cfg, parsed_views, out, log_to)
        finally:
            log_to.close()
