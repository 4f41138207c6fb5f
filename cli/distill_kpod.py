"""distill-kpod: keypoint-based progressive CoT distillation (tools/kpod)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import (Config, Format, Inputs, Limit, OnError, Output, ProgressEvery, Quiet, Seed,
                      Shard, Verbose)
from .options import panel_option as _opt
from .runner import guard, records, usage_errors
from .train_options import (TRACKERS_MAN, BF16, DeepSpeedConfig, GradAccum, GradCheckpointing, LearningRate,
                            LocalRank, LoggingSteps, LRScheduler, MaxGradNorm, MaxSteps, Metrics,
                            NumTrainEpochs, OutputDir, OverwriteOutputDir, PerDeviceBatch, Resume,
                            SaveSteps, SaveTotalLimit, Schedule, TensorBoard, ReportTo, RunName, LoggingDir, train_config,
                            WarmupRatio, WarmupSteps, WeightDecay, Zero)

KPOD, WEIGHTING, SCHEDULE, DATA = ("KPOD", "Token weighting (paper 3.3)",
                                   "Progressive schedule (paper 3.4)", "Model and data")

EXAMPLES = """\
distill-kpod --make 200 > arith.jsonl
distill-kpod --model models/tiny-llm --num-train-epochs 4 --output-dir ckpt/kpod arith.jsonl
distill-kpod --model ckpt/base --method plain --output-dir ckpt/plain --calculator strip gsm8k/train.jsonl
distill-kpod --model ckpt/base --output-dir ckpt/kpod --emit-weights weights.jsonl --eval-file heldout.jsonl train.jsonl
torchrun --nproc_per_node 4 $(which distill-kpod) --model ckpt/base --output-dir ckpt/kpod --zero 2 train.jsonl
"""

MAN_SECTIONS = {"Paper and our choices": """\
Follows the paper (Feng et al., ICML 2024, sections 3.3-3.4, Algorithm 1, App. A): the
token-weighting module (the student's input embeddings, one self-attention layer, a 2-layer
MLP, sigmoid w_j), the Gumbel-softmax keep/drop mask, the answer loss summed over prefixes of
the masked rationale (Eq. 5), L_p + 0.5 L_m with a plain-sum L_m (Eq. 6-7), step difficulty
with the pre-distillation student's NLL weighted by the softmax of w within the step (Eq. 8),
the budget D(t) = u t^(p+1)/(p+1) + C0 with D(T) = B, C0 = 0.3 B, p = 0.5, T = half the epochs
(Eq. 10), the value F(S) = -(dD - dH(S)) + beta sum_k sqrt|C_k n S| with beta = 12, K = 5, under
dH(S) <= dD with unused budget carried over (Eq. 11-13), the w_j-weighted loss on the scheduled
steps plus the answer NLL (Eq. 15), the full rationale after stage T.

Our choices, where the paper is silent or cannot be followed offline: the answer predictor is a
copy of the student (the paper's is FlanT5-Large; --answer-model takes any causal LM with the
student's tokenizer or any seq2seq model), trained with the module at a tenth of its learning
rate (--predictor-lr: at the module's own rate the predictor learns to do without the masked
tokens and every weight falls towards 0); Eq. 5's sum over every
prefix is estimated from --prefixes sampled lengths, scaled to the sum; a masked token's
embedding is zeroed; Gumbel temperature 1, straight-through; question embeddings are the mean
student input embedding (or TF-IDF), since GloVe is not available offline; the solver is a
density threshold-greedy with the best-singleton guarantee, not FTGP; ds = 1 and the first
stage fills C0 with the same selection; a question still short of its whole rationale at T
jumps to it. No LoRA: the whole student trains, as sft does.

Ablations (paper Table 2): --method plain (standard CoT distillation, Eq. 1), weights-only (w/o
the progressive schedule), schedule-only (w/o significance weights: uniform weights in the loss
and the difficulty), --beta 0 (w/o the diversity term).

Files: --output-dir holds the checkpoints, the final model, train_config.json and
kpod_prepared.pt (weights, difficulties, clusters and the plan, read back by --resume). Metrics
lines at each epoch end add stage, generated (the share of steps the student generates) and,
with --eval-file, eval_loss (the held-out NLL per token of the whole rationale and answer).
""", "Experiment trackers": TRACKERS_MAN}


class MethodName(str, Enum):
    kpod = "kpod"
    plain = "plain"
    weights_only = "weights-only"
    schedule_only = "schedule-only"


class Split(str, Enum):
    period = "period"
    newline = "newline"


class Calculator(str, Enum):
    keep = "keep"
    strip = "strip"


class ClusterOn(str, Enum):
    embeddings = "embeddings"
    tfidf = "tfidf"


def distill_kpod(
    ctx: typer.Context,
    inputs: Inputs = None,
    model: Annotated[Optional[str], _opt("--model", DATA, "The student: an HF causal LM folder.",
                                         metavar="PATH")] = None,
    output_dir: Annotated[Optional[str], OutputDir.__metadata__[0]] = None,
    answer_model: Annotated[Optional[str], _opt(
        "--answer-model", WEIGHTING, "The answer predictor of the weighting module: a causal LM "
        "with the student's tokenizer or any seq2seq model (T5). Default: a copy of the "
        "student.", metavar="PATH")] = None,
    method: Annotated[MethodName, _opt("--method", KPOD, "kpod, or an ablation: plain (standard "
                                       "CoT distillation), weights-only, schedule-only.")] = MethodName.kpod,
    emit_weights: Annotated[Optional[str], _opt(
        "--emit-weights", KPOD, "Write one record per rationale: id, tokens, weights (w_j), "
        "steps (token ranges), difficulty (d_k), cluster, inputs per stage.",
        metavar="FILE")] = None,
    eval_file: Annotated[Optional[str], _opt(
        "--eval-file", DATA, "Held-out rationale records: their loss (eval_loss) at each epoch "
        "end.", metavar="FILE")] = None,
    make: Annotated[Optional[int], _opt(
        "--make", DATA, "Write N synthetic multi-step arithmetic rationale records (with filler "
        "words; --seed) and exit.", metavar="N", min=1)] = None,
    max_seq_length: Annotated[int, _opt("--max-seq-length", DATA, "Longer conversations are "
                                        "skipped and counted.", min=16)] = 1024,
    split: Annotated[Split, _opt("--split", DATA, "Steps end at a \".\" (period) or at new "
                                 "lines.")] = Split.period,
    calculator: Annotated[Calculator, _opt("--calculator", DATA, "GSM8K's <<a*b=c>> "
                                           "annotations: keep or strip.")] = Calculator.keep,
    alpha: Annotated[float, _opt("--alpha", WEIGHTING, "Mask-ratio weight in L_p + alpha L_m.",
                                 min=0.0)] = 0.5,
    gumbel_temperature: Annotated[float, _opt("--gumbel-temperature", WEIGHTING,
                                              "Temperature of the keep/drop mask.", min=1e-3)] = 1.0,
    prefixes: Annotated[int, _opt("--prefixes", WEIGHTING, "Prefix lengths sampled per "
                                  "rationale for Eq. 5's sum.", min=1)] = 2,
    weighting_epochs: Annotated[int, _opt("--weighting-epochs", WEIGHTING, "Passes of the "
                                          "weighting module over the data.", min=1)] = 3,
    weighting_lr: Annotated[float, _opt("--weighting-lr", WEIGHTING, "Its learning rate.",
                                        min=0.0)] = 1e-4,
    predictor_lr: Annotated[Optional[float], _opt(
        "--predictor-lr", WEIGHTING, "The answer predictor's learning rate (default: a tenth "
        "of --weighting-lr; at the same rate it adapts to the masks and the weights collapse).",
        min=0.0)] = None,
    weighting_batch_size: Annotated[int, _opt("--weighting-batch-size", WEIGHTING,
                                              "Rationales per weighting step.", min=1)] = 4,
    stages: Annotated[Optional[int], _opt("--stages", SCHEDULE, "T, the scheduled stages (one "
                                          "epoch each). Default: half the epochs.", min=0)] = None,
    beta: Annotated[float, _opt("--beta", SCHEDULE, "Diversity weight of F(S) (0: w/o the "
                                "diversity term).", min=0.0)] = 12.0,
    budget_power: Annotated[float, _opt("--budget-power", SCHEDULE, "p in dD/dt = u t^p.",
                                        min=0.0)] = 0.5,
    c0_ratio: Annotated[float, _opt("--c0-ratio", SCHEDULE, "C0, the first stage's budget, as "
                                    "a share of the total difficulty.", min=0.0, max=0.99)] = 0.3,
    step_size: Annotated[int, _opt("--step-size", SCHEDULE, "Steps a chosen question advances "
                                   "per stage (ds).", min=1)] = 1,
    clusters: Annotated[int, _opt("--clusters", SCHEDULE, "K of the K-means question clusters.",
                                  min=1)] = 5,
    cluster_on: Annotated[ClusterOn, _opt("--cluster-on", SCHEDULE, "Question embeddings: mean "
                                          "student input embeddings, or TF-IDF.")] = ClusterOn.embeddings,
    learning_rate: LearningRate = 1e-5,
    num_train_epochs: NumTrainEpochs = 20.0,
    max_steps: MaxSteps = 0,
    per_device_train_batch_size: PerDeviceBatch = 4,
    gradient_accumulation_steps: GradAccum = 1,
    warmup_ratio: WarmupRatio = 0.0,
    warmup_steps: WarmupSteps = 0,
    lr_scheduler_type: LRScheduler = Schedule.constant,
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
    output: Output = None,
    fmt: Format = None,
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
    """Keypoint-based progressive chain-of-thought distillation (KPOD) from teacher
    rationales into a small language model.

    Records hold question, rationale and answer (GSM8K's answer with "#### N", or a teacher's
    response, are read too). First a token-weighting module learns, by masking, which rationale
    tokens the answer depends on; the pre-distillation student scores each step's difficulty;
    a submodular schedule then has the student generate first the last steps of each rationale
    (the earlier ones given), extending toward the whole by stage T, with the w_j-weighted loss.
    Metrics JSONL go to stdout; the student is saved to --output-dir as an HF folder
    (thinkpipe eval --model scores it). Ctrl-C saves a checkpoint that --resume continues from.
    """
    with guard("distill-kpod", verbose, quiet, progress_every):
        from thinkpipe.core.errors import UsageError

        if make is not None:
            if inputs or model:
                raise UsageError("--make N writes synthetic records and exits: give no --model "
                                 "and no inputs with it")
            from thinkpipe.tools.kpod import make_arithmetic
            make_arithmetic(make, seed, output, fmt.value if fmt else None)
            return
        if not model or not output_dir:
            raise UsageError("--model and --output-dir are required (or --make N)")
        from thinkpipe.tools.kpod import KPODConfig, train
        with usage_errors():
            cfg = KPODConfig(model=model, answer_model=answer_model, method=method.value,
                             max_seq_length=max_seq_length, split=split.value,
                             calculator=calculator.value, alpha=alpha,
                             temperature=gumbel_temperature, prefixes=prefixes,
                             weighting_epochs=weighting_epochs, weighting_lr=weighting_lr,
                             predictor_lr=predictor_lr,
                             weighting_batch_size=weighting_batch_size, stages=stages,
                             beta=beta, p=budget_power, c0_ratio=c0_ratio, step=step_size,
                             clusters=clusters, cluster_on=cluster_on.value,
                             emit_weights=emit_weights, train=train_config(ctx.params))
        with records(inputs, on_error, shard, limit) as stream:
            heldout = None
            if eval_file:
                from thinkpipe.core.records import read_records
                reader = read_records([eval_file], stream.policy)
                heldout = [(reader.where, r) for r in reader]
            train(stream.items, cfg, stream.policy, local_rank, heldout)
