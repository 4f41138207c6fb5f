"""Runs of a mode over seeds: the graph in, prediction records and metrics out, a summary last.

Metrics lines (--metrics FILE): one per logged epoch (run, seed, epoch, loss, train/val/test
accuracy per network, and for the judge modes teacher_share per network, structure_share,
reward_node, reward_structure, policy_entropy), one per run ({"run_summary": true, ...}: each
network's best validation epoch and the test accuracy there, seconds per epoch), and last
{"summary": true, "mode", "runs", "test_acc_mean", "test_acc_std", "nets": {...}} where a run's
test accuracy is the mean over its networks and the std is over runs (the sample std, as
papers report "mean +- std" over seeds).
"""
from __future__ import annotations

import logging
import statistics

from thinkpipe.core.progress import current

from .train import run_once

__all__ = ["load_graph", "prepare", "run", "summary"]

log = logging.getLogger("thinkpipe.freekd")
SPLIT_NAMES = ("train", "val", "test")


def load_graph(planetoid: str | None = None, name: str = "cora", pyg: str | None = None,
               items=None, edges: str | None = None, synthetic: int | None = None,
               seed: int = 0):
    """The graph from exactly one source (the CLI checks there is one)."""
    from . import graph
    if planetoid:
        return graph.planetoid(planetoid, name)
    if pyg:
        return graph.pyg_saved(pyg)
    if synthetic:
        return graph.synthetic(synthetic, seed=seed)
    return graph.from_records(items, edges)


def _std(values: list[float]) -> float:
    return statistics.stdev(values) if len(values) > 1 else 0.0


def summary(cfg, results) -> dict:
    per_run = [statistics.fmean(b.test for b in r.best) for r in results]
    nets = {}
    for k, nm in enumerate(cfg.net_names):
        tests = [r.best[k].test for r in results]
        nets[nm] = {"arch": cfg.archs[k], "view": cfg.views[k],
                    "test_acc_mean": statistics.fmean(tests), "test_acc_std": _std(tests),
                    "val_acc_mean": statistics.fmean(r.best[k].val for r in results)}
    return {"summary": True, "mode": cfg.mode, "runs": len(results),
            "test_acc_mean": statistics.fmean(per_run), "test_acc_std": _std(per_run),
            "nets": nets,
            "seconds_per_epoch": statistics.fmean(r.seconds_per_epoch for r in results)}


def _run_summary(cfg, run: int, result) -> dict:
    return {"run_summary": True, "run": run, "seed": cfg.seed + run, "mode": cfg.mode,
            "best_epoch": {nm: b.epoch for nm, b in zip(cfg.net_names, result.best)},
            "val_acc": {nm: b.val for nm, b in zip(cfg.net_names, result.best)},
            "test_acc": {nm: b.test for nm, b in zip(cfg.net_names, result.best)},
            "seconds_per_epoch": result.seconds_per_epoch}


def predictions(cfg, data, result):
    """One record per node from the first run: each network's prediction at its best epoch."""
    split = data.train_mask.long() * 1 + data.val_mask.long() * 2 + data.test_mask.long() * 3
    for i, nid in enumerate(data.ids):
        label = int(data.y[i])
        record = {"id": nid, "label": None if label < 0 else label,
                  "split": SPLIT_NAMES[int(split[i]) - 1] if split[i] else None,
                  "pred": {nm: int(b.pred[i]) for nm, b in zip(cfg.net_names, result.best)}}
        if result.teacher is not None:
            record["teacher"] = cfg.net_names[int(result.teacher[i])]
        yield record


def prepare(data, cfg):
    """(data, cfg, views) ready to run: features normalised, every per-network field of cfg
    resolved for the graph, the views parsed. ValueError when they do not fit the graph."""
    from .views import parse
    for split, why in (("train", "to learn from"), ("val", "to choose each network's epoch"),
                       ("test", "to report accuracy on")):
        if not bool(data[f"{split}_mask"].any()):
            raise ValueError(f"the graph has no {split} nodes (split \"{split}\") {why}")
    cfg = cfg.resolved(int(data.y.max()) + 1)
    if cfg.normalize_features:
        data = data.clone()
        data.x = data.x / data.x.abs().sum(1, keepdim=True).clamp_min(1e-12)
    return data, cfg, [parse(v, data) for v in cfg.views]


def run(data, cfg, views, out, metrics) -> dict:
    """cfg.runs seeded runs (data, cfg and views from `prepare`); prediction records of the
    first to `out` (a RecordWriter), every metrics line to `metrics` (a core.train Metrics);
    returns the summary record."""
    progress = current()
    progress.begin("epochs", total=cfg.runs * cfg.epochs)
    results = []
    for r in range(cfg.runs):
        def logged(row):
            progress.advance(cfg.log_every if row["epoch"] % cfg.log_every == 0 else 1)
            metrics.log(row)
        result = run_once(data, cfg, views, r, logged)
        metrics.log(_run_summary(cfg, r, result))
        if r == 0:
            out.write_many(predictions(cfg, data, result))
        results.append(result)
        log.info("run %d (seed %d): test accuracy %s", r + 1, cfg.seed + r,
                 ", ".join(f"{nm} {b.test:.3f}" for nm, b in zip(cfg.net_names, result.best)))
    record = summary(cfg, results)
    metrics.log(record)
    log.info("%s over %d run(s): test accuracy %.2f%% +- %.2f", cfg.mode, cfg.runs,
             100 * record["test_acc_mean"], 100 * record["test_acc_std"])
    return record
