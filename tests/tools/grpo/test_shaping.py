"""Trust-GRPO, T-GRPO and the length bonus against numbers computed by hand."""
import math

import pytest
import torch

from thinkpipe.tools.grpo.shaping import (TRUST, anneal, format_gate, length_bonus, released_calls,
                                          temporal_bonus, trust_paper, trust_released)

T = torch.tensor


def test_paper_trust_weight_and_rewards():
    outcome = T([[1.0, 1, 0, 0], [1, 0, 1, 0]])
    thinking = T([[0.2, 0.4, 0.8, 0.6], [0.9, 0.1, 0.7, 0.3]])
    out = trust_paper(outcome, thinking, alpha=0.3, step=0, total=10)
    # group 1: mu_c = 0.3 < mu_w = 0.7, gamma = exp(-0.4) = 0.670320; group 2: mu_c 0.8 >= 0.2
    assert out.gamma.tolist() == pytest.approx([math.exp(-0.4), 1.0])
    w = 0.3 * math.exp(-0.4)
    assert out.reward[0].tolist() == pytest.approx([1 + w * 0.2, 1 + w * 0.4, w * 0.8, w * 0.6])
    assert out.reward[1].tolist() == pytest.approx([1.27, 0.03, 1.21, 0.09])
    assert out.mu_correct.tolist() == pytest.approx([0.3, 0.8])


def test_annealing_at_step_0_and_T():
    assert anneal(0.3, 0, 10) == pytest.approx(0.3)
    assert anneal(0.3, 10, 10) == pytest.approx(0.3 / math.e)
    out = trust_paper(T([[1.0, 0]]), T([[0.5, 0.1]]), 0.3, 10, 10)
    assert out.weight.item() == pytest.approx(0.110364, abs=1e-6)


def test_empty_correct_or_wrong_set_trusts_the_thinking_reward():
    for outcome in (T([[1.0, 1, 1]]), T([[0.0, 0, 0]])):
        out = trust_paper(outcome, T([[0.1, 0.5, 0.9]]), 0.3, 0, 10)
        assert out.gamma.item() == 1.0 and out.weight.item() == pytest.approx(0.3)


def test_released_variant_binary_outcomes_make_gamma_one():
    outcome, thinking = T([[1.0, 1, 0, 0]]), T([[0.2, 0.4, 0.8, 0.6]])
    assert released_calls(outcome).tolist() == [[True, True, False, False]]
    out = trust_released(outcome, thinking, 0.3, 0, 10)
    assert out.gamma.item() == 1.0 and out.mu_wrong.item() == 0.0     # wrong ones never scored
    assert out.reward[0].tolist() == pytest.approx([1.06, 1.12, 0.0, 0.0])
    assert trust_paper(outcome, thinking, 0.3, 0, 10).gamma.item() < 1.0   # the paper's would fire


def test_released_variant_graded_outcomes_and_skipped_groups():
    outcome, thinking = T([[0.6, 0.3, 0.25, 0.0]]), T([[0.2, 0.9, 0.8, 0.5]])
    out = trust_released(outcome, thinking, 0.3, 0, 10)
    # scored: outcome >= 0.2 -> R^t = [0.2, 0.9, 0.8, 0]; mu_c = 0.2, mu_w = 1.7 / 3
    g = math.exp(0.2 - 1.7 / 3)
    assert out.gamma.item() == pytest.approx(g) and out.weight.item() == pytest.approx(0.3 * g)
    assert out.reward[0].tolist() == pytest.approx([0.6 + 0.3 * g * 0.2, 0.3 + 0.3 * g * 0.9,
                                                    0.25 + 0.3 * g * 0.8, 0.0])
    for skipped in (T([[1.0, 0.95, 0.9, 1.0]]), T([[0.1, 0.0, 0.05, 0.1]])):
        out = trust_released(skipped, T([[0.9, 0.9, 0.9, 0.9]]), 0.3, 0, 10)
        assert out.weight.item() == 0.0 and torch.equal(out.reward, skipped)
        assert not released_calls(skipped).any()
    assert TRUST["paper"].calls(skipped).all()


def test_temporal_bonus_decisions():
    acc = T([[1.0, 1, 0, 0]])
    out = temporal_bonus(acc, T([[1.0, 0]]))                    # p = 0.5 >= 1.0 * 0.5
    assert out.fired.tolist() == [True] and out.bonus[0].tolist() == pytest.approx([0.3, 0.3, 0.0, 0.0])
    assert not temporal_bonus(acc, T([[1.0, 1]])).fired.item()  # 0.5 < 1.0
    three = T([[1.0, 1, 1, 0]])                                 # p = 0.75
    assert not temporal_bonus(three, T([[1.0, 1]]), ratio=0.8).fired.item()   # 0.75 < 0.8
    assert temporal_bonus(three, T([[1.0, 1]]), ratio=0.7).fired.item()
    edge = temporal_bonus(T([[0.1, 0.5]]), T([[0.0]]))          # acc must exceed 0.1
    assert edge.bonus[0].tolist() == pytest.approx([0.0, 0.3])


def test_length_bonus_needs_several_correct_and_the_range():
    acc, lengths = T([[1.0, 1, 0, 1]]), T([[400, 600, 400, 320]])
    assert length_bonus(acc, lengths)[0].tolist() == pytest.approx([0.2, 0.0, 0.0, 0.2])
    assert length_bonus(T([[1.0, 0, 0, 0]]), T([[400] * 4])).sum() == 0


def test_format_gate():
    assert format_gate(T([[1.0, 1.0, 0.5]]), T([[True, False, True]])).tolist() == [[1.0, 0.0, 0.5]]
