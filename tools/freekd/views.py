"""The inputs each network sees: FreeKD's one graph, or FreeKD++'s multiple views of it.

A view spec is one of
    original        the graph as loaded
    features:R      each feature column masked (zeroed) with probability R   (GraphCL-style)
    edges:R         each undirected edge dropped with probability R
    PATH            a PyG saved graph with the same nodes (a user's own view: its x and edges)
The two augmentations are drawn anew at every training epoch from the run's seed and are
training-time only: a network is evaluated on the clean graph, as augmentation is used. A view
from a file is that network's input at training and evaluation alike. (FreeKD++'s own view
construction is not available; this is thinkpipe's choice.)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch_geometric.data import Data
from torch_geometric.utils import to_undirected


@dataclass(frozen=True)
class View:
    kind: str                 # original | features | edges | file
    rate: float = 0.0         # masking / dropping probability
    x: torch.Tensor | None = None           # a file view's features (N, F)
    edge_index: torch.Tensor | None = None  # a file view's edges (2, E)

    @property
    def name(self) -> str:
        return self.kind if self.kind in ("original", "file") else f"{self.kind}:{self.rate:g}"


def parse(spec: str, data: Data) -> View:
    """One view spec (see the module docstring) -> View; ValueError when it cannot be used."""
    kind, _, rate = spec.partition(":")
    if kind == "original" and not rate:
        return View("original")
    if kind in ("features", "edges"):
        try:
            r = float(rate)
        except ValueError:
            raise ValueError(f"view {spec!r}: the rate must be a number, as in {kind}:0.2") from None
        if not 0.0 <= r < 1.0:
            raise ValueError(f"view {spec!r}: the rate must be in [0, 1)")
        return View(kind, r)
    from .graph import pyg_saved
    other = pyg_saved(spec)
    if other.num_nodes != data.num_nodes:
        raise ValueError(f"view {spec}: {other.num_nodes} nodes where the graph has {data.num_nodes}")
    return View("file", 0.0, other.x, other.edge_index)


def train_input(view: View, data: Data, g: torch.Generator):
    """(x, edge_index) a network trains on this epoch."""
    if view.kind == "file":
        return view.x, view.edge_index
    x, edge_index = data.x, data.edge_index
    if view.kind == "features" and view.rate > 0:
        keep = (torch.rand(x.size(1), generator=g) >= view.rate).to(x.dtype)  # (F,)
        x = x * keep
    if view.kind == "edges" and view.rate > 0:
        one_way = edge_index[:, edge_index[0] < edge_index[1]]                 # (2, E/2)
        keep = torch.rand(one_way.size(1), generator=g) >= view.rate
        edge_index = to_undirected(one_way[:, keep], num_nodes=data.num_nodes)
    return x, edge_index


def eval_input(view: View, data: Data):
    """(x, edge_index) a network is evaluated on: the clean graph, or a file view's own."""
    if view.kind == "file":
        return view.x, view.edge_index
    return data.x, data.edge_index
