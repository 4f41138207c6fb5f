"""sft: supervised fine-tuning on chat records (tools/sft)."""
from __future__ import annotations

from typing import Annotated, Optional

import typer

from .options import Config, Inputs, Limit, OnError, ProgressEvery, Quiet, Seed, Shard, Verbose
from .runner import guard, records, usage_errors
from .train_options import (TRACKERS_MAN, BF16, DeepSpeedConfig, GradAccum, GradCheckpointing, LearningRate,
                            LocalRank, LoggingSteps, LRScheduler, MaxGradNorm, MaxSteps, Metrics,
                            NumTrainEpochs, OutputDir, OverwriteOutputDir, PerDeviceBatch, Resume,
                            SaveSteps, SaveTotalLimit, Schedule, TensorBoard, ReportTo, RunName, LoggingDir, train_config,
                            WarmupRatio, WarmupSteps, WeightDecay, Zero)

MAN_SECTIONS = {"Experiment trackers": TRACKERS_MAN}

EXAMPLES = """\
synth-draw --task maze --count 2000 | sft --model models/tiny-vl --output-dir ckpt/cold --freeze-vision
sft --model ckpt/base --output-dir ckpt/cold --zero 3 --freeze-vision --learning-rate 1e-5 --num-train-epochs 3 --warmup-ratio 0.1 cold.parquet
torchrun --nproc_per_node 8 $(which sft) --model ckpt/base --output-dir ckpt/cold --zero 2 cold.parquet
sft --model ckpt/base --output-dir ckpt/cold cold.parquet --resume auto
sft --model models/tiny-vl --output-dir ckpt/trm --as-thinking-reward score trm_data.jsonl
"""


def sft(
    ctx: typer.Context,
    inputs: Inputs = None,
    model: Annotated[str, typer.Option("--model", metavar="PATH",
                                       help="Model folder (any HF causal LM or Qwen-VL).")] = ...,
    output_dir: OutputDir = ...,
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", min=16,
                                                help="Tokens per example (text is truncated; "
                                                     "image examples that do not fit are skipped).")] = 2048,
    freeze_vision: Annotated[bool, typer.Option("--freeze-vision",
                                                help="Freeze the vision tower and projector.")] = False,
    group_by_length: Annotated[bool, typer.Option("--group-by-length/--no-group-by-length",
                                                  help="Batch examples of similar length.")] = True,
    as_thinking_reward: Annotated[Optional[str], typer.Option(
        "--as-thinking-reward", metavar="FIELD",
        help="Train a Trust-GRPO thinking reward model: each record's question, response and "
             "FIELD (a score in [0, 1], e.g. score or rewards.thinking) become the rubric "
             "prompt and <answer>score</answer>.")] = None,
    learning_rate: LearningRate = 1e-5,
    num_train_epochs: NumTrainEpochs = 3.0,
    max_steps: MaxSteps = 0,
    per_device_train_batch_size: PerDeviceBatch = 1,
    gradient_accumulation_steps: GradAccum = 1,
    warmup_ratio: WarmupRatio = 0.1,
    warmup_steps: WarmupSteps = 0,
    lr_scheduler_type: LRScheduler = Schedule.cosine,
    weight_decay: WeightDecay = 0.0,
    max_grad_norm: MaxGradNorm = 1.0,
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
    """Supervised fine-tuning of a causal LM or Qwen-VL model on chat records, with the loss
    on assistant turns only; single process, torchrun or DeepSpeed ZeRO 0-3.

    Records hold `messages` (text and image parts, any number of turns; system, user and
    observation turns are context). Images may also sit in a top-level `images` list, as
    LLaMA-Factory's sharegpt (`<image>` in the text) and TRL (`{"type": "image"}` parts) keep
    them; slots and images must pair up. A text example truncated to no assistant token is
    skipped and counted. Metrics JSONL go to stdout (one line per logged step); checkpoints and
    the final model folder (with its processor) go to --output-dir, which must be empty unless
    --resume or --overwrite-output-dir. Ctrl-C saves a checkpoint that --resume continues from.
    """
    with guard("sft", verbose, quiet, progress_every):
        from thinkpipe.tools.sft import SFTConfig, train

        with usage_errors():
            cfg = SFTConfig(model=model, max_seq_length=max_seq_length,
                            freeze_vision=freeze_vision, group_by_length=group_by_length,
                            thinking_reward=as_thinking_reward, train=train_config(ctx.params))
        with records(inputs, on_error, shard, limit) as stream:
            train(stream.items, cfg, stream.policy, local_rank)
