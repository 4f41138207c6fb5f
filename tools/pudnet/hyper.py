"""The PudNet hypernetwork: a support set in, every conv kernel of a target network out.

    e_i   = Enc(x_i)                          dataset encoder, per image, (G * d,)
    z     = Pool({e_i, y_i})                  the dataset embedding ("dataset sketch")
    h_0   = z as G GRU layers of width d       (released: the GRU's initial hidden state)
    o_l, h_l = GRU(u_l, LN(h_{l-1}))          the adaptive hyper recurrent unit, one step per
    u_1   = s (learned),  u_{l+1} = ReLU(W o_l)   target conv layer, autoregressive
    o~_l  = LN_l((1 - a_l) o_l + a_l mean_g(z))   per-layer mixing (released: a = 0.1, fixed)
    W_l   = Gen_l(o~_l)                       per-layer generator: Linear -> (m, k, k), GELU,
                                              1x1 conv (m -> 2m), GELU, 1x1 conv (2m -> out*in)

Departures from the released code (primaryNet_uniAHRU.py, hypernetwork_modules.py), each our
choice: the start input s is a learned parameter (released: a fixed random vector), a_l is
learned per layer from 0.1, the encoder ends in LayerNorm (released: BatchNorm1d over the set),
the generator also emits a bias where the target conv has one, kernels are scaled by
sqrt(2 / fan_in) (He initialisation's scale; the released `_normalize` is unused), and Pool is
class-aware by default (POOLS). Normalisation layers' affine parameters are ordinary
parameters of PudNet, as released; so is the cosine head's temperature (initialised at 10,
the released `classify` hint).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .maths import prototypes


def _class_means(e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean of each class present in y, whatever its labels. e (n, D) -> (C, D)"""
    classes, y = torch.unique(y, return_inverse=True)             # (C,), (n,)
    return prototypes(e, y, len(classes))


def class_mean(e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean per class, then over classes: each class weighs the same whatever its size.
    e (n, D), y (n,) -> (D,)"""
    return _class_means(e, y).mean(0)


def image_mean(e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over the images, labels unused (the released code). e (n, D) -> (D,)"""
    return e.mean(0)


def class_spread(e: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean of the class means and their spread (std over classes), added: what sets this
    task's classes apart, not only where they sit. e (n, D) -> (D,)"""
    means = _class_means(e, y)                                    # (C, D)
    spread = means.std(0, unbiased=False) if len(means) > 1 else torch.zeros_like(means[0])
    return means.mean(0) + spread


POOLS = {"class": class_mean, "image": image_mean, "spread": class_spread}


class DatasetEncoder(nn.Module):
    """Three 5x5 stride-2 convs (C -> 16 -> 32 -> 32, GELU), flatten, Linear, LayerNorm."""

    def __init__(self, channels: int, size: int, out: int):
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(channels, 16, 5, 2, 2), nn.GELU(),
                                   nn.Conv2d(16, 32, 5, 2, 2), nn.GELU(),
                                   nn.Conv2d(32, 32, 5, 2, 2), nn.GELU())
        side = size
        for _ in range(3):
            side = (side - 1) // 2 + 1
        self.fc = nn.Linear(32 * side * side, out)
        self.norm = nn.LayerNorm(out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.norm(self.fc(self.convs(x).flatten(1))))   # (n, out)


class Generator(nn.Module):
    """One target conv's kernel (out, in, k, k) (and bias (out,)) from a (d,) vector."""

    def __init__(self, d: int, shape: tuple, bias: bool, hidden: int):
        super().__init__()
        out, cin, k, _ = shape
        self.shape, self.hidden = shape, hidden
        self.fc = nn.Linear(d, hidden * k * k)
        self.expand = nn.Conv2d(hidden, 2 * hidden, 1)
        self.emit = nn.Conv2d(2 * hidden, out * cin, 1)
        self.bias = nn.Linear(d, out) if bias else None
        self.gain = math.sqrt(2.0 / (cin * k * k))

    def forward(self, o: torch.Tensor) -> dict[str, torch.Tensor]:
        out, cin, k, _ = self.shape
        a = F.gelu(self.fc(o)).view(1, self.hidden, k, k)         # (1, m, k, k)
        a = F.gelu(self.expand(a))                                # (1, 2m, k, k)
        w = self.emit(a).view(out, cin, k, k) * self.gain         # (out, in, k, k)
        made = {"weight": w}
        if self.bias is not None:
            made["bias"] = 0.1 * self.bias(o)                     # (out,)
        return made


class PudNet(nn.Module):
    """The hypernetwork for one target: `specs` from targets.conv_specs, `norms` the target's
    normalisation layer names, `widths` their channel counts."""

    def __init__(self, channels: int, size: int, specs: list, norms: dict, d: int = 128,
                 gru_layers: int = 2, gen_hidden: int = 8, mix: float = 0.1,
                 pool: str = "class"):
        super().__init__()
        self.specs, self.d, self.g, self.pool = specs, d, gru_layers, pool
        self.encoder = DatasetEncoder(channels, size, gru_layers * d)
        self.gru = nn.GRU(d, d, num_layers=gru_layers)
        self.start = nn.Parameter(torch.randn(d) * 0.1)
        self.next_input = nn.Linear(d, d)
        self.hidden_norm = nn.LayerNorm(d)
        self.mix = nn.Parameter(torch.full((len(specs),), mix))
        self.layer_norms = nn.ModuleList(nn.LayerNorm(d) for _ in specs)
        self.generators = nn.ModuleList(Generator(d, shape, bias, gen_hidden)
                                        for _, shape, bias in specs)
        self.norm_weight = nn.ParameterDict({n.replace(".", "__"): nn.Parameter(torch.ones(c))
                                             for n, c in norms.items()})
        self.norm_bias = nn.ParameterDict({n.replace(".", "__"): nn.Parameter(torch.zeros(c))
                                           for n, c in norms.items()})
        self.log_temperature = nn.Parameter(torch.tensor(math.log(10.0)))

    def embed(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The dataset embedding z (G * d,) of a support set x (n, C, S, S), y (n,)."""
        return POOLS[self.pool](self.encoder(x), y)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every target parameter PudNet owns, by the target's state_dict names."""
        z = self.embed(x, y)                                      # (G * d,)
        h = z.view(self.g, 1, self.d)                             # (G, 1, d)
        z_bar = h.mean(0)[0]                                      # (d,)
        u = self.start.view(1, 1, self.d)                         # (1, 1, d)
        params = {}
        for i, ((name, _, _), gen) in enumerate(zip(self.specs, self.generators)):
            o, h = self.gru(u, self.hidden_norm(h))               # (1, 1, d), (G, 1, d)
            o = o[0, 0]                                           # (d,)
            mixed = self.layer_norms[i]((1 - self.mix[i]) * o + self.mix[i] * z_bar)
            for key, value in gen(mixed).items():
                params[f"{name}.{key}"] = value
            u = F.relu(self.next_input(o)).view(1, 1, self.d)
        for key, value in self.norm_weight.items():
            params[key.replace("__", ".") + ".weight"] = value
        for key, value in self.norm_bias.items():
            params[key.replace("__", ".") + ".bias"] = value
        return params

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_temperature.exp()
