"""grpo: group-relative policy optimisation (tools/grpo)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import Config, Inputs, Limit, OnError, ProgressEvery, Quiet, Seed, Shard, Verbose
from .runner import guard, records, usage_errors
from .train_options import (BF16, DeepSpeedConfig, GradAccum, GradCheckpointing, LearningRate,
                            LocalRank, LoggingSteps, LRScheduler, MaxGradNorm, MaxSteps, Metrics,
                            NumTrainEpochs, OutputDir, OverwriteOutputDir, PerDeviceBatch, Resume,
                            SaveSteps, SaveTotalLimit, Schedule, TensorBoard, train_config,
                            WarmupRatio, WarmupSteps, WeightDecay, Zero)

ALGO, GEN, REWARD = "GRPO", "Generation", "Rewards"

EXAMPLES = """\
grpo --model ckpt/rrs --output-dir ckpt/rl rl.jsonl > metrics.jsonl
grpo --model ckpt/rrs --output-dir ckpt/rl --tools draw --reward vilasr --loss-type grpo --epsilon-high 0.3 rl.jsonl
grpo --model M --output-dir ckpt --reward accuracy --reward format --reward-weights 1,0.5 --beta 0.04 data.jsonl
grpo --model M --output-dir ckpt --loss-type dapo --epsilon-high 0.28 --filter-groups --mask-truncated-completions data.jsonl
deepspeed --num_gpus 8 $(which grpo) --model ckpt/rrs --output-dir ckpt/rl --zero 3 --bf16 --num-generations 8 rl.jsonl
"""


class Tools(str, Enum):
    none = "none"
    draw = "draw"


class LossType(str, Enum):
    grpo = "grpo"
    dapo = "dapo"
    dr_grpo = "dr_grpo"


class Scale(str, Enum):
    group = "group"
    batch = "batch"
    none = "none"


def grpo(
    ctx: typer.Context,
    inputs: Inputs = None,
    model: Annotated[str, typer.Option("--model", metavar="PATH", help="The policy to train.")] = ...,
    output_dir: OutputDir = ...,
    num_generations: Annotated[int, typer.Option("--num-generations", min=2, rich_help_panel=ALGO,
                                                 help="Completions per prompt (G).")] = 8,
    beta: Annotated[float, typer.Option("--beta", min=0.0, rich_help_panel=ALGO,
                                        help="KL coefficient (k3); 0 skips the reference model.")] = 0.0,
    epsilon: Annotated[float, typer.Option("--epsilon", min=0.0, rich_help_panel=ALGO,
                                           help="Clip range (lower, and upper unless --epsilon-high).")] = 0.2,
    epsilon_high: Annotated[Optional[float], typer.Option("--epsilon-high", min=0.0, rich_help_panel=ALGO,
                                                          help="Upper clip (DAPO clip-higher).")] = None,
    num_iterations: Annotated[int, typer.Option("--num-iterations", min=1, rich_help_panel=ALGO,
                                                help="Policy updates per rollout batch (μ).")] = 1,
    loss_type: Annotated[LossType, typer.Option("--loss-type", rich_help_panel=ALGO)] = LossType.dapo,
    scale_rewards: Annotated[Scale, typer.Option("--scale-rewards", rich_help_panel=ALGO)] = Scale.group,
    mask_truncated: Annotated[bool, typer.Option("--mask-truncated-completions", rich_help_panel=ALGO,
                                                 help="Leave cut-off completions out of the loss.")] = False,
    filter_groups: Annotated[bool, typer.Option("--filter-groups", rich_help_panel=ALGO,
                                                help="DAPO dynamic sampling: drop groups whose rewards "
                                                     "all tie, sample more (bounded).")] = False,
    max_filter_rounds: Annotated[int, typer.Option("--max-filter-rounds", min=1,
                                                   rich_help_panel=ALGO)] = 3,
    reward: Annotated[Optional[list[str]], typer.Option(
        "--reward", metavar="SPEC", rich_help_panel=REWARD,
        help="Reward (repeatable): a built-in name, module:function or an http(s) URL.")] = None,
    reward_weights: Annotated[Optional[str], typer.Option("--reward-weights", metavar="W,W,...",
                                                          rich_help_panel=REWARD)] = None,
    tools: Annotated[Tools, typer.Option("--tools", rich_help_panel=GEN,
                                         help="draw: multi-turn drawing trajectories (VILASR).")] = Tools.none,
    max_completion_length: Annotated[int, typer.Option("--max-completion-length", min=1, rich_help_panel=GEN,
                                                       help="Tokens per completion (per turn with tools).")] = 256,
    max_total_tokens: Annotated[int, typer.Option("--max-total-tokens", min=1, rich_help_panel=GEN,
                                                  help="Tokens over all turns of a trajectory.")] = 4096,
    max_turns: Annotated[int, typer.Option("--max-turns", min=1, rich_help_panel=GEN)] = 10,
    max_images: Annotated[int, typer.Option("--max-images", min=1, rich_help_panel=GEN)] = 42,
    temperature: Annotated[float, typer.Option("--temperature", min=0.0, rich_help_panel=GEN)] = 1.0,
    top_p: Annotated[float, typer.Option("--top-p", min=0.0, max=1.0, rich_help_panel=GEN)] = 1.0,
    top_k: Annotated[int, typer.Option("--top-k", min=0, rich_help_panel=GEN)] = 0,
    generation_batch_size: Annotated[int, typer.Option("--generation-batch-size", min=1,
                                                       rich_help_panel=GEN)] = 32,
    system: Annotated[Optional[str], typer.Option("--system", rich_help_panel=GEN)] = None,
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", min=16, rich_help_panel=GEN)] = 4096,
    rollouts: Annotated[Optional[str], typer.Option(
        "--rollouts", metavar="FILE", help="Write every trajectory as a record eval and "
                                           "reject-sample read (prompt fields and images, "
                                           "response, turns, rewards, advantage, finish_reason); "
                                           "format from the extension.")] = None,
    learning_rate: LearningRate = 1e-6,
    num_train_epochs: NumTrainEpochs = 1.0,
    max_steps: MaxSteps = 0,
    per_device_train_batch_size: PerDeviceBatch = 8,
    gradient_accumulation_steps: GradAccum = 1,
    warmup_ratio: WarmupRatio = 0.0,
    warmup_steps: WarmupSteps = 0,
    lr_scheduler_type: LRScheduler = Schedule.linear,
    weight_decay: WeightDecay = 0.0,
    max_grad_norm: MaxGradNorm = 1.0,
    logging_steps: LoggingSteps = 1,
    save_steps: SaveSteps = 0,
    save_total_limit: SaveTotalLimit = 2,
    resume: Resume = None,
    overwrite_output_dir: OverwriteOutputDir = False,
    metrics: Metrics = None,
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
    """Group-relative policy optimisation (GRPO, DAPO, Dr. GRPO) with multi-turn drawing tools;
    metrics as JSONL on stdout, rollouts as records.

    Prompt records (question/options/images/answer, messages, or TRL's prompt) come from files
    or stdin; each is checked against the model, and for a gold answer when a reward needs one,
    before training. Each rollout batch samples G completions per prompt, scores them with the
    --reward specs, normalises the rewards within each group and takes --num-iterations clipped
    policy-gradient steps; --max-steps counts those optimizer steps, each with its metrics row.
    Completions per device per step = --per-device-train-batch-size x
    --gradient-accumulation-steps and must hold whole groups of --num-generations. Checkpoints
    and the final model go to --output-dir (empty unless --resume or --overwrite-output-dir);
    Ctrl-C saves one that --resume continues from. --rollouts writes .jsonl, .jsonl.gz or
    .parquet by its extension.
    """
    with guard("grpo", verbose, quiet, progress_every):
        from thinkpipe.tools.grpo import GRPOConfig, rollout_config, train

        with usage_errors():
            weights = tuple(float(w) for w in reward_weights.split(",")) if reward_weights else None
            cfg = GRPOConfig(
                model=model, num_generations=num_generations, rewards=tuple(reward or ("accuracy",)),
                reward_weights=weights, scale_rewards=scale_rewards.value, epsilon=epsilon,
                epsilon_high=epsilon_high, num_iterations=num_iterations, beta=beta,
                loss_type=loss_type.value, mask_truncated=mask_truncated,
                filter_groups=filter_groups, max_filter_rounds=max_filter_rounds,
                max_seq_length=max_seq_length, system=system, rollouts_path=rollouts,
                rollout=rollout_config(tools.value, max_completion_length, max_total_tokens,
                                       max_turns=max_turns, max_images=max_images,
                                       temperature=temperature, top_p=top_p, top_k=top_k,
                                       batch_size=generation_batch_size),
                train=train_config(ctx.params))
        with records(inputs, on_error, shard, limit) as stream:
            train(stream.items, cfg, stream.policy, local_rank)
