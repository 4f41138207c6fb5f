"""FreeKD's distillation maths on numbers small enough to check by hand."""
import math

import pytest
import torch

from thinkpipe.tools.freekd.losses import (entropy, kl_rows, local_structure, neighbourhood_mean,
                                           node_kd, receiver_loss, structure_kd)

# a star: centre 0 with neighbours 1 and 2 (both directions), node 3 isolated
EDGES = torch.tensor([[1, 2, 0, 0], [0, 0, 1, 2]])


def test_kl_rows_by_hand():
    p, q = torch.tensor([[0.5, 0.5]]), torch.tensor([[0.25, 0.75]])
    want = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert kl_rows(p.log(), q.log()).item() == pytest.approx(want, rel=1e-6)
    assert kl_rows(p.log(), p.log()).item() == 0.0


def test_node_kd_only_on_receiving_nodes_and_scaled_by_tau_squared():
    student = torch.tensor([[0.0, 0.0], [5.0, -5.0]], requires_grad=True)
    teacher = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])
    receive = torch.tensor([True, False])
    loss = node_kd(student, teacher, receive, tau=1.0)
    want = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert loss.item() == pytest.approx(want, rel=1e-5)
    loss.backward()
    assert student.grad[1].abs().sum() == 0            # a non-receiving node gets no gradient
    t2 = node_kd(student, teacher, receive, tau=2.0)
    p = torch.softmax(teacher[0] / 2, -1)
    assert t2.item() == pytest.approx(4 * float((p * (p / 0.5).log()).sum()), rel=1e-5)
    assert node_kd(student, teacher, torch.zeros(2, dtype=torch.bool)).item() == 0.0


def test_local_structure_is_a_softmax_over_each_centres_neighbours():
    h = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])
    log_s = local_structure(h, EDGES, kernel="linear")
    s = log_s.exp()
    # centre 0: sims with 1 and 2 are 1 and 0 -> softmax (e/(e+1), 1/(e+1))
    assert s[0].item() == pytest.approx(math.e / (math.e + 1), rel=1e-6)
    assert s[1].item() == pytest.approx(1 / (math.e + 1), rel=1e-6)
    assert s[2].item() == pytest.approx(1.0) and s[3].item() == pytest.approx(1.0)  # one neighbour
    for kernel in ("rbf", "cosine", "linear"):
        totals = torch.zeros(4).index_add_(0, EDGES[1], local_structure(torch.randn(4, 3), EDGES,
                                                                        kernel).exp())
        assert torch.allclose(totals[:3], torch.ones(3), atol=1e-6)   # sums to 1 per centre


def test_structure_kd_zero_when_equal_and_positive_when_not():
    h = torch.randn(4, 3)
    t = local_structure(h, EDGES)
    centres = torch.tensor([True, False, False, False])
    assert structure_kd(t, t, EDGES, centres).item() == pytest.approx(0.0, abs=1e-7)
    s = local_structure(torch.randn(4, 3), EDGES)
    got = structure_kd(s, t, EDGES, centres).item()
    by_hand = float((t[:2].exp() * (t[:2] - s[:2])).sum())             # centre 0's two edges
    assert got == pytest.approx(by_hand, rel=1e-5) and got > 0
    # an isolated centre (node 3) has no structure to pass: no loss, no error
    assert structure_kd(s, t, EDGES, torch.tensor([False, False, False, True])).item() == 0.0


def test_receiver_loss_is_ce_where_labelled_and_agreement_elsewhere():
    z = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    teacher = torch.tensor([[0.0, 0.0], [math.log(3.0), 0.0]])
    got = receiver_loss(z, teacher, torch.tensor([1, -1]), torch.tensor([True, False]))
    assert got[0].item() == pytest.approx(math.log(2))
    assert got[1].item() == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), rel=1e-5)


def test_entropy_and_neighbourhood_mean_by_hand():
    assert entropy(torch.zeros(1, 4)).item() == pytest.approx(math.log(4))
    got = neighbourhood_mean(torch.tensor([3.0, 0.0, 6.0, 7.0]), EDGES)
    assert got.tolist() == pytest.approx([3.0, 1.5, 4.5, 7.0])
