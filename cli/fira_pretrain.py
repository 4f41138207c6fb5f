"""fira-pretrain: LLaMA pretraining with Fira, GaLore or AdamW (tools/fira)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import Config, Inputs, Limit, OnError, ProgressEvery, Quiet, Seed, Shard, Verbose
from .runner import guard, records, usage_errors
from .train_options import (TRACKERS_MAN, BF16, DeepSpeedConfig, GradAccum, GradCheckpointing, LearningRate,
                            LocalRank, LoggingSteps, LRScheduler, MaxGradNorm, MaxSteps, Metrics,
                            NumTrainEpochs, OverwriteOutputDir, PerDeviceBatch, Resume, SaveSteps,
                            SaveTotalLimit, Schedule, TensorBoard, ReportTo, RunName, LoggingDir, train_config, WarmupRatio,
                            WarmupSteps, WeightDecay, Zero)

FIRA, DATA = "Fira", "Model and data"

MAN_SECTIONS = {"Experiment trackers": TRACKERS_MAN}

EXAMPLES = """\
fira-pretrain --size tiny --tokenizer models/tiny-llm --max-steps 300 --eval-file val.jsonl wiki.jsonl
fira-pretrain --size 60m --tokenizer tok --optimizer galore --output-dir ckpt/galore c4.parquet
fira-pretrain --size tiny --tokenizer tok --optimizer fira --variant released --alpha 0.25 wiki.jsonl
torchrun --nproc_per_node 8 $(which fira-pretrain) --size 130m --tokenizer tok --output-dir ckpt c4.parquet
python -c "from thinkpipe.tools.fira import Fira, param_groups; help(Fira)"
"""


class Size(str, Enum):
    tiny = "tiny"
    m60 = "60m"
    m130 = "130m"
    m350 = "350m"
    b1 = "1b"


class Opt(str, Enum):
    fira = "fira"
    galore = "galore"
    adamw = "adamw"


class Variant(str, Enum):
    paper = "paper"
    released = "released"


class Scaling(str, Enum):
    column = "column"
    matrix = "matrix"
    tensor = "tensor"


def fira_pretrain(
    ctx: typer.Context,
    inputs: Inputs = None,
    tokenizer: Annotated[str, typer.Option("--tokenizer", metavar="PATH", rich_help_panel=DATA,
                                           help="A Hugging Face tokenizer folder (any model "
                                                "folder with one).")] = ...,
    size: Annotated[Size, typer.Option("--size", rich_help_panel=DATA,
                                       help="LLaMA shape of the paper's Table 6 (tiny: 256 wide, "
                                            "4 layers).")] = Size.tiny,
    config_json: Annotated[Optional[str], typer.Option("--config-json", metavar="FILE",
                                                       rich_help_panel=DATA,
                                                       help="A LlamaConfig JSON instead of --size.")] = None,
    seq_len: Annotated[int, typer.Option("--seq-len", min=8, rich_help_panel=DATA)] = 256,
    eval_file: Annotated[Optional[str], typer.Option("--eval-file", metavar="FILE", rich_help_panel=DATA,
                                                     help="Text records for validation perplexity.")] = None,
    eval_steps: Annotated[int, typer.Option("--eval-steps", min=0, rich_help_panel=DATA,
                                            help="Evaluate every N steps (always at the end).")] = 0,
    eval_batches: Annotated[int, typer.Option("--eval-batches", min=1, rich_help_panel=DATA)] = 64,
    optimizer: Annotated[Opt, typer.Option("--optimizer", rich_help_panel=FIRA)] = Opt.fira,
    variant: Annotated[Variant, typer.Option("--variant", rich_help_panel=FIRA,
                                             help="paper: Algorithm 1; released: PyPI fira 1.0.2.")] = Variant.paper,
    rank: Annotated[Optional[int], typer.Option("--rank", min=1, rich_help_panel=FIRA,
                                                help="Default: the paper's for --size.")] = None,
    alpha: Annotated[Optional[float], typer.Option("--alpha", min=0.0, rich_help_panel=FIRA)] = None,
    update_proj_gap: Annotated[int, typer.Option("--update-proj-gap", min=1, rich_help_panel=FIRA,
                                                 help="T: steps between SVD refreshes.")] = 200,
    gamma: Annotated[float, typer.Option("--gamma", min=1.0, rich_help_panel=FIRA,
                                         help="Norm-growth limiter.")] = 1.01,
    scaling: Annotated[Scaling, typer.Option("--scaling", rich_help_panel=FIRA)] = Scaling.column,
    targets: Annotated[str, typer.Option("--targets", metavar="NAME,...", rich_help_panel=FIRA,
                                         help="Projected matrices: module name parts or a class "
                                              "name.")] = "attn,mlp",
    other_lr: Annotated[Optional[float], typer.Option(
        "--other-lr", min=0.0, metavar="LR", rich_help_panel=FIRA,
        help="Peak lr of the parameters outside --targets (embeddings, output head, norms), "
             "for every --optimizer. Default: --learning-rate.")] = None,
    output_dir: Annotated[str, typer.Option("--output-dir", metavar="DIR")] = "out/fira-pretrain",
    learning_rate: LearningRate = 1e-2,
    num_train_epochs: NumTrainEpochs = 1.0,
    max_steps: MaxSteps = 0,
    per_device_train_batch_size: PerDeviceBatch = 16,
    gradient_accumulation_steps: GradAccum = 1,
    warmup_ratio: WarmupRatio = 0.1,
    warmup_steps: WarmupSteps = 0,
    lr_scheduler_type: LRScheduler = Schedule.cosine_min,
    weight_decay: WeightDecay = 0.0,
    max_grad_norm: MaxGradNorm = 0.0,
    logging_steps: LoggingSteps = 1,
    save_steps: SaveSteps = 0,
    save_total_limit: SaveTotalLimit = 2,
    resume: Resume = None,
    overwrite_output_dir: OverwriteOutputDir = False,
    metrics: Metrics = None,
    report_to: ReportTo = "none",
    run_name: RunName = None,
    logging_dir: LoggingDir = None,
    tensorboard: TensorBoard = None,
    deepspeed: DeepSpeedConfig = None,
    zero: Zero = None,
    bf16: BF16 = False,
    gradient_checkpointing: GradCheckpointing = False,
    on_error: OnError = "fail",
    shard: Shard = None,
    limit: Limit = None,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
    progress_every: ProgressEvery = 30.0,
    config: Config = None,
    local_rank: LocalRank = None,
) -> None:
    """Pretrain a LLaMA-style model with the Fira optimizer (full-rank training under a
    low-rank optimizer state), or GaLore/AdamW as baselines.

    Text records (`text`) from files or stdin are tokenised, joined and cut into --seq-len
    blocks; cosine decay to 10% after 10% warm-up by default; metrics JSONL on stdout with the
    optimizer-state size and validation perplexity. Runs single-process or under torchrun
    (DDP); DeepSpeed ZeRO >= 1 is refused because it splits the gradient matrices Fira projects.
    The optimizer is a library too: from thinkpipe.tools.fira import Fira, GaLore, param_groups.
    """
    with guard("fira-pretrain", verbose, quiet, progress_every):
        from thinkpipe.tools.fira.pretrain import PretrainConfig, run

        with usage_errors():
            cfg = PretrainConfig(tokenizer=tokenizer, size=size.value, config_json=config_json,
                                 optimizer=optimizer.value, variant=variant.value, rank=rank,
                                 alpha=alpha, update_proj_gap=update_proj_gap, gamma=gamma,
                                 scaling=scaling.value,
                                 targets=tuple(t.strip() for t in targets.split(",") if t.strip()),
                                 other_lr=other_lr,
                                 seq_len=seq_len, eval_file=eval_file, eval_steps=eval_steps,
                                 eval_batches=eval_batches)
            train_cfg = train_config(ctx.params)
        with records(inputs, on_error, shard, limit) as stream:
            run(stream.items, cfg, train_cfg, stream.policy, local_rank)
