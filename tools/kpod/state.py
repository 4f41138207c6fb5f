"""What a KPOD run keeps beside its checkpoints: the prepared weights, difficulties and plan
(kpod_prepared.pt in --output-dir, so a resumed run distils on the very schedule it started
with instead of re-learning it), the --emit-weights records, and the per-epoch metrics.
"""
from __future__ import annotations

import logging
import os

import torch

from thinkpipe.core.records.jsonl import dumps

from .prepare import Prepared, prepare
from .schedule import Plan

log = logging.getLogger("thinkpipe.kpod")
FILE = "kpod_prepared.pt"


def save(output_dir: str, pairs, p: Prepared) -> None:
    """Write kpod_prepared.pt (after the trainer has checked --output-dir)."""
    path, ids = os.path.join(output_dir, FILE), [r.id for r, _ in pairs]
    plan = None if p.plan is None else {"inputs": p.plan.inputs, "budgets": p.plan.budgets,
                                        "spent": p.plan.spent, "chosen": p.plan.chosen,
                                        "forced": p.plan.forced}
    tmp = path + ".tmp"
    torch.save({"ids": ids, "weights": p.weights, "difficulty": p.difficulty,
                "clusters": p.clusters, "plan": plan, "weighting": p.weighting,
                "token_weights": p.token_weights}, tmp)
    os.replace(tmp, path)


def _load(path: str, ids: list[str]) -> Prepared | None:
    saved = torch.load(path, weights_only=False)
    if saved["ids"] != ids:
        log.warning("%s was prepared for other records: preparing anew", path)
        return None
    plan = Plan(**saved["plan"]) if saved["plan"] is not None else None
    return Prepared(saved["weights"], saved["difficulty"], saved["clusters"], plan,
                    saved["weighting"], saved["token_weights"])


def load_or_prepare(config, pairs, bundle, method, stages: int) -> Prepared:
    """The run's Prepared: read back on --resume when the records match, else computed."""
    path = os.path.join(config.train.output_dir, FILE)
    ids = [r.id for r, _ in pairs]
    if config.train.resume and os.path.exists(path):
        prepared = _load(path, ids)
        if prepared is not None:
            log.info("prepared weights and schedule read back from %s", path)
            return prepared
    return prepare([e for _, e in pairs], [r.question for r, _ in pairs], bundle.model,
                   bundle.tokenizer, config, method, stages, config.train.seed)


def emit(path: str, pairs, tokenizer, p: Prepared) -> None:
    """One record per rationale: id, tokens, weights (w_j), steps (token ranges within the
    rationale) and difficulty (d_k), plus the question's cluster and, with a schedule, the
    number of input steps at each stage."""
    from thinkpipe.core.errors import OutputError
    try:
        with open(path, "wb") as f:
            for i, (r, e) in enumerate(pairs):
                rec = {"id": r.id, "tokens": [tokenizer.decode([t]) for t in e.rationale_ids],
                       "weights": [round(w, 5) for w in p.token_weights[i]]
                       if p.token_weights else None,
                       "steps": [[a - e.start, b - e.start] for a, b in e.steps],
                       "difficulty": [round(float(d), 5) for d in p.difficulty[i]],
                       "cluster": int(p.clusters[i])}
                if p.plan is not None:
                    rec["inputs"] = p.plan.inputs[:, i].tolist()
                f.write(dumps(rec))
    except OSError as e:
        raise OutputError(f"--emit-weights {path}: cannot write: {e.strerror}") from None


def epoch_hook(trainer, data, heldout, pad_id: int, epochs: int):
    """After the last step of each epoch (and of the run): the stage, the share of steps the
    student generates, and the held-out loss when there are held-out records."""
    from thinkpipe.core.train.data import micro_batches_per_epoch

    from .distill import heldout_loss
    cfg, world = trainer.cfg, trainer.info.world_size
    per_epoch = micro_batches_per_epoch(len(data), cfg.per_device_train_batch_size, world)

    def hook(st) -> dict | None:
        last = st.step >= trainer.total_steps
        if st.micro < per_epoch and not last:
            return None
        row = {"stage": data.stage(st.epoch), "generated": data.generated_fraction(st.epoch)}
        if heldout:
            row["eval_loss"] = round(heldout_loss(trainer.engine.model, heldout, pad_id), 5)
        log.info("epoch %d/%d (stage %d): the student generated %.0f%% of the steps%s",
                 st.epoch + 1, epochs, row["stage"], 100 * row["generated"],
                 f", held-out loss {row['eval_loss']:.4f}" if heldout else "")
        return row

    return hook
