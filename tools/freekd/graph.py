"""Graphs for freekd: Planetoid raw files, PyG saved data, node records + an edge list, or a
synthetic Cora-like graph; and the augmented views FreeKD++ gives its networks.

Every loader returns a torch_geometric `Data` with x (N, F) float, edge_index (2, E) undirected
without self-loops, y (N,) long (-1 where unknown), train/val/test masks (N,) bool and `ids`, a
list of the N node ids as the output records name them.
"""
from __future__ import annotations

import os

import torch
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from thinkpipe.core.errors import InputError, RecordError

SPLITS = ("train", "val", "test")


def _finish(x, edge_index, y, split_of, ids) -> Data:
    edge_index = to_undirected(remove_self_loops(edge_index)[0], num_nodes=x.size(0))
    data = Data(x=x.float(), edge_index=edge_index, y=y.long())
    for name in SPLITS:
        data[f"{name}_mask"] = split_of == SPLITS.index(name)
    data.ids = ids
    return data


def planetoid(folder: str, name: str) -> Data:
    """DIR/ind.NAME.{x,y,tx,ty,allx,ally,graph,test.index}, the public split (20 per class
    train, 500 val, 1000 test) as PyG's Planetoid dataset builds it; nothing is downloaded."""
    from torch_geometric.io import read_planetoid_data
    missing = [s for s in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
               if not os.path.exists(os.path.join(folder, f"ind.{name}.{s}"))]
    if missing:
        raise InputError(f"{folder}: no Planetoid files ind.{name}.{missing[0]} "
                         f"(missing: {', '.join(missing)})")
    try:
        d = read_planetoid_data(folder, name)
    except Exception as e:  # pickles from elsewhere: say which folder, not a traceback
        raise RecordError(folder, f"cannot read the Planetoid files of {name!r}: {e}") from None
    split = torch.full((d.num_nodes,), -1)
    for k, mask in enumerate((d.train_mask, d.val_mask, d.test_mask)):
        split[mask] = k
    return _finish(d.x, d.edge_index, d.y, split, list(range(d.num_nodes)))


def pyg_saved(path: str) -> Data:
    """A `Data` saved with torch.save, or an InMemoryDataset's processed file (its first graph).
    Loading unpickles the file: load only files you trust."""
    try:
        obj = torch.load(path, weights_only=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:
        raise RecordError(path, f"not a PyG saved graph: {e}") from None
    if isinstance(obj, (tuple, list)) and obj and isinstance(obj[0], dict):
        obj = Data.from_dict(obj[0])
    if not isinstance(obj, Data):
        raise RecordError(path, f"holds a {type(obj).__name__}, not a torch_geometric Data")
    for key in ("x", "edge_index", "y", "train_mask", "val_mask", "test_mask"):
        if obj.get(key) is None:
            raise RecordError(path, f"the graph has no {key!r}")
    split = torch.full((obj.num_nodes,), -1)
    for k, name in enumerate(SPLITS):
        mask = obj[f"{name}_mask"]
        split[mask[:, 0] if mask.dim() == 2 else mask] = k
    return _finish(obj.x, obj.edge_index, obj.y, split, list(range(obj.num_nodes)))


def _node(where: str, record: dict, width: int | None):
    if not isinstance(record, dict) or "id" not in record or "features" not in record:
        raise RecordError(where, "a node record needs id and features")
    feats = record["features"]
    if not isinstance(feats, list) or not all(isinstance(v, (int, float)) and
                                               not isinstance(v, bool) for v in feats):
        raise RecordError(where, "features must be a list of numbers")
    if width is not None and len(feats) != width:
        raise RecordError(where, f"{len(feats)} features where the first node has {width}")
    label, split = record.get("label"), record.get("split")
    if label is not None and (not isinstance(label, int) or isinstance(label, bool) or label < 0):
        raise RecordError(where, f"label must be a class number >= 0 or null, not {label!r}")
    if split in SPLITS and label is None:
        raise RecordError(where, f"a {split} node needs a label")
    return str(record["id"]), feats, -1 if label is None else label, \
        SPLITS.index(split) if split in SPLITS else -1


def from_records(items, edges_path: str) -> Data:
    """Node records {id, features, label, split} as (where, record) pairs, and an edge list:
    text lines "SOURCE TARGET" (spaces, tabs or a comma; # comments) or records with source
    and target. Unknown node ids in the edge list are errors naming file and line."""
    ids, feats, labels, splits, index = [], [], [], [], {}
    for where, record in items:
        nid, f, label, split = _node(where, record, len(feats[0]) if feats else None)
        if nid in index:
            raise RecordError(where, f"node id {nid!r} appears twice")
        index[nid] = len(ids)
        ids.append(nid), feats.append(f), labels.append(label), splits.append(split)
    if not ids:
        raise RecordError("input", "no node records")
    pairs = [(index.get(a), index.get(b), where, a, b) for where, a, b in _edges(edges_path)]
    for s, t, where, a, b in pairs:
        if s is None or t is None:
            raise RecordError(where, f"edge names node {a if s is None else b!r}, which no "
                              "node record has")
    edge_index = torch.tensor([[p[0] for p in pairs], [p[1] for p in pairs]], dtype=torch.long)
    return _finish(torch.tensor(feats), edge_index.view(2, -1), torch.tensor(labels),
                   torch.tensor(splits), ids)


def _edges(path: str):
    if path.endswith((".jsonl", ".json", ".parquet", ".jsonl.gz")):
        from thinkpipe.core.records import read_records
        reader = read_records([path], "fail")
        for record in reader:
            if not isinstance(record, dict) or "source" not in record or "target" not in record:
                raise RecordError(reader.where, "an edge record needs source and target")
            yield reader.where, str(record["source"]), str(record["target"])
        return
    try:
        f = open(path, encoding="utf-8")
    except OSError as e:
        raise InputError(f"{path}: cannot open: {e.strerror}") from None
    with f:
        for n, line in enumerate(f, 1):
            text = line.split("#", 1)[0].replace(",", " ").split()
            if not text:
                continue
            if len(text) != 2:
                raise RecordError(f"{path}:{n}", "an edge line is SOURCE TARGET")
            yield f"{path}:{n}", text[0], text[1]


def synthetic(n: int = 700, classes: int = 7, features: int = 300, seed: int = 0,
              degree: float = 4.0, homophily: float = 0.8) -> Data:
    """A Cora-like graph: a stochastic block model (`homophily` of each node's edges inside its
    class, mean degree `degree`) with sparse binary bag-of-words features, each class drawing a
    third of its words from its own topic; Planetoid's split shape (20 per class train, fewer
    below 700 nodes, then val and test)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(classes, (n,), generator=g)
    m = int(n * degree / 2)
    src = torch.randint(n, (m,), generator=g)
    same = torch.rand(m, generator=g) < homophily
    pool = [torch.nonzero(y == c).view(-1) for c in range(classes)]
    dst = torch.randint(n, (m,), generator=g)
    for c in range(classes):
        pick = same & (y[src] == c)
        dst[pick] = pool[c][torch.randint(len(pool[c]), (int(pick.sum()),), generator=g)]
    topic = torch.randint(classes, (features,), generator=g)
    x = torch.zeros(n, features)
    for i in range(n):
        own = torch.nonzero(topic == y[i]).view(-1)
        words = torch.cat([own[torch.randint(len(own), (6,), generator=g)],
                           torch.randint(features, (12,), generator=g)])
        x[i, words] = 1.0
    split = torch.full((n,), -1)
    order = torch.randperm(n, generator=g)
    per_class = max(1, min(20, n // (5 * classes)))   # 20 from 700 nodes up, fewer below
    train = torch.cat([order[y[order] == c][:per_class] for c in range(classes)])
    split[train] = 0
    rest = order[split[order] == -1]
    n_val, n_test = min(500, n // 5), min(1000, n * 2 // 5)
    split[rest[:n_val]], split[rest[n_val:n_val + n_test]] = 1, 2
    return _finish(x, torch.stack([src, dst]), y, split, list(range(n)))
