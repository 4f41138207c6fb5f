"""Data order, collation and the loss the loop normalises."""
import math

import pytest
import torch

from thinkpipe.core.train.data import (causal_lm_loss, count_tokens, micro_batches,
                                       pad_collate, permutation)


def test_two_ranks_see_the_global_batches_of_one_process():
    one = list(micro_batches(20, 4, 1, 0, seed=3, epoch=1))
    r0 = list(micro_batches(20, 2, 2, 0, seed=3, epoch=1))
    r1 = list(micro_batches(20, 2, 2, 1, seed=3, epoch=1))
    assert [a + b for a, b in zip(r0, r1)] == one
    assert sorted(i for b in one for i in b) == sorted(permutation(20, 3, 1))
    assert list(micro_batches(20, 4, 1, 0, 3, 1, start=3)) == one[3:]
    assert permutation(20, 3, 1) != permutation(20, 3, 2)


def test_pad_collate_right_pads_and_masks_labels():
    batch = pad_collate([{"input_ids": [5, 6, 7]}, {"input_ids": [8], "labels": [-100]}], pad_id=0)
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[5, 6, 7], [-100, -100, -100]]


class Uniform(torch.nn.Module):
    """Logits 0 everywhere except +log(3) on token 1: p(1) = 3/(V+2) with V=4 -> 1/2."""

    def forward(self, input_ids, attention_mask=None, use_cache=None):
        logits = torch.zeros(*input_ids.shape, 4)
        logits[..., 1] = math.log(3)

        class Out:
            pass
        out = Out()
        out.logits = logits
        return out


def test_causal_lm_loss_sums_over_labelled_next_tokens():
    batch = {"input_ids": torch.tensor([[0, 1, 2]]), "attention_mask": torch.ones(1, 3),
             "labels": torch.tensor([[0, 1, -100]])}
    loss, n = causal_lm_loss(Uniform(), batch)
    assert n == 1 == count_tokens(batch)          # only position 1 is labelled after the shift
    assert loss.item() == pytest.approx(-math.log(0.5))
