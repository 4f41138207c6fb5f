"""Target networks whose conv kernels PudNet predicts: a small ConvNet, ResNet-18 (no
torchvision) and, for denoising, a small U-Net. Each is a plain nn.Module; predicted weights
load into it with load_state_dict and it runs with no hypernetwork around.

Normalisation uses the support set's statistics: while `support_rows(net, n)` is active, each
SupportNorm normalises the whole batch with the mean and biased variance of its first n rows
(the support images) and keeps them, so a predicted network's running statistics are its
support set's and the plain module in eval mode computes the same function. Our choice: the
released code trains its BatchNorm in train mode on the batch; this keeps one function from
meta-training to prediction to the saved file.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("convnet", "resnet18", "unet")


class SupportNorm(nn.BatchNorm2d):
    """BatchNorm2d (same parameters, buffers and eval behaviour) that can normalise a batch
    with the statistics of its first `n_support` rows."""
    n_support: int | None = None
    stats: tuple | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.n_support is None:
            return super().forward(x)
        s = x[:self.n_support]                                    # (n, C, H, W)
        mean = s.mean((0, 2, 3))                                  # (C,)
        var = s.var((0, 2, 3), unbiased=False)                    # (C,)
        self.stats = (mean.detach(), var.detach())
        scale = self.weight * torch.rsqrt(var + self.eps)         # (C,)
        return x * scale[:, None, None] + (self.bias - mean * scale)[:, None, None]


@contextmanager
def support_rows(net: nn.Module, n: int):
    norms = [m for m in net.modules() if isinstance(m, SupportNorm)]
    for m in norms:
        m.n_support = n
    try:
        yield norms
    finally:
        for m in norms:
            m.n_support = None


class CosineHead(nn.Module):
    """logits = F.normalize(f) @ W^T; a predicted head's rows are tau * prototype / |prototype|."""

    def __init__(self, dim: int, classes: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) / dim ** 0.5)

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        return F.normalize(f, dim=-1) @ self.weight.T                # (B, C)


def _norm(plain: bool, use: bool, width: int) -> nn.Module:
    if not use:
        return nn.Identity()
    return nn.BatchNorm2d(width) if plain else SupportNorm(width)


class ConvNet(nn.Module):
    """depth x [conv 3x3 -> norm -> ReLU -> max-pool 2] at constant width, global mean pool,
    cosine head: the Conv-4 backbone of few-shot learning, width and depth as options."""

    def __init__(self, channels=1, width=32, depth=4, classes=5, norm="batch", plain=True, **_):
        super().__init__()
        layers, c = [], channels
        for _ in range(depth):
            layers += [nn.Conv2d(c, width, 3, padding=1, bias=norm == "none"),
                       _norm(plain, norm == "batch", width), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True)]
            c = width
        self.body = nn.Sequential(*layers)
        self.dim = width
        self.head = CosineHead(width, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean((2, 3))                           # (B, width)

    def forward(self, x: torch.Tensor, head: bool = True) -> torch.Tensor:
        f = self.features(x)
        return self.head(f) if head else f


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, plain: bool):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = _norm(plain, True, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = _norm(plain, True, cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            _norm(plain, True, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class ResNet18(nn.Module):
    """ResNet-18 (He et al. 2016; torchvision's layer names) with the small-image stem: a 3x3
    stride-1 conv and no max-pool, as for CIFAR; `width` is the first stage's (64 in the paper)."""

    def __init__(self, channels=1, width=64, classes=5, plain=True, **_):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 3, 1, 1, bias=False)
        self.bn1 = _norm(plain, True, width)
        stages, c = [], width
        for i, out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(c, out, stride, plain),
                                        BasicBlock(out, out, 1, plain)))
            c = out
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.dim = c
        self.head = CosineHead(c, classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return x.mean((2, 3))                                      # (B, 8 * width)

    def forward(self, x: torch.Tensor, head: bool = True) -> torch.Tensor:
        f = self.features(x)
        return self.head(f) if head else f


class UNet(nn.Module):
    """A U-Net for denoising: `depth` levels of two conv-norm-ReLU each (average-pool down,
    nearest up, skip concatenation, as in the released PudNet U-Net, which has 4 levels at
    width 64), then a 1x1 conv with bias to the image channels."""

    def __init__(self, channels=1, width=16, depth=2, plain=True, **_):
        super().__init__()

        def pair(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                                 _norm(plain, True, cout), nn.ReLU(),
                                 nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                                 _norm(plain, True, cout), nn.ReLU())
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList(pair(channels if i == 0 else widths[i - 1], widths[i])
                                  for i in range(depth))
        self.middle = pair(widths[depth - 1], widths[depth])
        self.up = nn.ModuleList(pair(widths[i + 1] + widths[i], widths[i])
                                for i in reversed(range(depth)))
        self.out = nn.Conv2d(width, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
            x = F.avg_pool2d(x, 2, ceil_mode=True)
        x = self.middle(x)
        for block, skip in zip(self.up, reversed(skips)):
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
            x = block(torch.cat([x, skip], 1))
        return self.out(x)


def build(spec: dict, plain: bool = True) -> nn.Module:
    """The target network of a spec {arch, channels, width, depth, classes, norm}."""
    cls = {"convnet": ConvNet, "resnet18": ResNet18, "unet": UNet}[spec["arch"]]
    return cls(plain=plain, **{k: v for k, v in spec.items() if k != "arch"})


def conv_specs(net: nn.Module) -> list[tuple[str, tuple, bool]]:
    """(name, kernel shape (out, in, k, k), has a bias) of every conv, in forward order."""
    return [(name, tuple(m.weight.shape), m.bias is not None)
            for name, m in net.named_modules() if isinstance(m, nn.Conv2d)]


def norm_names(net: nn.Module) -> list[str]:
    return [name for name, m in net.named_modules() if isinstance(m, nn.BatchNorm2d)]
