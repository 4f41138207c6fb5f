"""PudNet's maths against numbers worked by hand."""
import math

import torch

from thinkpipe.tools.pudnet.maths import (blind_spot, cosine_logits, head_weight, masked_l1,
                                          prototypes, psnr)
from thinkpipe.tools.pudnet.targets import CosineHead


def test_prototypes_are_class_means():
    f = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0]])
    y = torch.tensor([0, 0, 1])
    assert torch.equal(prototypes(f, y, 3), torch.tensor([[2.0, 1.0], [0.0, 4.0], [0.0, 0.0]]))


def test_cosine_logits_by_hand():
    f = torch.tensor([[3.0, 4.0]])
    protos = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    # cos = 3/5 and 4/5, times tau = 10
    assert torch.allclose(cosine_logits(f, protos, torch.tensor(10.0)), torch.tensor([[6.0, 8.0]]))


def test_head_weight_makes_the_plain_head_compute_the_cosine_logits():
    torch.manual_seed(0)
    f, protos, tau = torch.randn(7, 5), torch.randn(3, 5), torch.tensor(4.0)
    head = CosineHead(5, 3)
    head.weight.data = head_weight(protos, tau)
    assert torch.allclose(head(f), cosine_logits(f, protos, tau), atol=1e-6)


def test_blind_spot_replaces_only_masked_pixels_and_never_by_themselves():
    x = torch.arange(2 * 3 * 12 * 12, dtype=torch.float).view(2, 3, 12, 12)  # distinct values
    gen = torch.Generator().manual_seed(0)
    out, mask = blind_spot(x, 0.3, 5, gen)
    m = mask.expand_as(x)
    assert torch.equal(out[~m], x[~m])
    assert (out[m] != x[m]).all()
    assert 0.2 < mask.float().mean() < 0.4
    # a replacement comes from the same image and channel, within 2 pixels
    b, c, i, j = [int(v) for v in m.nonzero()[0]]
    src = int(out[b, c, i, j]) - (b * 3 + c) * 144
    assert 0 <= src < 144 and abs(src // 12 - i) <= 2 and abs(src % 12 - j) <= 2


def test_masked_l1_averages_over_the_mask_only():
    pred = torch.tensor([[[[1.0, 5.0], [0.0, 0.0]]]])
    target = torch.zeros(1, 1, 2, 2)
    mask = torch.tensor([[[[True, False], [True, False]]]])
    assert float(masked_l1(pred, target, mask)) == 0.5   # (|1| + |0|) / 2


def test_psnr_by_hand():
    clean = torch.zeros(1, 1, 4, 4)
    assert math.isclose(float(psnr(clean + 0.1, clean)), 20.0, rel_tol=1e-5)  # MSE 0.01
