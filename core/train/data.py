"""Which examples each rank trains on, in a order that a resume can reproduce.

Epoch e visits the examples in the permutation torch.randperm(n, seed + e). Consecutive runs of
`per_device * world_size` indices form global micro-batches; rank r takes its contiguous
`per_device` share, so one process with batch 4 and two ranks with batch 2 see the same global
batches. The position in the data is (epoch, micro-batches consumed): nothing else is needed to
resume. Incomplete trailing micro-batches are dropped.
"""
from __future__ import annotations

from typing import Iterator, Sequence

import torch


def permutation(n: int, seed: int, epoch: int) -> list[int]:
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g).tolist()


def micro_batches_per_epoch(n: int, per_device: int, world: int) -> int:
    return n // (per_device * world)


def group_by_length(order: list[int], lengths: Sequence[int], width: int,
                    chunk: int = 16) -> list[int]:
    """Within runs of `chunk` global micro-batches, longest first, so a micro-batch holds
    examples of similar length (less padding); which examples share a run stays random."""
    span = width * chunk
    out: list[int] = []
    for i in range(0, len(order), span):
        out += sorted(order[i:i + span], key=lambda j: -lengths[j])
    return out


def micro_batches(n: int, per_device: int, world: int, rank: int, seed: int,
                  epoch: int, start: int = 0,
                  lengths: Sequence[int] | None = None) -> Iterator[list[int]]:
    """This rank's index lists for the global micro-batches start, start+1, ... of `epoch`."""
    order = permutation(n, seed, epoch)
    width = per_device * world
    if lengths is not None:
        order = group_by_length(order, lengths, width)
    for m in range(start, micro_batches_per_epoch(n, per_device, world)):
        base = m * width + rank * per_device
        yield order[base:base + per_device]


def pad_collate(examples: Sequence[dict], pad_id: int) -> dict:
    """Right-pad `input_ids` (and `labels` with -100) of tokenised examples into tensors.

    Each example is {"input_ids": [...], "labels": [...]} (labels -100 where no loss is taken),
    optionally with tensor fields (pixel_values, image_grid_thw) concatenated as they are and
    token-aligned list fields (mm_token_type_ids) right-padded with 0.
    """
    width = max(len(e["input_ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[i, :n] = torch.as_tensor(e["input_ids"])
        labels[i, :n] = torch.as_tensor(e.get("labels", e["input_ids"]))
        mask[i, :n] = 1
    batch = {"input_ids": ids, "attention_mask": mask, "labels": labels}
    for key in examples[0]:
        if key in batch:
            continue
        if isinstance(examples[0][key], torch.Tensor):   # image features: concatenated
            batch[key] = torch.cat([e[key] for e in examples])
        elif isinstance(examples[0][key], list):         # token-aligned ids: right-padded with 0
            padded = torch.zeros((len(examples), width), dtype=torch.long)
            for i, e in enumerate(examples):
                padded[i, :len(e[key])] = torch.as_tensor(e[key])
            batch[key] = padded
    return batch


def causal_lm_loss(model, batch: dict) -> tuple[torch.Tensor, int]:
    """Sum of next-token cross-entropy over labelled positions, and how many there are.

    labels[t] is predicted from positions < t (the shift happens here, as in HF models);
    returns (sum over tokens, token count), so the caller can normalise over a whole global batch.
    """
    labels = batch["labels"]
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs, use_cache=False).logits                        # (B, T, V)
    target = labels[:, 1:]                                                  # (B, T-1)
    loss = torch.nn.functional.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]).float(), target.reshape(-1),
        ignore_index=-100, reduction="sum")
    return loss, int((target != -100).sum())


def count_tokens(batch: dict) -> int:
    """Labelled next-token positions in a batch (what causal_lm_loss sums over)."""
    return int((batch["labels"][:, 1:] != -100).sum())
