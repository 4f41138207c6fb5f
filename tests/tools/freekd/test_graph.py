"""Graph loading (Planetoid raw files, PyG saved data, records), views and the GNNs."""
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.nn import SAGEConv

from thinkpipe.core.errors import InputError, RecordError
from thinkpipe.tools.freekd import graph
from thinkpipe.tools.freekd.nets import GNN, SAGE
from thinkpipe.tools.freekd.views import View, eval_input, parse, train_input

SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "data",
                      "planetoid")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED, "ind.cora.x")),
                    reason="../shared/data/planetoid is not here (a user's clone)")
def test_cora_from_the_raw_planetoid_files():
    d = graph.planetoid(SHARED, "cora")
    assert (d.num_nodes, d.edge_index.size(1), d.num_features) == (2708, 10556, 1433)
    assert int(d.y.max()) + 1 == 7
    assert [int(d[f"{s}_mask"].sum()) for s in ("train", "val", "test")] == [140, 500, 1000]
    assert bool((d.train_mask & d.test_mask).any()) is False


def _write_planetoid(folder, name="toy"):
    """A 550-node ring in Planetoid's pickled format: 20 labelled (x, y), 520 in allx/ally (the
    loader takes the 500 after the labelled ones as validation), 30 test (tx, ty), the test
    indices shuffled as in the real files."""
    rng = np.random.default_rng(0)
    eye = np.eye(2)
    labels = rng.integers(0, 2, 550)
    test = rng.permutation(np.arange(520, 550))
    files = {"x": sp.csr_matrix(rng.random((20, 3))), "y": eye[labels[:20]],
             "allx": sp.csr_matrix(rng.random((520, 3))), "ally": eye[labels[:520]],
             "tx": sp.csr_matrix(rng.random((30, 3))), "ty": eye[labels[test]],
             "graph": {i: [(i + 1) % 550] for i in range(550)}}
    for key, value in files.items():
        with open(folder / f"ind.{name}.{key}", "wb") as f:
            pickle.dump(value, f)
    (folder / f"ind.{name}.test.index").write_text("".join(f"{i}\n" for i in test))


def test_planetoid_format_written_here_reads_back(tmp_path):
    _write_planetoid(tmp_path)
    d = graph.planetoid(str(tmp_path), "toy")
    assert d.num_nodes == 550 and d.edge_index.size(1) == 1100       # a ring, both directions
    assert d.is_undirected()
    assert [int(d[f"{s}_mask"].sum()) for s in ("train", "val", "test")] == [20, 500, 30]
    with pytest.raises(InputError, match="ind.cora.x"):
        graph.planetoid(str(tmp_path), "cora")


def test_pyg_saved_graph(tmp_path):
    d = graph.synthetic(100, seed=1)
    torch.save(Data(x=d.x, edge_index=d.edge_index, y=d.y, train_mask=d.train_mask,
                    val_mask=d.val_mask, test_mask=d.test_mask), tmp_path / "g.pt")
    back = graph.pyg_saved(str(tmp_path / "g.pt"))
    assert torch.equal(back.x, d.x) and torch.equal(back.train_mask, d.train_mask)
    torch.save(Data(x=d.x, edge_index=d.edge_index), tmp_path / "bare.pt")
    with pytest.raises(RecordError, match="no 'y'"):
        graph.pyg_saved(str(tmp_path / "bare.pt"))


def test_records_and_edge_lists_and_their_errors(tmp_path):
    nodes = [("n.jsonl:1", {"id": "a", "features": [1, 0], "label": 0, "split": "train"}),
             ("n.jsonl:2", {"id": "b", "features": [0, 1], "label": 1, "split": "test"}),
             ("n.jsonl:3", {"id": "c", "features": [1, 1], "label": None})]
    (tmp_path / "e.tsv").write_text("# source target\na b\nb,c\n")
    d = graph.from_records(iter(nodes), str(tmp_path / "e.tsv"))
    assert d.ids == ["a", "b", "c"] and d.edge_index.size(1) == 4 and d.y.tolist() == [0, 1, -1]
    (tmp_path / "bad.tsv").write_text("a b\na z\n")
    with pytest.raises(RecordError, match=r"bad.tsv:2: .*'z'"):
        graph.from_records(iter(nodes), str(tmp_path / "bad.tsv"))
    short = nodes[:1] + [("n.jsonl:2", {"id": "b", "features": [0], "label": 1})]
    with pytest.raises(RecordError, match="n.jsonl:2: 1 features"):
        graph.from_records(iter(short), str(tmp_path / "e.tsv"))
    with pytest.raises(RecordError, match="needs a label"):
        graph.from_records(iter([("n:1", {"id": 1, "features": [1.0], "split": "train"})]),
                           str(tmp_path / "e.tsv"))


def test_synthetic_graph_has_planetoids_split_shape_and_homophily():
    d = graph.synthetic(700, seed=3)
    assert int(d.train_mask.sum()) == 140 and int(d.val_mask.sum()) == 140
    same = (d.y[d.edge_index[0]] == d.y[d.edge_index[1]]).float().mean()
    assert 0.7 < float(same) < 0.9 and d.is_undirected()
    assert torch.equal(graph.synthetic(700, seed=3).x, d.x)


def test_views_mask_features_drop_edges_and_evaluate_clean():
    d = graph.synthetic(300, seed=0)
    g = torch.Generator().manual_seed(0)
    x, e = train_input(parse("features:0.5", d), d, g)
    kept = (x.abs().sum(0) > 0) | (d.x.abs().sum(0) == 0)
    assert 0.3 < float(kept.float().mean()) < 0.7 and torch.equal(e, d.edge_index)
    x, e = train_input(parse("edges:0.5", d), d, g)
    assert 0.35 < e.size(1) / d.edge_index.size(1) < 0.65 and torch.equal(x, d.x)
    assert Data(edge_index=e, num_nodes=300).is_undirected()
    assert eval_input(parse("edges:0.5", d), d)[1] is d.edge_index
    with pytest.raises(ValueError, match="rate"):
        parse("edges:2", d)
    assert View("features", 0.2).name == "features:0.2"


def test_gnns_give_embeddings_and_logits_and_sage_matches_pyg():
    d = graph.synthetic(120, seed=0)
    for arch in ("gcn", "gat", "sage"):
        h, z = GNN(arch, d.num_features, 7, hidden=16, heads=4)(d.x, d.edge_index)
        assert h.shape == (120, 16) and z.shape == (120, 7)
    torch.manual_seed(0)
    ours = SAGE(d.num_features, 16)
    torch.manual_seed(0)
    theirs = SAGEConv(d.num_features, 16)
    assert torch.allclose(ours(d.x, d.edge_index), theirs(d.x, d.edge_index), atol=1e-5)


def test_input_dropout_draws_only_at_non_zero_entries():
    net = GNN("gcn", 50, 2, dropout=0.5)
    x = torch.zeros(2000, 50)
    x[:, :5] = 1.0
    out = net._input_dropout(x)
    assert bool((out[:, 5:] == 0).all())
    assert set(out[:, :5].unique().tolist()) == {0.0, 2.0}
    assert float(out[:, :5].mean()) == pytest.approx(1.0, abs=0.05)   # unbiased, as dropout is
