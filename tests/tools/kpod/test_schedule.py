"""KPOD's progressive schedule (eqs. 9-13) and question clusters, against hand-computed numbers,
brute force and invariants on seeded random instances."""
import itertools
import math

import pytest
import torch

from thinkpipe.tools.kpod.clusters import idf, kmeans, tfidf, vocabulary
from thinkpipe.tools.kpod.schedule import Plan, budget, plan, remaining, select, step_costs, value

EPS = 0.1


def draw(g: torch.Generator, n: int, k: int, scale: float = 1.0):
    cost = torch.rand(n, generator=g, dtype=torch.float64) * scale
    clusters = torch.randint(0, k, (n,), generator=g)
    return cost, clusters


def random_difficulty(g: torch.Generator, n: int, max_steps: int = 6) -> list[torch.Tensor]:
    return [torch.rand(int(torch.randint(1, max_steps + 1, (1,), generator=g)), generator=g)
            for _ in range(n)]


def normalised(chosen, cost, clusters, beta):
    """f(S) = F(S) - F(0): F(0) = -dD, so f(S) = value(S, dD = 0)."""
    return value(chosen, cost, clusters, 0.0, beta)


def brute_force(cost, clusters, budget_, beta):
    """max f(S) over every S with dH(S) <= dD, enumerated as a (2^N, N) bool matrix."""
    n = cost.shape[0]
    subsets = torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.float64)
    onehot = torch.nn.functional.one_hot(clusters, int(clusters.max()) + 1).double()  # (N, K)
    spent = subsets @ cost                                             # (2^N,)
    f = spent + beta * (subsets @ onehot).sqrt().sum(1)                # (2^N,)
    return float(f[spent <= budget_ + 1e-12].max())


# --- budget (eq. 10) ------------------------------------------------------------------------

def test_budget_ends_and_a_hand_midpoint():
    assert budget(0, 4, 10.0, 3.0) == pytest.approx(3.0)
    assert budget(4, 4, 10.0, 3.0) == pytest.approx(10.0)
    # u = (B - C0)(p + 1) / T^(p+1) = 7 * 1.5 / 4^1.5 = 10.5 / 8 = 1.3125
    # D(1) = u * 1^1.5 / 1.5 + C0 = 0.875 + 3 = 3.875
    assert budget(1, 4, 10.0, 3.0, p=0.5) == pytest.approx(3.875)
    # D(2) = 1.3125 * 2^1.5 / 1.5 + 3 = 0.875 * 2.8284... + 3
    assert budget(2, 4, 10.0, 3.0) == pytest.approx(0.875 * 2 ** 1.5 + 3)
    with pytest.raises(ValueError):
        budget(0, 0, 10.0, 3.0)


# --- value (eq. 12) -------------------------------------------------------------------------

def test_value_hand_example():
    cost = torch.tensor([1.0, 2.0, 3.0])
    clusters = torch.tensor([0, 0, 1])
    # S = {0, 2}: dH = 4, clusters {0: 1, 1: 1} -> F = -(5 - 4) + 2 (1 + 1) = 3
    assert value(torch.tensor([True, False, True]), cost, clusters, 5.0, 2.0) == pytest.approx(3.0)
    # S = {0, 1}: dH = 3, cluster 0 twice -> F = -(5 - 3) + 2 sqrt(2)
    assert value(torch.tensor([True, True, False]), cost, clusters, 5.0, 2.0) == pytest.approx(
        -2 + 2 * math.sqrt(2))
    assert value(torch.zeros(3, dtype=torch.bool), cost, clusters, 5.0, 2.0) == pytest.approx(-5.0)
    # labels are only compared: any integers
    assert value(torch.tensor([True, False, True]), cost, torch.tensor([-7, -7, 40]), 5.0, 2.0) == \
        pytest.approx(3.0)


def test_value_is_monotone_and_submodular():
    g = torch.Generator().manual_seed(1)
    for _ in range(200):
        n = int(torch.randint(2, 12, (1,), generator=g))
        cost, clusters = draw(g, n, int(torch.randint(1, 4, (1,), generator=g)))
        beta, dD = float(torch.rand(1, generator=g)) * 12, float(torch.rand(1, generator=g)) * 5
        big = torch.rand(n, generator=g) < 0.5                         # B
        small = big & (torch.rand(n, generator=g) < 0.5)               # A, a subset of B
        outside = (~big).nonzero().view(-1)
        if len(outside) == 0:
            continue
        x = int(outside[int(torch.randint(len(outside), (1,), generator=g))])

        def gain(s):
            plus = s.clone()
            plus[x] = True
            return value(plus, cost, clusters, dD, beta) - value(s, cost, clusters, dD, beta)

        assert value(small, cost, clusters, dD, beta) <= value(big, cost, clusters, dD, beta) + 1e-9
        assert gain(small) >= gain(big) - 1e-9
        assert gain(big) >= -1e-9


# --- select (eq. 13) ------------------------------------------------------------------------

def test_select_stays_within_the_budget():
    g = torch.Generator().manual_seed(2)
    for _ in range(300):
        n = int(torch.randint(1, 40, (1,), generator=g))
        cost, clusters = draw(g, n, 5)
        cost[torch.rand(n, generator=g) < 0.1] = 0                     # some free elements
        dD = float(torch.rand(1, generator=g)) * float(cost.sum())
        eligible = torch.rand(n, generator=g) < 0.8
        s = select(cost, clusters, dD, 12.0, eligible=eligible)
        assert s.dtype == torch.bool and s.shape == (n,)
        assert float(cost[s].sum()) <= dD + 1e-9
        assert not bool((s & ~eligible).any())


def test_select_nothing_without_budget():
    cost = torch.tensor([0.5, 1.0, 2.0])
    clusters = torch.tensor([0, 1, 2])
    assert not select(cost, clusters, 0.0, 12.0).any()
    assert not select(cost, clusters, -1.0, 12.0).any()
    assert not select(cost, clusters, 0.4, 12.0).any()                 # nothing fits


def test_select_takes_free_elements():
    cost = torch.tensor([0.0, 5.0, 0.0, 1.0])
    clusters = torch.tensor([0, 0, 1, 1])
    assert select(cost, clusters, 0.0, 12.0).tolist() == [True, False, True, False]
    s = select(cost, clusters, 1.0, 12.0)
    assert s.tolist() == [True, False, True, True]
    eligible = torch.tensor([False, True, True, True])
    assert select(cost, clusters, 0.0, 12.0, eligible=eligible).tolist() == [False, False, True, False]


def test_select_is_near_the_brute_force_optimum():
    g = torch.Generator().manual_seed(3)
    worst = 1.0
    for _ in range(150):
        n = int(torch.randint(1, 11, (1,), generator=g))
        cost, clusters = draw(g, n, int(torch.randint(1, 4, (1,), generator=g)))
        beta = float(torch.rand(1, generator=g)) * 12
        dD = float(torch.rand(1, generator=g)) * float(cost.sum())
        best = brute_force(cost, clusters, dD, beta)
        got = normalised(select(cost, clusters, dD, beta, eps=EPS), cost, clusters, beta)
        assert got >= (0.5 - EPS) * best - 1e-9
        worst = min(worst, got / best if best > 0 else 1.0)
    assert worst >= 0.5 - EPS


def test_select_best_singleton_beats_many_tiny():
    # three cheap questions of one cluster (density (0.5 + 1) / 0.5 = 3 first) against one that
    # fills the budget alone (density (10 + 1) / 10 = 1.1): greedy takes the cheap ones, f = 1.5
    # + sqrt(3) = 3.23, and then cannot fit the big one; the singleton has f = 10 + 1 = 11.
    cost = torch.tensor([0.5, 0.5, 0.5, 10.0])
    clusters = torch.tensor([0, 0, 0, 1])
    assert select(cost, clusters, 10.0, 1.0).tolist() == [False, False, False, True]
    # with beta = 12 the cheap ones are worth more: 1.5 + 12 sqrt(3) = 22.3 > 10 + 12 = 22
    assert select(cost, clusters, 10.0, 12.0).tolist() == [True, True, True, False]


def test_select_is_deterministic_and_breaks_ties_by_index():
    cost = torch.ones(4)
    clusters = torch.zeros(4, dtype=torch.long)
    assert select(cost, clusters, 2.0, 12.0).tolist() == [True, True, False, False]
    g = torch.Generator().manual_seed(4)
    cost, clusters = draw(g, 30, 4)
    assert torch.equal(select(cost, clusters, 5.0, 12.0), select(cost, clusters, 5.0, 12.0))


# --- step costs and remaining difficulty (eq. 9) ----------------------------------------------

def test_step_costs_and_remaining_by_hand():
    d = [torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0]), torch.tensor([0.5, 0.25])]
    c = torch.tensor([3, 0, 1])
    # delta: question 0 newly generates step 3 (d = 3); 1 has c = 0; 2 step 1 (0.5)
    assert step_costs(d, c).tolist() == [3.0, 0.0, 0.5]
    # ds = 2: question 0 steps 2-3 (5); question 2 floored at 0: step 1 (0.5)
    assert step_costs(d, c, step=2).tolist() == [5.0, 0.0, 0.5]
    # h: question 0 nothing after step 3; 1 all of it (4); 2 step 2 (0.25)
    assert remaining(d, c).tolist() == [0.0, 4.0, 0.25]
    with pytest.raises(ValueError):
        remaining(d, torch.tensor([4, 0, 0]))


# --- plan -----------------------------------------------------------------------------------

def test_plan_invariants():
    g = torch.Generator().manual_seed(5)
    for _ in range(30):
        n = int(torch.randint(1, 30, (1,), generator=g))
        d = random_difficulty(g, n)
        clusters = torch.randint(0, 5, (n,), generator=g)
        stages = int(torch.randint(1, 7, (1,), generator=g))
        step = int(torch.randint(1, 3, (1,), generator=g))
        p = plan(d, clusters, stages, step=step)
        total = float(sum(x.double().sum() for x in d))
        lengths = torch.tensor([len(x) for x in d])
        assert isinstance(p, Plan) and p.inputs.shape == (stages + 1, n)
        assert p.budgets[0] == pytest.approx(0.3 * total) and p.budgets[-1] == pytest.approx(total)
        assert len(p.spent) == stages + 1 and len(p.chosen) == stages
        assert bool((p.inputs[0] <= lengths).all()) and not p.inputs[-1].any()
        assert p.forced == int((p.inputs[stages - 1] > 0).sum())
        before, spent_before = lengths, 0.0
        for t in range(stages + 1):
            row = p.inputs[t]
            assert bool((row <= before).all())                         # non-increasing in t
            assert p.spent[t] == pytest.approx(float(remaining(d, row).sum()))
            if t < stages:
                drop = before - row
                moved = drop > 0
                assert bool(((drop == 0) | (drop == step) | (moved & (row == 0))).all())
                assert int(moved.sum()) <= p.chosen[t]
                assert float(step_costs(d, before, step)[moved].sum()) <= \
                    p.budgets[t] - spent_before + 1e-9
                assert p.spent[t] <= p.budgets[t] + 1e-9
            before, spent_before = row, p.spent[t]
        assert torch.equal(p.at_epoch(stages + 3), p.inputs[-1])
        assert torch.equal(p.at_epoch(0), p.inputs[0])


def test_plan_by_hand():
    # two questions, each two steps of difficulty 1: B = 4, T = 2, C0 = 0.3 * 4 = 1.2
    d = [torch.tensor([1.0, 1.0]), torch.tensor([1.0, 1.0])]
    p = plan(d, torch.tensor([0, 1]), 2)
    # stage 0: budget 1.2 fits one last step -> question 0 (lower index) moves to c = 1
    # stage 1: D(1) = 2.8 * 0.5^1.5 + 1.2 = 2.19..., dD = 1.19 fits one step; both cost 1 and
    # gain 1 + 12 (the clusters count within S(t) only), so the tie goes to question 0 again
    assert p.inputs.tolist() == [[1, 2], [0, 2], [0, 0]]
    assert p.spent == pytest.approx([1.0, 2.0, 4.0]) and p.chosen == [1, 1] and p.forced == 1
    assert p.budgets == pytest.approx([1.2, 2.8 * 0.5 ** 1.5 + 1.2, 4.0]) and p.budgets[-1] == 4.0


def test_plan_needs_a_stage():
    d = [torch.tensor([1.0])]
    with pytest.raises(ValueError):
        plan(d, torch.tensor([0]), 0)
    with pytest.raises(ValueError):
        plan(d, torch.tensor([0]), 2, step=0)


# --- clusters -------------------------------------------------------------------------------

def test_kmeans_separates_two_blobs():
    g = torch.Generator().manual_seed(6)
    a = torch.randn(20, 3, generator=g) * 0.1
    b = torch.randn(25, 3, generator=g) * 0.1 + 10
    x = torch.cat([a, b])[torch.randperm(45, generator=g)]
    blob = x[:, 0] > 5
    for seed in range(5):
        labels = kmeans(x, 2, seed=seed)
        assert labels.dtype == torch.long and labels.shape == (45,)
        assert len(set(labels[blob].tolist())) == 1 and len(set(labels[~blob].tolist())) == 1
        assert labels[blob][0] != labels[~blob][0]
        assert torch.equal(labels, kmeans(x, 2, seed=seed))            # deterministic


def test_kmeans_caps_k_at_n():
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    labels = kmeans(x, 10)
    assert sorted(labels.tolist()) == [0, 1, 2]
    assert kmeans(torch.zeros(4, 2), 3).tolist() == [0, 0, 0, 0]       # duplicates: one cluster


def test_tfidf():
    texts = ["The cat sat", "the dog sat down", "THE end"]
    rows = tfidf(texts)
    vocab = vocabulary(texts)
    assert rows.shape == (3, len(vocab)) and vocab == ["cat", "dog", "down", "end", "sat", "the"]
    assert rows.norm(dim=1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    weights = idf(texts)
    # "the" in all 3 documents: log(4 / 4) + 1 = 1, the lowest; "sat" in 2: log(4 / 3) + 1
    assert weights[vocab.index("the")] == pytest.approx(1.0) and int(weights.argmin()) == 5
    assert weights[vocab.index("sat")] == pytest.approx(math.log(4 / 3) + 1)
    # in "the cat sat" the common word weighs least
    first = rows[0]
    assert first[vocab.index("the")] < first[vocab.index("sat")] < first[vocab.index("cat")]
    assert tfidf(["", "a"]).tolist() == [[0.0], [1.0]]
