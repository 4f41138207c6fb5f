"""Meta-training: one optimiser step of the hypernetwork per sampled task, on the loss of the
network it predicts (episodes.py). Validation every `eval_every` episodes on fixed tasks;
the checkpoint (-o) is rewritten every `checkpoint_every` episodes and on Ctrl-C, and
`resume` continues one from its episode, optimiser and sampler state.
"""
from __future__ import annotations

import logging
import time

import numpy as np
import torch

from thinkpipe.core.progress import current

from . import episodes
from .predict import build_hyper, save_hyper
from .targets import build

log = logging.getLogger("thinkpipe.pudnet")


def _task_loss(hyper, net, data, classes, cfg, rng, gen, query_split="train"):
    """(loss, accuracy or None) of one sampled task."""
    if cfg.task == "denoise":
        pool = data.where(query_split, classes)
        pick = rng.choice(pool, size=min(cfg.ways * cfg.shots, len(pool)), replace=False)
        return episodes.denoise(hyper, net, data.images[pick], cfg, gen), None
    task = episodes.sample(data, classes, cfg.ways, cfg.shots, cfg.queries, rng, query_split)
    return episodes.classify(hyper, net, task)


@torch.no_grad()
def validate(hyper, net, data, classes, cfg) -> dict:
    """Mean loss (and query accuracy) over cfg.eval_tasks fixed tasks whose queries come from
    the test split (the same tasks at every validation: seeded apart from training)."""
    rng, gen = np.random.default_rng(10_000 + cfg.seed), torch.Generator().manual_seed(10_000)
    was = hyper.training
    hyper.eval()
    losses, accs = [], []
    for _ in range(cfg.eval_tasks):
        loss, acc = _task_loss(hyper, net, data, classes, cfg, rng, gen, query_split="test")
        losses.append(float(loss))
        if acc is not None:
            accs.append(float(acc))
    hyper.train(was)
    row = {"val_loss": round(float(np.mean(losses)), 5)}
    if accs:
        row["val_accuracy"] = round(float(np.mean(accs)), 5)
    return row


def _state(episode: int, opt, rng, gen, classes, val_classes, names) -> dict:
    return {"episode": episode, "optimizer": opt.state_dict(), "numpy_rng": rng.bit_generator.state,
            "torch_rng": gen.get_state(), "train_classes": [names[c] for c in classes],
            "val_classes": [names[c] for c in val_classes], "class_names": list(names)}


def meta_train(data, classes: list[int], val_classes: list[int], cfg, output: str, metrics,
               resume: dict | None = None, best: str | None = None) -> dict:
    """Train a hypernetwork on tasks over `classes` of `data`; write it to `output` (and to
    `best` whenever validation improves). Returns the last validation row."""
    torch.manual_seed(cfg.seed)
    hyper, spec = build_hyper(cfg)
    net = build(spec, plain=False)
    opt = torch.optim.Adam(hyper.parameters(), lr=cfg.lr, betas=(cfg.beta1, 0.999))
    rng, gen = np.random.default_rng(cfg.seed), torch.Generator().manual_seed(cfg.seed)
    start = 0
    if resume is not None:
        hyper.load_state_dict(resume["state"])
        opt.load_state_dict(resume["optimizer"])
        rng.bit_generator.state, start = resume["numpy_rng"], resume["episode"]
        gen.set_state(resume["torch_rng"])
        log.info("resuming at episode %d of %d", start, cfg.episodes)
    progress = current()
    progress.begin("episodes", total=cfg.episodes, done=start)
    row, clock, episode = {}, time.perf_counter(), start
    best_score = (resume or {}).get("best_score", -1e9)
    saved = lambda: {**_state(episode, opt, rng, gen, classes, val_classes, data.names),  # noqa: E731
                     "best_score": best_score}
    try:
        hyper.train()
        for episode in range(start + 1, cfg.episodes + 1):
            loss, acc = _task_loss(hyper, net, data, classes, cfg, rng, gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            progress.advance(1, loss=f"{loss.item():.3f}")
            row = _log_row(episode, loss, acc, hyper, net, data, val_classes, cfg, clock)
            if row:
                metrics.log(row)
            score = _score(row)
            if best and score is not None and score > best_score:
                best_score = score
                save_hyper(best, hyper, cfg, {**saved(), "best": row})
            if cfg.checkpoint_every and episode % cfg.checkpoint_every == 0:
                save_hyper(output, hyper, cfg, saved())
    except KeyboardInterrupt:
        episode -= 1   # the interrupted step's update may be half done: redo it on resume
        save_hyper(output, hyper, cfg, saved())
        log.warning("interrupted: checkpoint at episode %d in %s (--resume continues)",
                    episode, output)
        raise
    save_hyper(output, hyper, cfg, saved())
    progress.end()
    return row


def _score(row: dict) -> float | None:
    """A validation row's score, higher is better: accuracy, else minus the loss."""
    if "val_loss" not in row:
        return None
    return row.get("val_accuracy", -row["val_loss"])


def _log_row(episode, loss, acc, hyper, net, data, val_classes, cfg, clock) -> dict:
    due_val = cfg.eval_every and episode % cfg.eval_every == 0
    if episode % cfg.log_every and not due_val and episode != cfg.episodes:
        return {}
    row = {"step": episode, "loss": round(loss.item(), 5)}
    if acc is not None:
        row["accuracy"] = round(float(acc), 4)
    if due_val or (episode == cfg.episodes and cfg.eval_every):
        row.update(validate(hyper, net, data, val_classes, cfg))
    row["seconds"] = round(time.perf_counter() - clock, 2)
    return row
