"""The distillation step of KPOD (paper Eq. 15 plus the answer NLL): the stage's examples, their
collation and the w_j-weighted next-token loss, and a held-out loss to watch it by.

    L_o(t) = -sum_i sum_{j in steps c_i(t)+1..n_i} w_j log P(r_j | r_<j, x; theta_s)
             - sum_i sum_j log P(y_j | y_<j, r, x; theta_s)

w_j is the raw sigmoid weight (not the step softmax of Eq. 8); 1 for every token when the
method has no weights. The loop normalises the summed loss by the global batch's labelled
token count (core/train/loop.py), so a weight below 1 lowers a token's pull, never the others'.
"""
from __future__ import annotations

from typing import Sequence

import torch

from thinkpipe.core.train import pad_collate

from .rationale import Encoded, stage_example


class StagedData:
    """The training examples of every epoch: epoch e uses the plan's c_i(min(e, T))."""

    def __init__(self, encoded: list[Encoded], weights: list[list[float]] | None, plan=None):
        self.encoded, self.weights, self.plan = encoded, weights, plan
        self._cache: dict[int, list[dict]] = {}

    def __len__(self) -> int:
        return len(self.encoded)

    def stage(self, epoch: int) -> int:
        return 0 if self.plan is None else min(epoch, self.plan.inputs.shape[0] - 1)

    def inputs(self, epoch: int) -> list[int]:
        """c_i for every example at this epoch (0: the whole rationale is generated)."""
        if self.plan is None:
            return [0] * len(self.encoded)
        return self.plan.at_epoch(epoch).tolist()

    def view(self, epoch: int) -> Sequence[dict]:
        stage = self.stage(epoch)
        if stage not in self._cache:
            c = self.inputs(epoch)
            self._cache = {stage: [stage_example(e, c[i], None if self.weights is None
                                                 else self.weights[i])
                                   for i, e in enumerate(self.encoded)]}
        return self._cache[stage]

    def lengths(self) -> list[int]:
        return [len(e.input_ids) for e in self.encoded]

    def generated_fraction(self, epoch: int) -> float:
        """The share of rationale steps the student generates at this epoch."""
        c = self.inputs(epoch)
        total = sum(len(e.steps) for e in self.encoded)
        return round(1 - sum(c) / max(1, total), 4)


def collate(examples: list[dict], pad_id: int) -> dict:
    """pad_collate's ids, mask and labels, and the (B, T) float loss weights."""
    batch = pad_collate([{"input_ids": e["input_ids"], "labels": e["labels"]} for e in examples],
                        pad_id)
    w = torch.zeros(batch["input_ids"].shape, dtype=torch.float32)
    for i, e in enumerate(examples):
        w[i, :len(e["weights"])] = torch.as_tensor(e["weights"])
    batch["weights"] = w
    return batch


def weighted_loss(model, batch: dict) -> tuple[torch.Tensor, int]:
    """sum_j w_j * CE_j over labelled next-token positions, and how many there are."""
    labels, w = batch["labels"], batch["weights"]
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                   use_cache=False).logits                                # (B, T, V)
    target = labels[:, 1:]                                                # (B, T-1)
    ce = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(), target.reshape(-1),
        ignore_index=-100, reduction="none").view(target.shape)           # (B, T-1)
    return (ce * w[:, 1:]).sum(), int((target != -100).sum())


@torch.no_grad()
def heldout_loss(model, encoded: list[Encoded], pad_id: int, batch_size: int = 8) -> float:
    """Mean unweighted NLL per token of the full rationale and answer (every step generated)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for i in range(0, len(encoded), batch_size):
        batch = collate([stage_example(e, 0) for e in encoded[i:i + batch_size]], pad_id)
        batch = {k: v.to(device) for k, v in batch.items()}
        loss, n = weighted_loss(model, batch)
        total, count = total + float(loss), count + n
    model.train(was_training)
    return total / max(1, count)
