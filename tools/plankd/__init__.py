"""distill-plankd: compress an end-to-end motion planner (PlanKD: Feng, Li, Ren, Yuan, Wang,
"On the Road to Portability: Compressing End-to-End Motion Planner for Autonomous Driving",
CVPR 2024; arXiv 2403.01238), with a real simulator to collect data and drive in.

`collect` drives highway-env's IDM/MOBIL expert and records BEV rasters, measurements, target
points, future waypoints, actor positions and planning labels (scene.py, data.py). `train`
fits a planner (models.py: BEV CNN + GRU waypoint decoder) as a teacher, or as a student
alone, with output KD, feature-L2 KD or PlanKD (methods.py, maths.py): an information
bottleneck distils only planning-relevant features (the student's code pulled to the
teacher's), and safety-aware attention over the waypoints, ranked by the actor density
around each waypoint, weights the waypoint distillation. `drive` runs a planner closed-loop
(waypoints -> a pure-pursuit and speed controller) and scores it like a CARLA route.

Departures: highway-env stands in for CARLA; the paper's text is not available, so `--variant
paper` follows the framework figure (keys and distillation targets from the teacher's
waypoints) and `--variant released` the code (keys from and weighting of the ground truth,
no teacher-waypoint term). The IB module is trained by its own optimiser only (the release
also adds it to the main one: `--ib-in-main`); the teacher is in eval mode (the release
leaves it in train mode, issue #3). Sizes, label set and controller are ours.

    distill-plankd collect --episodes 20 --seed 0 -o data.parquet
    distill-plankd train --role teacher --epochs 10 -o teacher.pt data.parquet > teacher.jsonl
    distill-plankd train --role student --method plankd --teacher teacher.pt --epochs 10 -o student.pt data.parquet > student.jsonl
    distill-plankd drive --model student.pt --episodes 20 --seed 1000
"""
from __future__ import annotations

from dataclasses import dataclass

ROLES = ("teacher", "student")


@dataclass(frozen=True)
class PlanKDConfig:
    role: str = "student"                # teacher | student (decides the default size)
    method: str = "none"                 # none | kd | feature | plankd (methods.py)
    variant: str = "paper"               # plankd: paper (teacher waypoints) | released (ground truth)
    size: str = ""                       # models.SIZES entry ("": the role's own)
    width: int = 0                       # conv width override (0: the size's)
    depth: int = 0                       # convs per stage override (0: the size's)
    hidden: int = 0                      # GRU width override (0: the size's)
    mask_measurements: tuple = (0,)      # measurement indices the planner does not see (0: speed)
    epochs: int = 10                     # passes over the training episodes
    batch_size: int = 64                 # frames per step
    lr: float = 1e-3                     # AdamW peak learning rate (cosine, warm-up)
    weight_decay: float = 0.05           # AdamW weight decay (the paper's recipe)
    warmup_epochs: float = 1.0           # linear warm-up (the paper's recipe: 1 of 10)
    clip: float = 10.0                   # gradient-norm clip (the paper's recipe)
    wp_weight: float = 0.02              # c: the waypoint terms' weight (code: 0.2 x mean over K = 10)
    kd_weight: float = 1.0               # kd / feature: the distillation term's weight
    wstar_weight: float = 1.0            # plankd paper: lambda of L_w*, the attentive teacher term
    beta: float = 1e-3                   # IB: beta on KL(q(z|h) || N(0, I)) (code: 1e-3)
    beta_z: float = 0.1                  # weight of L_z, the code-space L1 (code: 0.1)
    beta_r: float = 0.1                  # weight of L_rank (code: 0.1)
    beta_e: float = 0.005                # weight of L_e, the negative entropy (code: 0.005)
    margin: float = 0.1                  # L_rank's margin (code: 0.1)
    sigma: float = 3.0                   # the safety density's Gaussian std, metres (code: 3.0)
    ib_lr: float = 1e-4                  # the IB module's own Adam (code: 1e-4)
    ib_hidden: int = 512                 # IB encoder and decoder width (code: 512)
    ib_z: int = 256                      # code size z (code: 256)
    ib_in_main: bool = False             # also step the IB with the main optimiser (the release)
    val_fraction: float = 0.1            # share of episodes held out for the open-loop L1
    seed: int = 0                        # initialisation, batch order, the IB's samples

    def __post_init__(self):
        from .methods import METHODS, VARIANTS
        from .models import SIZES
        checks = [(self.role in ROLES, f"--role must be one of {', '.join(ROLES)}"),
                  (self.method in METHODS, f"--method must be one of {', '.join(METHODS)}"),
                  (self.variant in VARIANTS, f"--variant must be one of {', '.join(VARIANTS)}"),
                  (self.size in ("", *SIZES), f"--size must be one of {', '.join(SIZES)}"),
                  (self.role == "student" or self.method == "none",
                   "a teacher trains alone: --method none (distil into --role student)"),
                  (0 <= self.val_fraction < 1, "--val-fraction must be in [0, 1)")]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def shape(self) -> dict:
        """width, depth and hidden of the planner this config trains."""
        from .models import SIZES
        base = SIZES[self.size or self.role]
        return {k: getattr(self, k) or base[k] for k in ("width", "depth", "hidden")}


from .methods import METHODS, VARIANTS  # noqa: E402  (the objectives' registries)
from .run import collect_command, drive_command, train_command  # noqa: E402

__all__ = ["PlanKDConfig", "METHODS", "ROLES", "VARIANTS", "collect_command", "drive_command",
           "train_command"]
