"""Options every trainer shares (sft, grpo, distill-kpod, fira-pretrain), spelled as TRL and
HF TrainingArguments spell them, so configs port over. `train_config(ctx.params)` builds the
core/train TrainConfig from the command's parsed parameters (the typer context), by name.
"""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

OPT, RUN, SCALE = "Optimisation", "Run and checkpoints", "Scale (torchrun / DeepSpeed)"


class Schedule(str, Enum):
    constant = "constant"
    linear = "linear"
    cosine = "cosine"
    cosine_min = "cosine_min"
    constant_with_warmup = "constant_with_warmup"    # Hugging Face's names for the same curves
    cosine_with_min_lr = "cosine_with_min_lr"


OutputDir = Annotated[str, typer.Option("--output-dir", metavar="DIR", rich_help_panel=RUN,
                                        help="Checkpoints, metrics config and the final model.")]
LearningRate = Annotated[float, typer.Option("--learning-rate", "--lr", min=0.0, rich_help_panel=OPT)]
NumTrainEpochs = Annotated[float, typer.Option("--num-train-epochs", min=0.0, rich_help_panel=OPT)]
MaxSteps = Annotated[int, typer.Option("--max-steps", min=0, rich_help_panel=OPT,
                                       help="Optimizer steps; overrides --num-train-epochs.")]
PerDeviceBatch = Annotated[int, typer.Option("--per-device-train-batch-size", min=1,
                                             rich_help_panel=OPT)]
GradAccum = Annotated[int, typer.Option("--gradient-accumulation-steps", min=1, rich_help_panel=OPT)]
WarmupRatio = Annotated[float, typer.Option("--warmup-ratio", min=0.0, max=0.99, rich_help_panel=OPT)]
WarmupSteps = Annotated[int, typer.Option("--warmup-steps", min=0, rich_help_panel=OPT,
                                          help="Overrides --warmup-ratio when > 0.")]
LRScheduler = Annotated[Schedule, typer.Option("--lr-scheduler-type", rich_help_panel=OPT)]
WeightDecay = Annotated[float, typer.Option("--weight-decay", min=0.0, rich_help_panel=OPT)]
MaxGradNorm = Annotated[float, typer.Option("--max-grad-norm", min=0.0, rich_help_panel=OPT,
                                            help="0 disables clipping.")]
LoggingSteps = Annotated[int, typer.Option("--logging-steps", min=1, rich_help_panel=RUN)]
SaveSteps = Annotated[int, typer.Option("--save-steps", min=0, rich_help_panel=RUN,
                                        help="Checkpoint every N steps (0: at the end only).")]
SaveTotalLimit = Annotated[int, typer.Option("--save-total-limit", min=0, rich_help_panel=RUN)]
Resume = Annotated[Optional[str], typer.Option(
    "--resume", metavar="auto|CHECKPOINT", rich_help_panel=RUN,
    help="Continue from the latest checkpoint in --output-dir (auto) or a given one.")]
OverwriteOutputDir = Annotated[bool, typer.Option(
    "--overwrite-output-dir", rich_help_panel=RUN,
    help="Start a new run in a non-empty --output-dir, deleting its old checkpoint-N folders "
         "(without it, or --resume, a non-empty --output-dir is refused).")]
Metrics = Annotated[Optional[str], typer.Option("--metrics", metavar="FILE", rich_help_panel=RUN,
                                                help="Metrics JSONL here instead of stdout.")]
ReportTo = Annotated[str, typer.Option(
    "--report-to", metavar="none|tensorboard,wandb,mlflow,trackio", rich_help_panel=RUN,
    help="Experiment trackers, a comma list as in TRL: each gets the metrics rows' numbers, the "
         "resolved config, the run name and --output-dir. Each is an extra: pip install "
         "'thinkpipe[wandb]'.")]
RunName = Annotated[Optional[str], typer.Option(
    "--run-name", metavar="NAME", rich_help_panel=RUN,
    help="The trackers' run name (default: --output-dir's basename).")]
LoggingDir = Annotated[Optional[str], typer.Option(
    "--logging-dir", metavar="DIR", rich_help_panel=RUN,
    help="TensorBoard's folder (default: OUTPUT_DIR/runs/RUN_NAME).")]
TensorBoard = Annotated[Optional[str], typer.Option(   # before --report-to; kept for old scripts
    "--tensorboard", metavar="DIR", hidden=True, rich_help_panel=RUN)]
DeepSpeedConfig = Annotated[Optional[str], typer.Option(
    "--deepspeed", metavar="FILE", rich_help_panel=SCALE,
    help="DeepSpeed JSON config; \"auto\" values are filled from these options.")]
Zero = Annotated[Optional[int], typer.Option("--zero", min=0, max=3, rich_help_panel=SCALE,
                                             help="DeepSpeed ZeRO stage without a config file.")]
BF16 = Annotated[bool, typer.Option("--bf16", rich_help_panel=SCALE)]
GradCheckpointing = Annotated[bool, typer.Option("--gradient-checkpointing", rich_help_panel=SCALE)]
LocalRank = Annotated[Optional[int], typer.Option("--local_rank", "--local-rank", hidden=True)]


def train_config(values: dict):
    """TrainConfig from a command's parsed parameters (`ctx.params`): the fields it has, by name.

    ValueError on contradictions. Every trainer declares the options above, so every trainer
    passes them all; fields a command has no option for keep TrainConfig's defaults.
    """
    import dataclasses

    from thinkpipe.core.train import TrainConfig
    names = {f.name for f in dataclasses.fields(TrainConfig)} | {"tensorboard"}
    values = {name: value for name, value in values.items() if name in names}
    if isinstance(values.get("lr_scheduler_type"), Enum):
        values["lr_scheduler_type"] = values["lr_scheduler_type"].value
    if values.get("tensorboard"):       # the old spelling of --report-to tensorboard
        names = [n for n in values.get("report_to", "none").split(",") if n not in ("", "none")]
        values["report_to"] = ",".join(dict.fromkeys(names + ["tensorboard"]))
        values["logging_dir"] = values.get("logging_dir") or values["tensorboard"]
    values.pop("tensorboard", None)
    if values.get("resume") == "":
        values["resume"] = "auto"
    return TrainConfig(**values)


# the man pages' section on --report-to, shared by every trainer
TRACKERS_MAN = """\
--report-to takes none or a comma list of tensorboard, wandb, mlflow and trackio, spelled as TRL
and the Hugging Face Trainer spell them. Each tracker gets every number of each metrics row
(nested fields as a/b) at the row's step (its episode or epoch where a tool counts those), the
resolved config as hyperparameters, the run name (--run-name, default the output's folder) and
the output folder. Each is an optional extra, imported only when asked for: pip install
'thinkpipe[tensorboard]', 'thinkpipe[wandb]', 'thinkpipe[mlflow]' (mlflow-skinny),
'thinkpipe[trackio]'; a missing one stops the command with exit 2 before any model loads, and one
that cannot start its run (wandb without a login, say) with exit 69.

tensorboard  event files in --logging-dir (default OUTPUT_DIR/runs/RUN_NAME; for the tools whose
        -o is one file, its folder)
wandb  OUTPUT_DIR/wandb; project $WANDB_PROJECT or thinkpipe; WANDB_MODE=offline keeps the run on
        disk for a later wandb sync
mlflow  $MLFLOW_TRACKING_URI, else the file store ./mlruns; experiment $MLFLOW_EXPERIMENT_NAME
        or thinkpipe
trackio  trackio's local store; project $TRACKIO_PROJECT or thinkpipe. Not installable with the
        pinned stack today (trackio needs pillow < 13).

The older --tensorboard DIR still works, as --report-to tensorboard --logging-dir DIR; it is no
longer listed in --help.
"""
