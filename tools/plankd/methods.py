"""Training objectives: `--method none|kd|feature|plankd`, and PlanKD's `--variant
paper|released`. Each is one function of a step's tensors returning its named terms, the
total under "loss"; a new one is one function and one registry entry.

    none      c L_w: L_w the mean L1 between the planner's and the expert's waypoints
    kd        c (L_w + lambda mean L1 to the teacher's waypoints) (output distillation)
    feature   c (L_w + lambda MSE between the channel-mean feature maps) (feature-L2 KD)
    plankd    paper:    c (L_w + lambda_w* sum_k a_k |w^S_k - w^T_k|) + b_z L_z + b_r L_rank + b_e L_e,
                        keys and safety targets from the teacher's waypoints (the framework figure)
              released: c sum_k a_k |w^S_k - w^gt_k| + b_z L_z + b_r L_rank + b_e L_e, keys and
                        targets from the ground truth, no teacher-waypoint term (plankd.py,
                        train.py: wp_g_loss = 0)

c = --wp-weight, 0.02: the code's total loss weights its waypoint loss by 0.2 and that loss
is a mean over the K = 10 waypoints of weights summing to 1 (WaypointL1Loss; the attentive
one is mean_k a_k l_k), so a convex combination of the per-waypoint L1s enters with 0.2 / 10.
The regularisers' weights (0.1, 0.1, 0.005) are the code's relative to that; with c = 1 they
would be 50 times weaker than in the release. For the other methods c only scales the loss
(AdamW is invariant to it).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import maths


@dataclass
class Step:
    """What one objective sees. Teacher outputs are detached (the teacher is frozen)."""
    batch: object                        # data.Frames (one mini-batch)
    student: dict                        # Planner outputs: waypoints (B, K, 2), feature (B, D)
    teacher: dict | None                 # the same for the teacher, or None (method none)
    vib: object = None                   # models.VIB (plankd)
    attention: object = None             # models.WaypointAttention (plankd)


def _l_w(s: Step) -> torch.Tensor:
    return maths.waypoint_l1(s.student["waypoints"], s.batch.waypoints).mean()


def none(s: Step, cfg) -> dict:
    l_w = _l_w(s)
    return {"loss": cfg.wp_weight * l_w, "l_w": l_w}


def kd(s: Step, cfg) -> dict:
    l_w = _l_w(s)
    l_kd = maths.waypoint_l1(s.student["waypoints"], s.teacher["waypoints"]).mean()
    return {"loss": cfg.wp_weight * (l_w + cfg.kd_weight * l_kd), "l_w": l_w, "l_kd": l_kd}


def feature(s: Step, cfg) -> dict:
    l_w = _l_w(s)
    l_feat = F.mse_loss(s.student["feature"], s.teacher["feature"])
    return {"loss": cfg.wp_weight * (l_w + cfg.kd_weight * l_feat), "l_w": l_w,
            "l_feat": l_feat}


def _regularisers(s: Step, keys: torch.Tensor, cfg) -> tuple[torch.Tensor, dict]:
    """Attention over `keys` (B, K, 2) and the terms every PlanKD variant adds."""
    b = s.batch
    a = s.attention(b.bev, b.meas, keys)                                     # (B, K)
    rho = maths.safety_density(keys, b.actors, b.actor_mask, cfg.sigma)      # (B, K)
    z_t = s.vib(s.teacher["feature"])[0].detach()                            # (B, z)
    z_s = s.vib(s.student["feature"])[0]                                     # (B, z)
    terms = {"l_z": maths.code_l1(z_t, z_s), "l_rank": maths.ranking_loss(a, rho, cfg.margin),
             "l_e": maths.neg_entropy(a)}
    extra = cfg.beta_z * terms["l_z"] + cfg.beta_r * terms["l_rank"] + cfg.beta_e * terms["l_e"]
    return a, {**terms, "extra": extra}


def plankd_paper(s: Step, cfg) -> dict:
    a, t = _regularisers(s, s.teacher["waypoints"], cfg)
    l_w = _l_w(s)
    l_wstar = maths.attentive(maths.waypoint_l1(s.student["waypoints"], s.teacher["waypoints"]), a)
    loss = cfg.wp_weight * (l_w + cfg.wstar_weight * l_wstar) + t.pop("extra")
    return {"loss": loss, "l_w": l_w, "l_wstar": l_wstar, **t}


def plankd_released(s: Step, cfg) -> dict:
    a, t = _regularisers(s, s.batch.waypoints, cfg)
    l_w = maths.attentive(maths.waypoint_l1(s.student["waypoints"], s.batch.waypoints), a)
    return {"loss": cfg.wp_weight * l_w + t.pop("extra"), "l_w": l_w, **t}


VARIANTS = {"paper": plankd_paper, "released": plankd_released}
METHODS = {"none": none, "kd": kd, "feature": feature, "plankd": None}


def objective(method: str, variant: str):
    """The loss function for `--method` (and, for plankd, `--variant`)."""
    return VARIANTS[variant] if method == "plankd" else METHODS[method]
