"""PlanKD's losses against hand-computed values, and the properties the paper's objective
relies on: KL >= 0, attention-ranking gradients that follow the safety targets."""
import math

import pytest
import torch

from thinkpipe.tools.plankd import maths


def test_kl_is_zero_at_the_prior_and_matches_the_closed_form():
    mu, sigma = torch.zeros(3, 4), torch.ones(3, 4)
    assert maths.kl_standard_normal(mu, sigma).item() == pytest.approx(0.0, abs=1e-7)
    # one dim: 1/2 (0.25 + 1 - 1 - ln 0.25) = 0.8181...
    kl = maths.kl_standard_normal(torch.tensor([[1.0]]), torch.tensor([[0.5]]))
    assert kl.item() == pytest.approx(0.5 * (0.25 + 1 - 1 - math.log(0.25)))


def test_kl_is_never_negative():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        mu = torch.randn(8, 16, generator=g) * 3
        sigma = torch.rand(8, 16, generator=g) * 4 + 1e-3
        assert maths.kl_standard_normal(mu, sigma).item() >= 0


def test_ib_loss_is_cross_entropy_plus_beta_kl_in_bits():
    logits = [torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 0.0, 0.0]])]
    labels = torch.tensor([[1, 2]])
    mu, sigma = torch.tensor([[1.0]]), torch.tensor([[1.0]])
    # CE: ln 2 + ln 3; KL: 1/2; beta 0.1 -> (ln 6 + 0.05) / ln 2
    got = maths.ib_loss(logits, labels, mu, sigma, beta=0.1).item()
    assert got == pytest.approx((math.log(6) + 0.05) / math.log(2))


def test_safety_density_sums_gaussians_over_valid_actors_only():
    wp = torch.tensor([[[0.0, 0.0], [10.0, 0.0]]])                       # (1, 2, 2)
    actors = torch.tensor([[[3.0, 0.0], [0.0, 0.0], [100.0, 0.0]]])       # (1, 3, 2)
    mask = torch.tensor([[True, False, True]])
    rho = maths.safety_density(wp, actors, mask, sigma=3.0)
    assert rho[0, 0].item() == pytest.approx(math.exp(-0.5))              # 3 m = one sigma
    assert rho[0, 1].item() == pytest.approx(math.exp(-49 / 18))
    assert rho.shape == (1, 2)


def test_ranking_loss_by_hand():
    a = torch.tensor([[0.7, 0.3]])
    rho = torch.tensor([[1.0, 0.0]])
    # pairs: (0,0), (1,1): margin 0.1; (0,1): max(0, -(0.4) + 0.1) = 0; (1,0): max(0, -(-1)(-0.4) + 0.1) = 0
    assert maths.ranking_loss(a, rho, 0.1).item() == pytest.approx(0.2 / 4)
    wrong = maths.ranking_loss(a, rho.flip(1), 0.1).item()      # the denser waypoint gets less
    assert wrong == pytest.approx((0.1 + 0.1 + 0.5 + 0.5) / 4)


def _ranking_grad(rho):
    logits = torch.zeros(1, rho.shape[1], requires_grad=True)
    maths.ranking_loss(torch.softmax(logits, -1), rho).backward()
    return logits.grad[0]


def test_ranking_gradient_flips_when_the_safety_targets_swap():
    g = _ranking_grad(torch.tensor([[1.0, 0.0]]))
    swapped = _ranking_grad(torch.tensor([[0.0, 1.0]]))
    assert g[0] < 0 < g[1]                  # descent raises attention where traffic is denser
    assert torch.allclose(swapped, -g)
    g4 = _ranking_grad(torch.tensor([[3.0, 0.0, 1.0, 2.0]]))
    s4 = _ranking_grad(torch.tensor([[0.0, 3.0, 1.0, 2.0]]))   # waypoints 0 and 1 swap targets
    assert g4[0] < 0 < g4[1] and s4[1] < 0 < s4[0]
    assert torch.allclose(s4[[1, 0, 2, 3]], g4)


def test_neg_entropy_and_attentive_loss():
    uniform = torch.full((2, 4), 0.25)
    assert maths.neg_entropy(uniform).item() == pytest.approx(-math.log(4))
    peaked = torch.tensor([[1.0, 0.0, 0.0, 0.0]])
    assert maths.neg_entropy(peaked).item() == pytest.approx(0.0, abs=1e-9)
    per = torch.tensor([[1.0, 2.0, 3.0, 6.0]])
    assert maths.attentive(per, torch.full((1, 4), 0.25)).item() == pytest.approx(3.0)
    assert maths.attentive(per, peaked).item() == pytest.approx(1.0)


def test_waypoint_l1_averages_x_and_y():
    pred = torch.tensor([[[1.0, 1.0], [0.0, 4.0]]])
    target = torch.zeros(1, 2, 2)
    assert maths.waypoint_l1(pred, target).tolist() == [[1.0, 2.0]]
