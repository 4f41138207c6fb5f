"""The planners and PlanKD's modules: shapes, attention that sums to 1, matching IB feature
dimensions between teacher and student, and the objectives' registry (PlanKD with its weights
at zero is the plain objective)."""
import dataclasses

import pytest
import torch

from thinkpipe.tools.plankd import PlanKDConfig
from thinkpipe.tools.plankd.methods import Step, objective
from thinkpipe.tools.plankd.models import SIZES, VIB, Planner, WaypointAttention

SPEC = {"bev": (32, 80), "channels": 3, "meas": 5, "waypoints": 10}


class Batch:
    def __init__(self, b=6, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.bev = torch.randint(0, 256, (b, 3, 32, 80), generator=g, dtype=torch.uint8)
        self.meas = torch.randn(b, 5, generator=g)
        self.target = torch.randn(b, 2, generator=g) * 10
        self.waypoints = torch.cumsum(torch.rand(b, 10, 2, generator=g) * 4, 1)
        self.actors = torch.randn(b, 3, 2, generator=g) * 20
        self.actor_mask = torch.ones(b, 3, dtype=torch.bool)
        self.labels = torch.zeros(b, 8, dtype=torch.long)


def _planner(size):
    torch.manual_seed(0)
    return Planner({**SPEC, **SIZES[size]})


def test_teacher_and_student_shapes_and_feature_dims_match():
    b = Batch()
    t, s = _planner("teacher"), _planner("student")
    ot, os_ = t(b.bev, b.meas, b.target), s(b.bev, b.meas, b.target)
    assert ot["waypoints"].shape == os_["waypoints"].shape == (6, 10, 2)
    assert ot["feature"].shape == os_["feature"].shape == (6, Planner.feature_dim(SPEC))
    n = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert n(t) > 10 * n(s)


def test_attention_sums_to_one_over_the_waypoints():
    b = Batch()
    a = WaypointAttention(SPEC)(b.bev, b.meas, b.waypoints)
    assert a.shape == (6, 10)
    assert torch.allclose(a.sum(1), torch.ones(6), atol=1e-6)
    assert (a > 0).all()


def test_vib_sigma_is_positive_and_heads_split_by_classes():
    vib = VIB(Planner.feature_dim(SPEC), (3, 2, 2), hidden=32, z=8)
    z, mu, sigma, logits = vib(torch.randn(4, Planner.feature_dim(SPEC)))
    assert z.shape == mu.shape == sigma.shape == (4, 8)
    assert (sigma > 0).all()
    assert [lg.shape[1] for lg in logits] == [3, 2, 2]


def _step(cfg, seed=0):
    b = Batch()
    torch.manual_seed(seed)
    t, s = _planner("teacher").eval(), _planner("student")
    vib = VIB(Planner.feature_dim(SPEC), (3,) + (2,) * 7, 64, 16)
    att = WaypointAttention(SPEC)
    with torch.no_grad():
        t_out = t(b.bev, b.meas, b.target)
    return Step(b, s(b.bev, b.meas, b.target), t_out, vib, att)


def test_plankd_with_its_weights_at_zero_is_the_plain_objective():
    zero = PlanKDConfig(method="plankd", wstar_weight=0, beta_z=0, beta_r=0, beta_e=0)
    step = _step(zero)
    base = objective("none", "paper")(step, zero)["loss"]
    assert objective("plankd", "paper")(step, zero)["loss"].item() == pytest.approx(base.item())
    full = objective("plankd", "paper")(step, dataclasses.replace(zero, wstar_weight=1.0))
    assert full["loss"].item() > base.item()


def test_released_variant_weights_the_ground_truth_and_has_no_teacher_term():
    cfg = PlanKDConfig(method="plankd", variant="released")
    step = _step(cfg)
    terms = objective("plankd", "released")(step, cfg)
    assert "l_wstar" not in terms
    assert {"l_z", "l_rank", "l_e"} <= terms.keys()
    # uniform attention would give the plain mean L1: this one is a reweighting of it
    per = (step.student["waypoints"] - step.batch.waypoints).abs().mean(-1)
    assert per.min(1).values.mean() <= terms["l_w"].item() <= per.max(1).values.mean()


def test_kd_and_feature_add_their_term_to_the_ground_truth_loss():
    cfg = PlanKDConfig(method="kd")
    step = _step(cfg)
    base = objective("none", "paper")(step, cfg)["loss"].item()
    kd = objective("kd", "paper")(step, cfg)
    assert kd["loss"].item() == pytest.approx(base + cfg.wp_weight * kd["l_kd"].item())
    feat = objective("feature", "paper")(step, cfg)
    assert feat["loss"].item() == pytest.approx(base + cfg.wp_weight * feat["l_feat"].item())


def test_the_waypoint_terms_carry_the_codes_weight_against_the_regularisers():
    cfg = PlanKDConfig(method="plankd", variant="released")
    step = _step(cfg)
    t = objective("plankd", "released")(step, cfg)
    regs = 0.1 * t["l_z"] + 0.1 * t["l_rank"] + 0.005 * t["l_e"]
    assert t["loss"].item() == pytest.approx((0.2 / 10 * t["l_w"] + regs).item(), rel=1e-5)


def test_config_rejects_a_distilled_teacher():
    with pytest.raises(ValueError, match="teacher trains alone"):
        PlanKDConfig(role="teacher", method="plankd")


def test_a_masked_measurement_never_reaches_the_planner():
    b = Batch()
    torch.manual_seed(0)
    masked = Planner({**SPEC, **SIZES["tiny"], "masked": [0]})
    seen = Planner({**SPEC, **SIZES["tiny"]})
    seen.load_state_dict(masked.state_dict())
    faster = b.meas.clone()
    faster[:, 0] += 1.0
    run = lambda m, meas: m(b.bev, meas, b.target)["waypoints"]  # noqa: E731
    assert torch.equal(run(masked, b.meas), run(masked, faster))
    assert not torch.allclose(run(seen, b.meas), run(seen, faster))
