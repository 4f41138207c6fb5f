"""grpo: group-relative policy optimisation (tools/grpo)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import Config, Inputs, Limit, OnError, ProgressEvery, Quiet, Seed, Shard, Verbose
from .grpo_variants import (AnnealSteps, CorrectThreshold, FormatGate, Fps, LengthBonus,
                            LengthRange, MaxFrames, ScoreThreshold, ShuffledFraction, Temporal,
                            TemporalAlpha, TemporalRatio, ThinkAlpha, ThinkingModel,
                            ThinkingReward, Trust, TrustVariant, shaping_config)
from .runner import guard, records, usage_errors
from .train_options import (TRACKERS_MAN, BF16, DeepSpeedConfig, GradAccum, GradCheckpointing, LearningRate,
                            LocalRank, LoggingSteps, LRScheduler, MaxGradNorm, MaxSteps, Metrics,
                            NumTrainEpochs, OutputDir, OverwriteOutputDir, PerDeviceBatch, Resume,
                            SaveSteps, SaveTotalLimit, Schedule, TensorBoard, ReportTo, RunName, LoggingDir, train_config,
                            WarmupRatio, WarmupSteps, WeightDecay, Zero)

ALGO, GEN, REWARD = "GRPO", "Generation", "Rewards"

EXAMPLES = """\
grpo --model ckpt/rrs --output-dir ckpt/rl rl.jsonl > metrics.jsonl
grpo --model ckpt/rrs --output-dir ckpt/rl --tools draw --reward vilasr --loss-type grpo --epsilon-high 0.3 rl.jsonl
grpo --model M --output-dir ckpt --reward accuracy --reward format --reward-weights 1,0.5 --beta 0.04 data.jsonl
grpo --model M --output-dir ckpt --loss-type dapo --epsilon-high 0.28 --filter-groups --mask-truncated-completions data.jsonl
grpo --model M --output-dir ckpt --thinking-reward http://127.0.0.1:8000/v1 --thinking-model trm --format-gate data.jsonl
grpo --model M --output-dir ckpt --temporal --temporal-ratio 0.8 --length-bonus 0.2 --max-frames 16 --fps 2 video.jsonl
deepspeed --num_gpus 8 $(which grpo) --model ckpt/rrs --output-dir ckpt/rl --zero 3 --bf16 --num-generations 8 rl.jsonl
"""


MAN_SECTIONS = {"Trust-GRPO": """\
SophiaVL-R1's thinking reward (--thinking-reward PATH|URL|MODULE:FN) scores each response's
reasoning in [0, 1]: a model folder or an OpenAI-compatible endpoint is asked with a rubric
(logical soundness, correct reasoning, error identification, language consistency,
redundancy) and the first image, and its <answer>score</answer>, \\boxed{} or first number in
[0, 1] is read; a failure scores 0 and is counted (thinking_failures). With outcome R^o (the
--reward specs, gated by --format-gate), per group: C = responses with R^o >=
--correct-threshold, W the rest, mu_c and mu_w their mean R^t.

paper  (--trust paper, the default) gamma = 1 if mu_c >= mu_w else exp(mu_c - mu_w) (1 when C
        or W is empty); R = R^o + gamma alpha exp(-step/T) R^t, alpha --think-alpha 0.3, T
        --anneal-steps (default the run's total steps). Every response is scored.
released  (--trust released) SophiaVL's code: groups whose outcomes are all >= 0.9 or all <=
        0.1 get no thinking reward and no reward-model call; only responses with R^o >=
        --score-threshold 0.2 are scored, the rest get R^t = 0; w = alpha exp(-step/T), times
        exp(mu_c - mu_w) when mu_c < mu_w. Consequence: with binary outcomes every wrong
        response has R^t = 0, so mu_w = 0 and gamma is always 1; the trust weight acts only on
        graded outcomes in [0.2, 0.5). The released config's T is 12000 for 1500 steps.
metrics  thinking (mean R^t scored), trust_gamma, trust_fired (groups with gamma < 1),
        think_weight, thinking_calls, thinking_failures, thinking_s, format_broken.
""", "T-GRPO": """\
Video-R1's temporal reward (--temporal) for records with frames: a video decoded by PyAV
(--max-frames at --fps; more frames than that: evenly spaced) or images marked frames: true.
Each group of G ordered-frame responses is sampled with --shuffled-fraction x G responses to
a seeded random frame order (recorded as frame_order); p and p~ are their mean accuracies
(the accuracy reward, else the outcome). If p >= mu p~ (--temporal-ratio: 1.0 as the author
says it should be, 0.8 in the released code), --temporal-alpha 0.3 is added to every ordered
response with accuracy > 0.1. Shuffled responses get no gradient; records without frames are
unaffected, and every rank generates as many prompts so ZeRO-3 ranks stay in step.
--length-bonus omega (Video-R1's --len_control, 0.2) adds omega to responses with accuracy > 0.1
whose length is within --length-range (320,512 tokens) when more than one response of the
group is correct. When a binary accuracy is the whole reward, the bonus only rescales a
group's rewards ((1, 0) becomes (1.3, 0)) and --scale-rewards group cancels it exactly (Video-R1
issue #51; measured in bench/RESULTS.md): grpo warns, and --scale-rewards batch, a format or a
length reward keep its effect.
metrics  temporal_fired, temporal_p, temporal_p_shuffled, length_bonus.
""", "Rollouts": """\
--rollouts FILE writes one record per sample with what recomputes every formula from the data:
prompt_id, group, step, sample, seed, response, turns, rewards (each component: the --reward
specs by name, outcome, thinking, temporal, length, as they apply), reward (the final scalar),
advantage, trust_gamma and think_weight (the weight applied to R^t), frames_shuffled (true for
T-GRPO's shuffled-frame samples, with frame_order: the images as shown are images[i] for i in
frame_order), trained, num_turns and finish_reason, next to the prompt record's own fields.
""", "Experiment trackers": TRACKERS_MAN}


class Tools(str, Enum):
    none = "none"
    draw = "draw"


class Decoder(str, Enum):
    hf = "hf"
    loop = "loop"
    static = "static"


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
    reward_concurrency: Annotated[int, typer.Option(
        "--reward-concurrency", min=1, metavar="N", rich_help_panel=REWARD,
        help="Reward URL calls in flight at once, so a batch's calls overlap (built-in and "
             "module:function rewards run one at a time). An endpoint still failing "
             "after its retries stops the run with a checkpoint of the last completed step "
             "(exit 69).")] = 8,
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
    decoder: Annotated[Decoder, typer.Option(
        "--decoder", rich_help_panel=GEN,
        help="Who decodes rollouts: loop (the model's forward with a KV cache, tokens identical "
             "to hf), hf (transformers' generate) or static (static KV cache and a "
             "torch.compile'd step: compiles on first use, tokens may differ in a near-tie). "
             "Image/audio models always use hf.")] = Decoder.loop,
    system: Annotated[Optional[str], typer.Option("--system", rich_help_panel=GEN)] = None,
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", min=16, rich_help_panel=GEN)] = 4096,
    format_gate: FormatGate = False,
    thinking_reward: ThinkingReward = None,
    thinking_model: ThinkingModel = None,
    trust: TrustVariant = Trust.paper,
    think_alpha: ThinkAlpha = 0.3,
    anneal_steps: AnnealSteps = None,
    correct_threshold: CorrectThreshold = 0.5,
    score_threshold: ScoreThreshold = 0.2,
    temporal: Temporal = False,
    shuffled_fraction: ShuffledFraction = 0.5,
    temporal_ratio: TemporalRatio = 1.0,
    temporal_alpha: TemporalAlpha = 0.3,
    length_bonus: LengthBonus = 0.0,
    length_range: LengthRange = "320,512",
    max_frames: MaxFrames = 16,
    fps: Fps = 2.0,
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
                reward_weights=weights, reward_concurrency=reward_concurrency,
                scale_rewards=scale_rewards.value, epsilon=epsilon,
                epsilon_high=epsilon_high, num_iterations=num_iterations, beta=beta,
                loss_type=loss_type.value, mask_truncated=mask_truncated,
                filter_groups=filter_groups, max_filter_rounds=max_filter_rounds,
                max_seq_length=max_seq_length, system=system, rollouts_path=rollouts,
                shaping=shaping_config(ctx.params), max_frames=max_frames, fps=fps,
                rollout=rollout_config(tools.value, max_completion_length, max_total_tokens,
                                       max_turns=max_turns, max_images=max_images,
                                       temperature=temperature, top_p=top_p, top_k=top_k,
                                       batch_size=generation_batch_size,
                                       decoder=decoder.value),
                train=train_config(ctx.params))
        with records(inputs, on_error, shard, limit) as stream:
            train(stream.items, cfg, stream.policy, local_rank)
