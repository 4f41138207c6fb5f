"""distill-plankd: distil an end-to-end motion planner (tools/plankd), in a real simulator."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import Config, Format, Inputs, OnError, ProgressEvery, Quiet, Seed, Verbose
from .options import comma_list as _list
from .options import panel_option as _opt
from .train_options import TRACKERS_MAN, ReportTo, RunName
from .runner import guard, records, usage_errors

SIM, MODEL, TRAIN, PLANKD, DRIVE = ("Simulator (collect, drive)", "Planner (train)",
                                    "Training (train)", "PlanKD (train --method plankd)",
                                    "Driving (drive)")

EXAMPLES = """\
distill-plankd collect --episodes 20 --seed 0 -o data.parquet
distill-plankd train --role teacher --epochs 10 -o teacher.pt data.parquet > teacher.jsonl
distill-plankd train --role student --method plankd --teacher teacher.pt --epochs 10 -o student.pt data.parquet > student.jsonl
distill-plankd train --role student --method plankd --variant released --teacher teacher.pt -o released.pt data.parquet > released.jsonl
distill-plankd drive --model student.pt --episodes 20 --seed 1000 > drive.jsonl
"""

MAN_SECTIONS = {"Paper and our choices": """\
Follows the paper (Feng et al., CVPR 2024; the framework figure and tulerfeng/PlanKD; the
paper's text is not available). Planning-relevant feature distillation: the channel mean of
each planner's feature map after two downsamplings (the code's rgb_backbone layer2) enters a
shared variational information bottleneck: an encoder MLP D-512-512-512 (LeakyReLU), mu the
first 256 dims, sigma = softplus(rest - 5), a decoder MLP 256-512-512 with one head per
planning label; its loss is sum CE / ln 2 + beta KL(q(z|h) || N(0, I)) / ln 2, beta = 1e-3,
trained by its own Adam (lr 1e-4) on detached teacher and student features after each main
step. The student's code is pulled to the teacher's, L_z = mean |z^T - z^S|, weight 0.1.
Safety-aware waypoint-attentive distillation: a query from a small CNN over the BEV raster
with two coordinate channels plus the measurements, keys from each waypoint (MLP 2-128-64,
then 128), a = softmax(q.k / sqrt(128)); the safety target rho_k = sum_j exp(-|w_k -
p_j|^2 / (2 sigma^2)) over the actors, sigma = 3 m; a pairwise ranking loss mean max(0,
-sign(rho_k - rho_l)(a_k - a_l) + 0.1), weight 0.1, and the negative entropy sum a log a,
weight 0.005. --variant paper (the default; the framework figure): keys and safety targets
from the teacher's waypoints, and the loss L_w + sum_k a_k |w^S_k - w^T_k| (L_w the plain
ground-truth L1). --variant released (the code): keys and targets from the ground-truth
waypoints, the ground-truth L1 weighted by a, no teacher-waypoint term (wp_g_loss = 0).
Recipe: AdamW, weight decay 0.05, 1 warm-up epoch then cosine, gradient clip 10.

Where the release differs and what we do. The release puts the IB and attention parameters
in the main optimiser too, so L_z also moves the IB encoder (reported as a bug in issue #3);
we step the IB with its own optimiser only, and --ib-in-main reproduces the release. The
release never puts the teacher in eval mode (issue #3); ours is frozen in eval mode. The
release's total loss weights its waypoint loss by 0.2 and that loss is a mean over the K = 10
waypoints (of weights summing to 1, or of a_k l_k), so per-waypoint L1s enter with 0.02 against
the regularisers' 0.1, 0.1 and 0.005; --wp-weight 0.02 keeps that balance (with 1 the
regularisers would be 50 times weaker than in the release, and we measured the attention
collapsing onto the first waypoint within an epoch). Our waypoint terms are sum_k a_k l_k
(a convex combination, as the code's), so with every PlanKD weight at zero --variant paper is
exactly --method none.

Our choices. The simulator: highway-env 1.12 (IDM/MOBIL traffic, kinematic bicycle model,
real collision checks) instead of CARLA; the expert is highway-env's IDMVehicle with a target
speed of 30 m/s. The planners are small TCP-like networks (a BEV CNN and a measurement MLP
initialise a GRU that decodes K waypoints, each the previous one plus an offset): --size
teacher (width 32, 3 convs per stage, GRU 256), student (8, 1, 64) or tiny (4, 1, 32).
Planning labels (the code's eight heads adapted to a highway): front (free, a vehicle within
40 m, within 15 m), left_blocked, right_blocked (a vehicle beside or no lane), vehicle_near
(within 12 m), lane_change, brake, steer, throttle (the expert's action). The safety density
uses the actors' current positions, as the code does. The planners do not see the ego
speed by default (--mask-measurements 0; the controller still uses it): with it, a planner
learns the inertia shortcut (the next waypoints continue the current speed) and in closed
loop runs into the vehicle ahead; measured on 40 expert episodes, the teacher collided in 40%
of the driven episodes with the speed input and in 10% without (bench/RESULTS.md has the
controls). collect --perturb P injects noise into the expert (a 1 s throttle push, chance P
per frame) and drops the frames whose future holds a push (DART/CIL-style); it is off by
default because at P = 0.03 and 0.06 it did not lower the teacher's collisions. --method kd is the L1 between student
and teacher waypoints, --method feature the MSE between the channel-mean feature maps, each
added to L_w with --kd-weight. The driving score analogue: progress along a --route-metre
route (ended by a collision, leaving the road or --timeout) times CARLA's infraction
coefficients, 0.60 for a collision with a vehicle and 0.65 for leaving the road.

Files. collect writes one record per frame ({id, episode, frame, images: [the BEV as an RGB
PNG], measurements, target_point, waypoints, actors, labels}; see tools/plankd/data.py for
what a CARLA export must fill). train writes a checkpoint (torch.save; load only files you
trust) after every epoch, metrics JSONL on stdout (or --metrics FILE); --resume continues it.
drive writes one record per episode ({episode, seed, collided, offroad, progress,
mean_speed, score, seconds, model_ms}) then a summary ({summary: true, episodes,
collision_rate, offroad_rate, progress_mean, score_mean, score_ci95, mean_speed, model_ms,
model}).
""", "Experiment trackers": TRACKERS_MAN}


class Action(str, Enum):
    collect = "collect"
    train = "train"
    drive = "drive"


class Role(str, Enum):
    teacher = "teacher"
    student = "student"


class Method(str, Enum):
    none = "none"
    kd = "kd"
    feature = "feature"
    plankd = "plankd"


class Variant(str, Enum):
    paper = "paper"
    released = "released"


def distill_plankd(
    action: Annotated[Action, typer.Argument(help="collect: record the expert; train: fit a "
                                             "planner; drive: run one closed-loop.")],
    inputs: Inputs = None,
    episodes: Annotated[int, _opt("--episodes", SIM, "Episodes to collect or drive.",
                                  min=1)] = 20,
    lanes: Annotated[int, _opt("--lanes", SIM, "Highway lanes.", min=1)] = 3,
    vehicles: Annotated[int, _opt("--vehicles", SIM, "Other vehicles.", min=0)] = 20,
    density: Annotated[float, _opt("--density", SIM, "Traffic density (highway-env).",
                                   min=0.01)] = 1.0,
    route: Annotated[float, _opt("--route", SIM, "Metres to drive for progress 1.",
                                 min=1.0)] = 400.0,
    timeout: Annotated[float, _opt("--timeout", SIM, "Seconds before an episode stops.",
                                   min=1.0)] = 40.0,
    waypoints: Annotated[int, _opt("--waypoints", SIM, "collect: future waypoints per frame "
                                   "(one per 0.2 s frame).", min=1)] = 10,
    role: Annotated[Role, _opt("--role", MODEL, "teacher or student (the default size).")] = Role.student,
    size: Annotated[Optional[str], _opt("--size", MODEL, "teacher, student or tiny (default: "
                                        "the role's).")] = None,
    width: Annotated[int, _opt("--width", MODEL, "Conv width (0: the size's).", min=0)] = 0,
    depth: Annotated[int, _opt("--depth", MODEL, "Convs per stage (0: the size's).", min=0)] = 0,
    hidden: Annotated[int, _opt("--hidden", MODEL, "GRU width (0: the size's).", min=0)] = 0,
    mask_measurements: Annotated[str, _opt("--mask-measurements", MODEL, "Comma list of "
                                           "measurement indices the planner does not see; 0 is "
                                           "the ego speed (the inertia shortcut); none: all.",
                                           metavar="LIST")] = "0",
    perturb: Annotated[float, _opt("--perturb", SIM, "collect: chance per frame of a 1 s "
                                   "throttle push to the expert (noise injection).", min=0.0,
                                   max=1.0)] = 0.0,
    method: Annotated[Method, _opt("--method", TRAIN, "none, kd (output), feature (feature "
                                   "L2) or plankd.")] = Method.none,
    teacher: Annotated[Optional[str], _opt("--teacher", TRAIN, "The teacher checkpoint (kd, "
                                           "feature, plankd).", metavar="FILE")] = None,
    epochs: Annotated[int, _opt("--epochs", TRAIN, "Passes over the training episodes.",
                                min=1)] = 10,
    batch_size: Annotated[int, _opt("--batch-size", TRAIN, "Frames per step.", min=1)] = 64,
    lr: Annotated[float, _opt("--lr", TRAIN, "AdamW peak learning rate.", min=0.0)] = 1e-3,
    weight_decay: Annotated[float, _opt("--weight-decay", TRAIN, "AdamW weight decay.",
                                        min=0.0)] = 0.05,
    warmup_epochs: Annotated[float, _opt("--warmup-epochs", TRAIN, "Linear warm-up.",
                                         min=0.0)] = 1.0,
    clip: Annotated[float, _opt("--clip", TRAIN, "Gradient-norm clip.", min=0.0)] = 10.0,
    wp_weight: Annotated[float, _opt("--wp-weight", TRAIN, "The waypoint terms' weight against "
                                     "PlanKD's regularisers (code: 0.2 / K = 0.02).",
                                     min=0.0)] = 0.02,
    kd_weight: Annotated[float, _opt("--kd-weight", TRAIN, "kd, feature: the distillation "
                                     "term's weight.", min=0.0)] = 1.0,
    val_fraction: Annotated[float, _opt("--val-fraction", TRAIN, "Share of episodes held "
                                        "out (open-loop L1).", min=0.0, max=0.99)] = 0.1,
    resume: Annotated[bool, _opt("--resume", TRAIN, "Continue the checkpoint at -o.")] = False,
    metrics: Annotated[Optional[str], _opt("--metrics", TRAIN, "Metrics JSONL here instead of "
                                           "stdout.", metavar="FILE")] = None,
    report_to: ReportTo = "none",
    run_name: RunName = None,
    variant: Annotated[Variant, _opt("--variant", PLANKD, "paper (teacher waypoints) or "
                                     "released (ground truth, as the code).")] = Variant.paper,
    wstar_weight: Annotated[float, _opt("--wstar-weight", PLANKD, "paper: the attentive "
                                        "teacher-waypoint term's weight.", min=0.0)] = 1.0,
    beta: Annotated[float, _opt("--beta", PLANKD, "IB: the KL's weight.", min=0.0)] = 1e-3,
    beta_z: Annotated[float, _opt("--beta-z", PLANKD, "L_z's weight.", min=0.0)] = 0.1,
    beta_r: Annotated[float, _opt("--beta-r", PLANKD, "L_rank's weight.", min=0.0)] = 0.1,
    beta_e: Annotated[float, _opt("--beta-e", PLANKD, "L_e's weight.", min=0.0)] = 0.005,
    margin: Annotated[float, _opt("--margin", PLANKD, "L_rank's margin.", min=0.0)] = 0.1,
    sigma: Annotated[float, _opt("--sigma", PLANKD, "Safety density std, metres.",
                                 min=0.01)] = 3.0,
    ib_lr: Annotated[float, _opt("--ib-lr", PLANKD, "The IB's own Adam.", min=0.0)] = 1e-4,
    ib_hidden: Annotated[int, _opt("--ib-hidden", PLANKD, "IB width.", min=1)] = 512,
    ib_z: Annotated[int, _opt("--ib-z", PLANKD, "IB code size.", min=1)] = 256,
    ib_in_main: Annotated[bool, _opt("--ib-in-main", PLANKD, "Also step the IB with the main "
                                     "optimiser (the release's behaviour).")] = False,
    model: Annotated[Optional[str], _opt("--model", DRIVE, "The planner to drive (train -o).",
                                         metavar="FILE")] = None,
    expert: Annotated[bool, _opt("--expert", DRIVE, "Drive the IDM/MOBIL expert instead (the "
                                 "reference row).")] = False,
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="PATH", rich_help_panel="Input and output",
        help="collect, drive: records here instead of stdout; train: the checkpoint "
             "(required).")] = None,
    fmt: Format = None,
    on_error: OnError = "fail",
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
) -> None:
    """Distil an end-to-end motion planner into a smaller one (PlanKD), in highway-env.

    `collect` records the IDM/MOBIL expert (BEV raster, measurements, target point, future
    waypoints, actors, planning labels); `train` fits a teacher, or a student alone or
    distilled (--method kd, feature, plankd); `drive` runs a planner closed-loop and scores it.
    """
    with guard("distill-plankd", verbose, quiet, progress_every):
        from thinkpipe.core.errors import UsageError
        if action == Action.train:
            _train(locals())
            return
        if inputs:
            raise UsageError(f"{action.value} reads no records (only train does)")
        from thinkpipe.core.records import RecordWriter
        from thinkpipe.tools.plankd import collect_command, drive_command
        from thinkpipe.tools.plankd.scene import World
        world = World(lanes=lanes, vehicles=vehicles, density=density, route=route,
                      timeout=timeout, perturb=perturb)
        if action == Action.drive and bool(model) == expert:
            raise UsageError("drive needs --model FILE or --expert (one of them)")
        with RecordWriter(output, fmt.value if fmt else None) as out:
            if action == Action.collect:
                collect_command(world, episodes, seed, waypoints, out.write)
            else:
                drive_command(model, world, episodes, seed, out.write)


def _train(o: dict) -> None:
    from thinkpipe.core.errors import UsageError
    if not o["output"]:
        raise UsageError("train needs -o FILE for the planner checkpoint")
    from thinkpipe.core.train import trackers
    from thinkpipe.core.train.metrics import Metrics
    from thinkpipe.tools.plankd import PlanKDConfig, train_command
    keys = ("width", "depth", "hidden", "epochs", "batch_size", "lr", "weight_decay",
            "warmup_epochs", "clip", "wp_weight", "kd_weight", "wstar_weight", "beta", "beta_z", "beta_r",
            "beta_e", "margin", "sigma", "ib_lr", "ib_hidden", "ib_z", "ib_in_main",
            "val_fraction", "seed")
    with usage_errors():
        text = o["mask_measurements"].strip()
        if text not in ("", "none") and not all(i.isdigit() for i in _list(text)):
            raise ValueError("--mask-measurements: give measurement indices (0,2) or none")
        masked = () if text in ("", "none") else tuple(int(i) for i in _list(text))
        cfg = PlanKDConfig(role=o["role"].value, method=o["method"].value,
                           mask_measurements=masked,
                           variant=o["variant"].value, size=o["size"] or "",
                           **{k: o[k] for k in keys})
    log_to = Metrics(o["metrics"], report=trackers.open_report(
        o["report_to"], trackers.file_run(o["output"], cfg, o["run_name"])))
    try:
        with records(o["inputs"], o["on_error"]) as stream:
            train_command(stream.items, cfg, o["teacher"], o["output"], log_to, o["resume"])
    finally:
        log_to.close()
