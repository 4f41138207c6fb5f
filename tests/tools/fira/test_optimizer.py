"""Fira: invariants of Algorithm 1, the released variant against the official package."""
import copy

import pytest
import torch

from thinkpipe.tools.fira import Fira, GaLore, param_groups
from thinkpipe.tools.fira import maths


def run(opt_cls, w0, grads, **kw):
    p = torch.nn.Parameter(w0.clone())
    opt = opt_cls([{"params": [p], "rank": kw.pop("rank"), "update_proj_gap": kw.pop("gap", 200),
                    "alpha": kw.pop("alpha", 1.0), "proj_type": "std"}], lr=1e-2, **kw)
    for g in grads:
        p.grad = g.clone()
        opt.step()
    return p.detach(), opt


@pytest.fixture
def seq():
    torch.manual_seed(0)
    return torch.randn(12, 30), [torch.randn(12, 30) for _ in range(6)]


def test_full_rank_alpha_1_fira_equals_galore(seq):
    w0, grads = seq
    fira, _ = run(Fira, w0, grads, rank=12)
    galore, _ = run(GaLore, w0, grads, rank=12)
    assert torch.allclose(fira, galore, atol=1e-5)  # the residual of a full basis is zero


def test_with_an_identity_basis_fira_is_adam():
    """Adam is not rotation-invariant, so full-rank Fira equals Adam only when the SVD basis
    is the identity up to signs: diagonal gradients with decreasing magnitudes."""
    w0 = torch.zeros(4, 6)
    grads = []
    for k in range(5):
        g = torch.zeros(4, 6)
        g[range(4), range(4)] = torch.tensor([4.0, 3.0, 2.0, 1.0]) * (1 + 0.1 * k)
        grads.append(g)
    fira, _ = run(Fira, w0, grads, rank=4, gap=1)
    p = torch.nn.Parameter(w0.clone())
    adam = Fira([p], lr=1e-2)  # no rank: plain AdamW with the same step rule
    for g in grads:
        p.grad = g.clone()
        adam.step()
    assert torch.allclose(fira, p.detach(), atol=1e-6)


def test_limiter_bounds_norm_growth():
    prev = None
    norms = []
    for scale in [1.0, 5.0, 50.0, 0.5, 80.0]:
        s, prev = maths.limit(torch.full((3, 3), scale), prev, 1.01)
        norms.append(float(s.norm()))
    for a, b in zip(norms, norms[1:]):
        assert b <= 1.01 * a * (1 + 1e-6)


@pytest.mark.parametrize("shape", [(12, 30), (30, 12)])
@pytest.mark.parametrize("variant", ["paper", "released"])
@pytest.mark.parametrize("mode", ["column", "matrix"])
def test_fold_equals_the_explicit_update(shape, variant, mode):
    """alpha P N + a * limit(S phi), formed explicitly, equals project_back(X) + G * coef."""
    torch.manual_seed(1)
    grad, alpha, gamma = torch.randn(*shape), 0.25, 1.01
    which = maths.side(grad.shape)
    basis = maths.basis(torch.randn(*shape), 5, which)
    low = maths.project(grad, basis, which)
    direction = torch.randn_like(low)
    c, a = (alpha, 1.0) if variant == "released" else (1.0, alpha)
    phi = maths.scaling(direction, low, which, mode)
    g_sq = maths.axis_sq_norms(grad, which)
    for prev in (None, torch.tensor(0.5)):
        s, norm = maths.limit(maths.residual(grad, low, basis, which, c) * phi, prev, gamma)
        explicit = alpha * maths.project_back(direction, basis, which) + a * s
        batch_prev = torch.full((2, 1, 1), torch.inf if prev is None else float(prev))
        x, coef, folded_norm = maths.fold(torch.stack([g_sq, g_sq]), torch.stack([low, low]),
                                          torch.stack([direction, direction]), phi, batch_prev,
                                          which, alpha, c, a, gamma)
        for k in range(2):  # a batch of two identical matrices: both get the explicit update
            assert torch.allclose(maths.project_back(x[k], basis, which) + grad * coef[k],
                                  explicit, atol=1e-5)
            assert torch.allclose(folded_norm[k].reshape(()), norm, rtol=1e-5)


def test_scaling_shapes_and_sides():
    n_left, r_left = torch.rand(4, 20), torch.rand(4, 20)
    assert maths.scaling(n_left, r_left, "left").shape == (1, 20)
    n_right, r_right = torch.rand(20, 4), torch.rand(20, 4)
    assert maths.scaling(n_right, r_right, "right").shape == (20, 1)
    assert maths.scaling(n_left, r_left, "left", "matrix").shape == (1, 1)
    assert maths.scaling(torch.rand(3, 4, 20), torch.rand(3, 4, 20), "left").shape == (3, 1, 20)
    phi = maths.scaling(n_left, r_left, "left")  # column j: ||N_:,j|| / ||R_:,j||
    assert torch.allclose(phi[0, 7], n_left[:, 7].norm() / r_left[:, 7].norm())
    assert maths.side(torch.Size([4, 20])) == "left" and maths.side(torch.Size([20, 4])) == "right"


def test_projector_refreshes_every_T_steps(seq):
    w0, grads = seq
    p = torch.nn.Parameter(w0.clone())
    opt = Fira([{"params": [p], "rank": 3, "update_proj_gap": 2, "alpha": 1.0}], lr=1e-2)
    bases = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        bases.append(opt.state[p]["basis"].clone())
    same = [torch.equal(a, b) for a, b in zip(bases, bases[1:])]
    assert same == [True, False, True, False, True]   # new bases at steps 0, 2, 4


def test_state_size_is_mr_plus_2nr_plus_1(seq):
    w0, grads = seq
    _, opt = run(Fira, w0, grads[:1], rank=3)
    m, n, r = 12, 30, 3
    assert opt.state_size()["projected"] == m * r + 2 * n * r + 1


def test_paper_and_released_agree_at_alpha_1_and_differ_at_quarter(seq):
    w0, grads = seq
    a, _ = run(Fira, w0, grads, rank=3, alpha=1.0, variant="paper")
    b, _ = run(Fira, w0, grads, rank=3, alpha=1.0, variant="released")
    assert torch.allclose(a, b, atol=1e-6)
    a, _ = run(Fira, w0, grads, rank=3, alpha=0.25, variant="paper")
    b, _ = run(Fira, w0, grads, rank=3, alpha=0.25, variant="released")
    # released adds the residual at full size (and keeps 3/4 of the in-subspace gradient)
    assert (b - w0).norm() > 1.5 * (a - w0).norm()


@pytest.mark.parametrize("shape", [(16, 40), (40, 16)])
def test_released_variant_matches_the_official_package(shape):
    fira = pytest.importorskip("fira")
    torch.manual_seed(1)
    w0, b0 = torch.randn(*shape), torch.randn(7)
    ours = [torch.nn.Parameter(w0.clone()), torch.nn.Parameter(b0.clone())]
    theirs = [torch.nn.Parameter(w0.clone()), torch.nn.Parameter(b0.clone())]
    group = {"rank": 4, "update_proj_gap": 3, "alpha": 0.25, "proj_type": "std"}
    o1 = Fira([{"params": [ours[1]]}, {"params": [ours[0]], **group}], lr=1e-2, variant="released",
              weight_decay=0.01)
    o2 = fira.FiraAdamW([{"params": [theirs[1]]}, {"params": [theirs[0]], **group}], lr=1e-2,
                        weight_decay=0.01, no_deprecation_warning=True)
    for _ in range(12):
        g, gb = torch.randn(*shape), torch.randn(7)
        for params in (ours, theirs):
            params[0].grad, params[1].grad = g.clone(), gb.clone()
        o1.step()
        o2.step()
        for a, b in zip(ours, theirs):
            assert ((a - b).abs().max() / b.abs().max()).item() < 1e-6


def test_state_dict_resumes_exactly(seq):
    w0, grads = seq
    full, _ = run(Fira, w0, grads, rank=3, gap=2, alpha=0.25)
    p = torch.nn.Parameter(w0.clone())
    opt = Fira([{"params": [p], "rank": 3, "update_proj_gap": 2, "alpha": 0.25}], lr=1e-2)
    for g in grads[:3]:
        p.grad = g.clone()
        opt.step()
    saved, weights = copy.deepcopy(opt.state_dict()), p.detach().clone()
    q = torch.nn.Parameter(weights)
    again = Fira([{"params": [q], "rank": 3, "update_proj_gap": 2, "alpha": 0.25}], lr=1e-2)
    again.load_state_dict(saved)
    for g in grads[3:]:
        q.grad = g.clone()
        again.step()
    assert torch.equal(q.detach(), full)


def test_param_groups_refuse_to_select_nothing():
    from transformers import LlamaConfig, LlamaForCausalLM
    model = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32,
                                         num_hidden_layers=1, num_attention_heads=2))
    groups = param_groups(model, targets=["attn", "mlp"], rank=4)
    assert len(groups[1]["params"]) == 7                        # q k v o gate up down
    assert len(param_groups(model, targets=["Linear"])[1]["params"]) == 8   # + lm_head
    with pytest.raises(ValueError, match="no matrix selected"):
        param_groups(model, targets=["conv"])


def test_bad_arguments():
    p = torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError):
        Fira([p], variant="ours")
    with pytest.raises(ValueError, match="matrices"):
        Fira([{"params": [p], "rank": 2}])


def test_fused_adamw_kernel_follows_the_package_rule(monkeypatch):
    """Non-projected groups use torch's fused kernel with eps / sqrt(1 - b2^t); the foreach
    path (devices without the kernel) computes the package's rule directly. Both must agree."""
    from thinkpipe.tools.fira import optimizer
    torch.manual_seed(3)
    w0, grads = torch.randn(5, 7), [torch.randn(5, 7) * 10 ** -k for k in range(6)]
    finals = []
    for devices in (optimizer.FUSED_DEVICES, ()):
        monkeypatch.setattr(optimizer, "FUSED_DEVICES", devices)
        p = torch.nn.Parameter(w0.clone())
        opt = Fira([p], lr=1e-2, weight_decay=0.1)
        for g in grads:
            p.grad = g.clone()
            opt.step()
        finals.append(p.detach())
    assert torch.allclose(finals[0], finals[1], rtol=1e-6, atol=1e-7)
    assert not torch.equal(finals[0], w0)
