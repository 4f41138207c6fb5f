"""The planners and PlanKD's two modules.

Planner (TCP-like, small): a BEV-raster CNN and a measurement MLP give the initial hidden
state of a GRU that decodes K waypoints autoregressively (each step's input: the previous
waypoint and the target point; its output: the next offset). Teacher and student differ in
width, depth and GRU size (SIZES); both downsample the raster twice before `feature`, so
their channel-mean feature maps (the code's rgb_backbone layer2, averaged over channels)
have the same dimension and one IB encoder reads both. The measurements listed in
spec["masked"] are zeroed before the planner sees them (by default the ego speed: see
PlanKDConfig.mask_measurements).

VIB (PlanKD 2.1, interfuser/plankd.py VIB): MLP D -> h -> h -> 2z with LeakyReLU; mu = the
first z dims, sigma = softplus(rest - 5); a decoder MLP z -> h -> h -> one head per
planning label. WaypointAttention (2.2, WP_Attention): a query from a small CNN over the
raster with two coordinate channels plus the measurements, keys from each waypoint,
a = softmax_k(q . k_k / sqrt(d)).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

SIZES = {"teacher": {"width": 32, "depth": 3, "hidden": 256},
         "student": {"width": 8, "depth": 1, "hidden": 64},
         "tiny": {"width": 4, "depth": 1, "hidden": 32}}
SCALE = 10.0                             # waypoints enter and leave the networks in units of 10 m


def _stage(c_in: int, c_out: int, depth: int, stride: int) -> nn.Sequential:
    layers = [nn.Conv2d(c_in, c_out, 3, stride, 1), nn.ReLU()]
    for _ in range(depth - 1):
        layers += [nn.Conv2d(c_out, c_out, 3, 1, 1), nn.ReLU()]
    return nn.Sequential(*layers)


def as_float(bev: torch.Tensor) -> torch.Tensor:
    return bev.float() / 255 if bev.dtype == torch.uint8 else bev


class Planner(nn.Module):
    def __init__(self, spec: dict):
        super().__init__()
        self.spec = dict(spec)
        w, d, h = spec["width"], spec["depth"], spec["hidden"]
        rows, cols = spec["bev"]
        self.stem = _stage(spec.get("channels", 3), w, 1, 1)
        self.down = nn.Sequential(_stage(w, w, d, 2), _stage(w, 2 * w, d, 2))   # -> feature
        self.head = _stage(2 * w, 4 * w, d, 2)
        flat = 4 * w * math.ceil(rows / 8) * math.ceil(cols / 8)
        self.bev_fc = nn.Sequential(nn.Flatten(), nn.Linear(flat, h), nn.ReLU())
        self.meas_fc = nn.Sequential(nn.Linear(spec["meas"] + 2, 64), nn.ReLU())
        self.init = nn.Sequential(nn.Linear(h + 64, h), nn.Tanh())
        self.gru = nn.GRUCell(4, h)
        self.out = nn.Linear(h, 2)
        keep = torch.ones(spec["meas"])
        keep[list(spec.get("masked", ()))] = 0.0
        self.register_buffer("keep", keep, persistent=False)   # measurements the planner sees

    @staticmethod
    def feature_dim(spec: dict) -> int:
        rows, cols = spec["bev"]
        return math.ceil(rows / 4) * math.ceil(cols / 4)

    def forward(self, bev: torch.Tensor, meas: torch.Tensor, target: torch.Tensor) -> dict:
        fmap = self.down(self.stem(as_float(bev)))                    # (B, 2w, H/4, W/4)
        feature = fmap.mean(1).flatten(1)                             # (B, D): channel mean
        tp = target / SCALE                                           # (B, 2)
        emb = torch.cat([self.bev_fc(self.head(fmap)),
                         self.meas_fc(torch.cat([meas * self.keep, tp], 1))], 1)
        hidden, wp, out = self.init(emb), torch.zeros_like(tp), []
        for _ in range(self.spec["waypoints"]):
            hidden = self.gru(torch.cat([wp, tp], 1), hidden)
            wp = wp + self.out(hidden)
            out.append(wp)
        return {"waypoints": torch.stack(out, 1) * SCALE, "feature": feature}   # (B, K, 2)


class VIB(nn.Module):
    def __init__(self, dim: int, classes: tuple, hidden: int = 512, z: int = 256):
        super().__init__()
        act = nn.LeakyReLU()
        self.z = z
        self.encoder = nn.Sequential(nn.Linear(dim, hidden), act, nn.Linear(hidden, hidden), act,
                                     nn.Linear(hidden, 2 * z))
        self.decoder = nn.Sequential(nn.Linear(z, hidden), act, nn.Linear(hidden, hidden), act,
                                     nn.Linear(hidden, sum(classes)))
        self.classes = tuple(classes)

    def encode(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        stats = self.encoder(h)                                       # (B, 2z)
        return stats[:, :self.z], F.softplus(stats[:, self.z:] - 5)   # mu, sigma: (B, z)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list]:
        mu, sigma = self.encode(h)
        z = mu + sigma * torch.randn_like(sigma)                      # reparameterised (B, z)
        logits = list(self.decoder(z).split(self.classes, dim=1))     # per label (B, C_i)
        return z, mu, sigma, logits


class WaypointAttention(nn.Module):
    def __init__(self, spec: dict, dim: int = 128):
        super().__init__()
        c = spec.get("channels", 3) + 2
        self.bev = nn.Sequential(_stage(c, 16, 1, 2), _stage(16, 32, 1, 2), _stage(32, 64, 1, 2),
                                 nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.query = nn.Sequential(nn.Linear(64 + spec["meas"], 512), nn.ReLU(),
                                   nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, dim))
        self.key = nn.Sequential(nn.Linear(2, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                                 nn.Linear(64, dim))
        self.dim = dim

    def forward(self, bev: torch.Tensor, meas: torch.Tensor, waypoints: torch.Tensor):
        x = as_float(bev)
        b, _, rows, cols = x.shape
        ys = torch.linspace(-1, 1, rows).view(1, 1, rows, 1).expand(b, 1, rows, cols)
        xs = torch.linspace(-1, 1, cols).view(1, 1, 1, cols).expand(b, 1, rows, cols)
        q = self.query(torch.cat([self.bev(torch.cat([x, xs, ys], 1)), meas], 1))   # (B, d)
        k = self.key(waypoints / SCALE)                               # (B, K, d)
        return torch.softmax((k @ q.unsqueeze(-1)).squeeze(-1) / math.sqrt(self.dim), -1)


FORMAT = "thinkpipe-plankd-planner/1"


def load_planner(path: str) -> tuple[Planner, dict]:
    """(the planner in eval mode, the whole checkpoint) from a `train -o` file."""
    from thinkpipe.core.errors import InputError
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # noqa: BLE001  (a truncated or foreign file)
        raise InputError(f"{path}: not a planner checkpoint ({type(e).__name__})") from None
    if type(saved) is not dict or saved.get("format") != FORMAT:
        raise InputError(f"{path}: not a planner checkpoint (written by distill-plankd train)")
    model = Planner(saved["spec"])
    model.load_state_dict(saved["model"])
    return model.eval(), saved
