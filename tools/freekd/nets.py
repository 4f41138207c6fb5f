"""The GNNs FreeKD trains: a PyG message-passing encoder and its own FC classifier.

    h = encoder(x, A)     L conv layers (GCN, GAT or GraphSAGE), ReLU and dropout between
    z = FC(dropout(h))    logits (N, C)

FreeKD's Fig. 2 has exactly this split: structure-level KD reads h (before the FC layer),
node-level KD reads z (after it). GAT's hidden width is split over its heads (concatenated),
so every architecture's h has `hidden` columns.

Dropout on the input features draws only at their non-zero entries (as the original GCN code
does for its sparse bag-of-words inputs): the same distribution as dense dropout, since a zero
stays zero, at a fiftieth of the random draws on Cora (1.3% non-zero).
"""
from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import GATConv, GCNConv, SAGEConv

ARCHS = ("gcn", "gat", "sage")


class SAGE(SAGEConv):
    """GraphSAGE (mean) with the neighbour projection moved before the aggregation when it
    narrows: W mean_j x_j = mean_j W x_j, so the output is PyG's SAGEConv's to rounding, but
    the mean runs over `out` columns, not 1433 (Cora's first layer: 5x faster)."""

    def forward(self, x, edge_index):
        if self.in_channels <= self.out_channels or self.project or self.normalize:
            return super().forward(x, edge_index)
        xl = x @ self.lin_l.weight.T                                               # (N, H)
        out = self.propagate(edge_index, x=(xl, xl)) + self.lin_l.bias             # (N, H)
        return out + self.lin_r(x) if self.root_weight else out


def _conv(arch: str, d_in: int, d_out: int, heads: int) -> nn.Module:
    if arch == "gcn":
        return GCNConv(d_in, d_out, cached=False)
    if arch == "sage":
        return SAGE(d_in, d_out, aggr="mean")
    if arch == "gat":
        if d_out % heads:
            raise ValueError(f"GAT's hidden size {d_out} is not a multiple of its {heads} heads")
        return GATConv(d_in, d_out // heads, heads=heads, dropout=0.6)
    raise ValueError(f"unknown GNN architecture {arch!r}: choose from {', '.join(ARCHS)}")


class GNN(nn.Module):
    """`layers` convs of width `hidden`, then a linear classifier; forward -> (h, logits)."""

    def __init__(self, arch: str, d_in: int, n_classes: int, hidden: int = 64,
                 layers: int = 2, dropout: float = 0.5, heads: int = 8):
        super().__init__()
        if layers < 1:
            raise ValueError("a GNN needs at least one layer")
        self.arch, self.dropout = arch, dropout
        dims = [d_in] + [hidden] * layers
        self.convs = nn.ModuleList(_conv(arch, a, b, heads) for a, b in zip(dims, dims[1:]))
        self.fc = nn.Linear(hidden, n_classes)
        self._seen: tuple | None = None      # (x, its non-zero indices) of the last input

    def _input_dropout(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.dropout == 0:
            return x
        if self._seen is None or self._seen[0] is not x:
            self._seen = (x, x.nonzero(as_tuple=True))
        nz = self._seen[1]
        keep = (torch.rand(nz[0].numel(), device=x.device) >= self.dropout).to(x.dtype)
        out = torch.zeros_like(x)
        out[nz] = x[nz] * keep / (1 - self.dropout)                               # (N, F)
        return out

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor):
        h = self._input_dropout(x)                                                 # (N, F)
        for n, conv in enumerate(self.convs):
            if n:
                h = nn.functional.dropout(h, self.dropout, self.training)
            h = torch.relu(conv(h, edge_index))                                    # (N, H)
        z = self.fc(nn.functional.dropout(h, self.dropout, self.training))         # (N, C)
        return h, z
