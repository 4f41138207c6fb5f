"""PudNet's losses and metrics as pure functions over tensors.

Classification (the hint the released code leaves in `PrimaryNetwork.classify`):

    p_c = mean_{i : y_i = c} f(x_i)                    class prototypes from the support set
    logit_c(x) = tau * cos(f(x), p_c)                  tau learnable, initialised at 10

Denoising (the released variant, Noise2Void-style blind spots; train_PudNet.py):

    x~ = x + n, n ~ N(0, sigma^2)                      sigma = 25/255 by default
    M  = a random 10% of pixels; x^ = x~ with each pixel in M replaced by a random
         neighbour within a 5x5 window (never itself)
    L  = mean_{p in M} |g(x^)_p - x~_p|                the L1 on the blind spots only
    PSNR = 10 log10(peak^2 / MSE(g(x~), x))
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def prototypes(f: torch.Tensor, y: torch.Tensor, ways: int) -> torch.Tensor:
    """Class means of support features f (n, D) with labels y (n,) in 0..ways-1 -> (ways, D)."""
    sums = f.new_zeros(ways, f.shape[1]).index_add_(0, y, f)      # (ways, D)
    counts = torch.bincount(y, minlength=ways).clamp_min(1)       # (ways,)
    return sums / counts[:, None]


def cosine_logits(f: torch.Tensor, protos: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """tau * cos(f_i, p_c): f (B, D), protos (C, D) -> (B, C)."""
    return tau * F.normalize(f, dim=-1) @ F.normalize(protos, dim=-1).T


def head_weight(protos: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """The rows of targets.CosineHead that give cosine_logits: tau * p_c / |p_c|. (C, D)"""
    return tau * F.normalize(protos, dim=-1)


def add_noise(x: torch.Tensor, sigma: float, gen: torch.Generator) -> torch.Tensor:
    """x (B, C, H, W) + N(0, sigma^2), sigma on the [0, 1] scale."""
    return x + sigma * torch.randn(x.shape, generator=gen)


def blind_spot(x: torch.Tensor, ratio: float, window: int,
               gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(x with a `ratio` of pixels replaced by a random neighbour in a window x window
    square, the (B, 1, H, W) bool mask of those pixels). An offset past the border is
    mirrored, so a replaced pixel never takes its own value."""
    b, c, h, w = x.shape
    mask = torch.rand((b, 1, h, w), generator=gen) < ratio            # (B, 1, H, W)
    r = window // 2
    dy = torch.randint(-r, r + 1, (b, 1, h, w), generator=gen)
    dx = torch.randint(-r, r + 1, (b, 1, h, w), generator=gen)
    dx = torch.where((dy == 0) & (dx == 0), torch.ones_like(dx), dx)  # never (0, 0)
    rows = _inside(torch.arange(h).view(1, 1, h, 1), dy, h)
    cols = _inside(torch.arange(w).view(1, 1, 1, w), dx, w)
    flat = (rows * w + cols).expand(b, c, h, w).reshape(b, c, -1)     # (B, C, H*W)
    picked = x.reshape(b, c, -1).gather(2, flat).view_as(x)           # (B, C, H, W)
    return torch.where(mask, picked, x), mask


def _inside(i: torch.Tensor, d: torch.Tensor, n: int) -> torch.Tensor:
    """i + d, or i - d where i + d falls outside 0..n-1 (the offset mirrored, so it stays
    non-zero), clamped for images narrower than the window."""
    j = i + d
    return torch.where((j < 0) | (j > n - 1), i - d, j).clamp(0, n - 1)


def masked_l1(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |pred - target| over the masked pixels (all channels). Scalar."""
    m = mask.expand_as(pred).float()
    return ((pred - target).abs() * m).sum() / m.sum().clamp_min(1.0)


def psnr(pred: torch.Tensor, clean: torch.Tensor, peak: float = 1.0) -> torch.Tensor:
    """Mean over images of 10 log10(peak^2 / MSE). pred, clean (B, C, H, W) -> scalar (dB)."""
    mse = ((pred.clamp(0, peak) - clean) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return (10 * torch.log10(peak ** 2 / mse)).mean()
