"""The knowledge judge: rewards by hand, REINFORCE on a fixed problem, and on a toy graph where
each network is the better one on its own half of the nodes."""
import pytest
import torch
from torch_geometric.data import Data

from thinkpipe.tools.freekd import FreeKDConfig
from thinkpipe.tools.freekd.agent import Judge, Snapshot, gap, loss_drop
from thinkpipe.tools.freekd.train import run_once
from thinkpipe.tools.freekd.views import View

LOG2, LOG4 = torch.log(torch.tensor(2.0)).item(), torch.log(torch.tensor(4.0)).item()


def _snap(teacher, structure=(True, False)):
    # node 0 labelled 0: phi gives it p = 0.8, psi 0.5; node 1 unlabelled: phi surer (0.8 vs 0.5)
    phi = torch.tensor([[4.0, 1.0], [1.0, 4.0]]).log()
    psi = torch.tensor([[1.0, 1.0], [1.0, 1.0]]).log()
    return Snapshot([phi, psi], [phi, psi], torch.tensor([0, -1]), torch.tensor([True, False]),
                    torch.tensor(teacher), torch.tensor(structure), torch.zeros(2, 0, dtype=torch.long))


def test_gap_rewards_the_network_that_is_right_or_surer():
    r, r_struct = gap(_snap([0, 1]))
    assert r.tolist() == pytest.approx([0.3, -0.3])     # 0.8 - 0.5, then 0.5 - 0.8
    assert r_struct.tolist() == pytest.approx([0.3, 0.0])   # passed: the node alone (no
    # neighbours); not passed: 0, so the structure reward depends on the structure action
    assert gap(_snap([0, 1], (True, True)))[1].tolist() == pytest.approx([0.3, -0.3])


def test_loss_drop_is_the_receivers_loss_reduction():
    s = _snap([0, 0])
    after_psi = torch.tensor([[3.0, 1.0], [1.0, 4.0]]).log()
    r, _ = loss_drop(s._replace(after=[s.before[0], after_psi]))
    # node 0 (labelled): psi's CE went from log 2 to log(4/3); node 1: KL to phi's 0.2/0.8 fell
    assert r[0].item() == pytest.approx(LOG2 - torch.log(torch.tensor(4 / 3)).item(), rel=1e-5)
    assert r[1].item() > 0


def test_reinforce_learns_a_fixed_problem():
    torch.manual_seed(0)
    n, half = 400, torch.arange(400) < 200
    feats = torch.randn(n, 9)
    feats[:, 2], feats[:, 6] = torch.where(half, 0.1, 1.5), torch.where(half, 1.5, 0.1)
    hs = [torch.randn(n, 8), torch.randn(n, 8)]
    judge = Judge(2, 2, [8, 8])
    opt = torch.optim.Adam(judge.parameters(), lr=1e-3)
    for _ in range(150):
        a1, a2 = judge.act(feats, hs)
        good = torch.where(half, a1 == 0, a1 == 1).float()
        judge.remember(feats, hs, a1, a2, good + 0.5 * torch.randn(n), torch.randn(n))
        judge.update(opt)
    chosen, _ = judge.act(feats, hs, greedy=True)
    assert float((chosen == torch.where(half, 0, 1)).float().mean()) > 0.95


def _half_and_half(seed=0, n=400):
    """Two views of n nodes, 2 classes: phi's features carry the label on the first half only,
    psi's on the second; half the nodes labelled. No edges, so each network is an MLP. (At a
    node KD weight of 1 a network taught wrongly on its own half soon looks no better there.)"""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(2, (n,), generator=g)
    half = torch.arange(n) < n // 2
    signal = torch.nn.functional.one_hot(y, 2).float() * 2 - 1

    def features(good):
        x = torch.randn(n, 4, generator=g)
        x[good, :2] += 3.0 * signal[good]
        return x
    xa, xb = features(half), features(~half)
    edges = torch.zeros(2, 0, dtype=torch.long)
    split = torch.rand(n, generator=g)
    data = Data(x=xa, edge_index=edges, y=y, train_mask=split < 0.5,
                val_mask=(split >= 0.5) & (split < 0.75), test_mask=split >= 0.75)
    data.ids = list(range(n))
    return data, [View("file", 0.0, xa, edges), View("file", 0.0, xb, edges)], half


def _run(judge="rl", epochs=100, **kw):
    data, views, half = _half_and_half()
    cfg = FreeKDConfig(mode="freekd++", networks=2, views=("a", "b"), normalize_features=False,
                       epochs=epochs, judge=judge, node_weight=0.5, **kw).resolved(2)
    rows = []
    return run_once(data, cfg, views, 0, rows.append), rows, half


def test_node_policy_learns_to_pick_the_better_network_as_teacher():
    result, rows, half = _run()
    right = torch.where(half, result.teacher == 0, result.teacher == 1).float()
    assert float(right[half].mean()) > 0.65 and float(right[~half].mean()) > 0.65
    assert float(right.mean()) > 0.8                       # coin flips would give 0.5
    assert rows[-1]["reward_node"] > rows[0]["reward_node"]


def test_runs_are_deterministic_with_a_seed_and_random_judge_has_no_policy():
    a, rows_a, _ = _run(epochs=5)
    b, rows_b, _ = _run(epochs=5)
    exact = ("train_acc", "val_acc", "test_acc", "teacher_share", "structure_share")
    assert [[r[k] for k in exact] for r in rows_a] == [[r[k] for k in exact] for r in rows_b]
    assert torch.equal(a.teacher, b.teacher)
    # float sums over threads may differ in the last bits; the decisions above may not
    assert [r["reward_node"] for r in rows_a] == pytest.approx([r["reward_node"] for r in rows_b],
                                                               rel=1e-4, abs=1e-9)
    c, rows_c, _ = _run(judge="random", epochs=5)
    assert c.teacher is None and "policy_entropy" not in rows_c[-1]
