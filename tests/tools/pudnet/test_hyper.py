"""The hypernetwork emits a kernel of the right shape for every conv of every target, and what
it emits depends on the support set but not on its order."""
import dataclasses

import pytest
import torch

from thinkpipe.tools.pudnet import PudNetConfig
from thinkpipe.tools.pudnet.hyper import class_mean, class_spread
from thinkpipe.tools.pudnet.predict import build_hyper
from thinkpipe.tools.pudnet.targets import build

SMALL = PudNetConfig(image_size=16, embed=16)


@pytest.mark.parametrize("kw", [{}, {"norm": "none"}, {"target": "resnet18", "width": 4},
                                {"task": "denoise", "target": "unet", "width": 4}])
def test_every_generated_parameter_matches_the_target(kw):
    cfg = dataclasses.replace(SMALL, **kw)
    torch.manual_seed(0)
    hyper, spec = build_hyper(cfg)
    params = hyper(torch.rand(10, 1, 16, 16), torch.arange(10) % 5)
    shapes = {k: v.shape for k, v in build(spec).state_dict().items()}
    convs = [n for n, m in build(spec).named_modules() if isinstance(m, torch.nn.Conv2d)]
    for name in convs:
        assert params[f"{name}.weight"].shape == shapes[f"{name}.weight"]
        assert (f"{name}.bias" in params) == (f"{name}.bias" in shapes)
    assert all(params[k].shape == shapes[k] for k in params)
    if cfg.target == "resnet18":
        assert len(convs) == 20          # stem + 16 block convs + 3 downsample convs


def test_class_mean_weighs_classes_equally():
    e = torch.tensor([[0.0], [0.0], [0.0], [4.0]])
    y = torch.tensor([0, 0, 0, 1])
    assert float(class_mean(e, y)) == 2.0     # the image mean would be 1.0
    assert float(class_spread(e, y)) == 4.0   # class means 0 and 4: mean 2 + std 2


def test_kernels_depend_on_the_support_set_not_on_its_order():
    torch.manual_seed(0)
    hyper, _ = build_hyper(SMALL)
    x, y = torch.rand(10, 1, 16, 16), torch.arange(10) % 5
    a = hyper(x, y)["body.0.weight"]
    perm = torch.randperm(10)
    assert torch.allclose(a, hyper(x[perm], y[perm])["body.0.weight"], atol=1e-5)
    assert not torch.allclose(a, hyper(torch.rand(10, 1, 16, 16), y)["body.0.weight"], atol=1e-4)
