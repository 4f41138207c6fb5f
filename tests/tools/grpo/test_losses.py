"""GRPO maths against hand-computed numbers."""
import math

import pytest
import torch

from thinkpipe.core.errors import UsageError
from thinkpipe.tools.grpo.losses import (aggregate, constant_within_groups, group_advantages,
                                         k3_kl, tied_groups, token_loss)
from thinkpipe.tools.grpo.trainer import batch_plan


def test_group_advantages():
    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    a = group_advantages(r, 4, "group", eps=0.0 + 1e-12)
    # group 1: mean 0.5, population std 0.5 -> +-1; group 2: all tied -> 0
    assert a.tolist()[:4] == pytest.approx([1, -1, -1, 1]) and a.tolist()[4:] == [0, 0, 0, 0]
    assert group_advantages(r, 4, "none").tolist()[:4] == [0.5, -0.5, -0.5, 0.5]
    b = group_advantages(r, 4, "batch", eps=0.0)
    # batch std: centred values (+-0.5 x4, 0 x4) -> sqrt(4*0.25/8) = sqrt(0.125)
    assert b.tolist()[0] == pytest.approx(0.5 / math.sqrt(0.125))


def test_invalid_samples_are_left_out_of_their_group():
    r = torch.tensor([1.0, 0.0, 5.0, 0.0])
    v = torch.tensor([True, True, False, True])
    a = group_advantages(r, 4, "group", eps=0.0, valid=v)
    mean, std = 1 / 3, math.sqrt(((2 / 3) ** 2 + 2 * (1 / 3) ** 2) / 3)
    assert a.tolist() == pytest.approx([(1 - mean) / std, -mean / std, 0.0, -mean / std])


def test_k3_kl_is_zero_at_equality_and_positive_elsewhere():
    logp = torch.tensor([[-1.0, -2.0]])
    assert k3_kl(logp, logp).tolist() == [[0.0, 0.0]]
    d = 0.5
    assert k3_kl(torch.tensor([[-1.0]]), torch.tensor([[-0.5]])).item() == pytest.approx(math.exp(d) - d - 1)


def test_clipped_surrogate_by_hand():
    old = torch.zeros(1, 3)
    logp = torch.log(torch.tensor([[1.5, 0.5, 1.1]]))       # ratios 1.5, 0.5, 1.1
    mask = torch.ones(1, 3)
    pos = token_loss(logp, old, torch.tensor([2.0]), mask, eps_low=0.2)
    # A > 0: min(rA, clip(r)A) -> 1.2*2, 0.5*2, 1.1*2
    assert (-pos.per_token).tolist()[0] == pytest.approx([2.4, 1.0, 2.2])
    assert pos.clipped.tolist() == [[True, False, False]]
    neg = token_loss(logp, old, torch.tensor([-1.0]), mask, eps_low=0.2, eps_high=0.3)
    # A < 0: min(-r, -clip(r)) -> -1.5, -0.8, -1.1
    assert (-neg.per_token).tolist()[0] == pytest.approx([-1.5, -0.8, -1.1])
    asym = token_loss(logp, old, torch.tensor([1.0]), mask, eps_low=0.2, eps_high=0.3)
    assert (-asym.per_token).tolist()[0][0] == pytest.approx(1.3)     # clip-higher at 1.3
    kl = token_loss(logp, logp.detach(), torch.tensor([1.0]), mask, beta=0.5,
                    ref_logp=logp.detach() + 0.1)
    assert kl.kl[0, 0].item() == pytest.approx(math.exp(0.1) - 0.1 - 1, rel=1e-5)  # float32


def test_loss_aggregations():
    per_token = torch.tensor([[1.0, 1.0, 0.0], [3.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    s, n = aggregate(per_token, mask, "grpo", 10)
    assert (float(s), n) == (1.0 + 3.0, 2.0)          # per-sequence means 1 and 3, over 2 seqs
    s, n = aggregate(per_token, mask, "dapo", 10)
    assert (float(s), n) == (5.0, 3.0)                 # token mean: 5 / 3
    s, n = aggregate(per_token, mask, "dr_grpo", 10)
    assert (float(s), n) == (5.0, 20.0)                # constant: 2 sequences x 10
    with pytest.raises(ValueError):
        aggregate(per_token, mask, "ppo", 10)


def test_filters_and_warnings():
    r = torch.tensor([1.0, 1.0, 0.0, 1.0])
    assert tied_groups(r, 2).tolist() == [True, False]
    assert constant_within_groups(torch.tensor([0.3, 0.3, 0.0, 0.0]), 2)
    assert not constant_within_groups(torch.tensor([0.3, 0.0, 0.0, 0.0]), 2)


def test_batch_arithmetic_fails_early_with_the_numbers():
    assert batch_plan(8, 1, 4, 2) == (2, 4)
    with pytest.raises(UsageError, match="8 x gradient_accumulation_steps 1 = 8, not a multiple of "
                                         "--num-generations 3"):
        batch_plan(8, 1, 3, 1)
