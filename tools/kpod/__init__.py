"""distill-kpod: keypoint-based progressive chain-of-thought distillation (KPOD, ICML 2024).

KPOD distils a teacher's rationales into a small student with two ideas. A token-weighting
module, learned by masking (a token that can be dropped without hurting answer prediction is
unimportant), weighs every rationale token in the distillation loss (weighting.py). An
in-rationale progressive schedule first asks the student for only the last steps of a rationale
(the earlier ones given as input) and extends toward the whole, the questions advanced at each
stage chosen by a submodular value of step difficulty and question diversity (schedule.py).
This tool runs Algorithm 1 on the shared loop (core/train): weighting module, difficulties,
K-means clusters and the plan first (prepare.py), then one epoch per stage with the w_j-weighted
loss (distill.py), the full rationale after stage T; metrics JSONL on stdout, the student saved
as an HF folder.

    distill-kpod --make 200 > arith.jsonl && thinkpipe init-model --arch llama models/tiny-llm
    distill-kpod --model models/tiny-llm --num-train-epochs 4 --output-dir ckpt/kpod arith.jsonl
    distill-kpod --model ckpt/base --method plain --output-dir ckpt/plain --calculator strip ../shared/data/gsm8k/train.jsonl

Departures from the paper (each an option, or said in the man page): the answer predictor is a
copy of the student by default (the paper: FlanT5-Large), trained with the module; the sum of
Eq. 5 over every prefix is estimated from --prefixes sampled lengths; a masked token's
embedding is zeroed; question embeddings are the mean student input embedding (or TF-IDF),
not GloVe; the submodular solver is a threshold-greedy with the best-singleton guarantee, not
FTGP; Δs = 1 and the first stage fills the C0 budget with the same selection (the paper gives
neither); LoRA is not applied (the whole student trains, as sft does).
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Iterator

from thinkpipe.core.train import TrainConfig

log = logging.getLogger("thinkpipe.kpod")


@dataclass(frozen=True)
class Method:
    """Which of KPOD's two parts a run uses (the paper's Table 2 ablations)."""
    weights: bool       # the token-weighting module's w_j in the loss
    schedule: bool      # the in-rationale progressive schedule


METHODS = {"kpod": Method(True, True), "plain": Method(False, False),
           "weights-only": Method(True, False), "schedule-only": Method(False, True)}


@dataclass(frozen=True)
class KPODConfig:
    """What distill-kpod trains and how.

    model                the student (an HF causal LM folder)
    train                the shared loop's settings (core/train TrainConfig)
    answer_model         the answer predictor (None: a copy of the student)
    method               kpod | plain | weights-only | schedule-only (METHODS)
    max_seq_length       conversations longer than this are skipped and counted
    split                steps end at a "." (period) or at new lines (newline)
    calculator           GSM8K's <<a*b=c>> annotations: keep | strip
    alpha                the mask-ratio weight of L_k = L_p + alpha L_m (paper: 0.5)
    temperature          the Gumbel-softmax temperature of the mask
    prefixes             sampled prefix lengths per rationale estimating Eq. 5's sum
    weighting_epochs     passes of the token-weighting module over the data
    weighting_lr         the module's AdamW learning rate
    predictor_lr         the answer predictor's (None: a tenth of weighting_lr)
    weighting_batch_size rationales per weighting step
    stages               T, the scheduled stages (None: half the epochs, the paper's)
    beta                 the diversity weight of F(S) (paper: 12)
    p                    the budget curve's exponent, dD/dt = u t^p (paper: 0.5)
    c0_ratio             C0 as a share of the total difficulty B (paper: 0.3)
    step                 Δs, the steps a chosen question advances per stage
    clusters             K of the K-means question clusters (paper: 5)
    cluster_on           embeddings (mean student input embedding) | tfidf
    emit_weights         write each rationale's tokens, w_j, steps and d_k here
    """
    model: str
    train: TrainConfig
    answer_model: str | None = None
    method: str = "kpod"
    max_seq_length: int = 1024
    split: str = "period"
    calculator: str = "keep"
    alpha: float = 0.5
    temperature: float = 1.0
    prefixes: int = 2
    weighting_epochs: int = 3
    weighting_lr: float = 1e-4
    predictor_lr: float | None = None
    weighting_batch_size: int = 4
    stages: int | None = None
    beta: float = 12.0
    p: float = 0.5
    c0_ratio: float = 0.3
    step: int = 1
    clusters: int = 5
    cluster_on: str = "embeddings"
    emit_weights: str | None = None

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}")
        if self.split not in ("period", "newline") or self.calculator not in ("keep", "strip"):
            raise ValueError("split is period|newline and calculator keep|strip")
        if self.cluster_on not in ("embeddings", "tfidf"):
            raise ValueError("cluster_on must be embeddings or tfidf")
        if not 0 <= self.c0_ratio < 1:
            raise ValueError("c0_ratio must be in [0, 1)")


def read(items: Iterator[tuple[str, dict]], config: KPODConfig, tokenizer, policy):
    """(Rationale, Encoded) pairs of the usable records; bad ones go to the error policy."""
    from thinkpipe.core.records.ids import record_id
    from thinkpipe.core.records.jsonl import dumps

    from .rationale import encode, from_record
    out, too_long = [], 0
    for where, record in items:
        try:
            r = from_record(record, where, record_id(record), config.split, config.calculator)
            enc = encode(r, tokenizer)
        except ValueError as e:
            policy.handle(where, str(e), dumps(record))
            continue
        if len(enc.input_ids) > config.max_seq_length:
            too_long += 1
            continue
        out.append((r, enc))
    if too_long:
        log.warning("%d rationale(s) longer than --max-seq-length %d skipped", too_long,
                    config.max_seq_length)
    return out


def epochs_of(cfg: TrainConfig, n: int, world: int) -> int:
    """The whole epochs a run touches (the last may be partial)."""
    from thinkpipe.core.train import plan_steps
    from thinkpipe.core.train.data import micro_batches_per_epoch
    per_epoch = micro_batches_per_epoch(n, cfg.per_device_train_batch_size, world) \
        // cfg.gradient_accumulation_steps
    return max(1, math.ceil(plan_steps(cfg, n, world) / max(1, per_epoch)))


def train(items, config: KPODConfig, policy, local_rank=None, heldout=None):
    """Read, prepare (Algorithm 1 lines 2-4), distil, save. Returns the trainer state."""
    from thinkpipe.core.errors import UsageError
    from thinkpipe.core.models import load
    from thinkpipe.core.train import Trainer, check_output_dir, dist, fit

    from . import distill, state
    check_output_dir(config.train, remove=False)      # before loading a model
    info = dist.setup(local_rank, need_group=config.train.uses_deepspeed)
    bundle = load(config.model, device=str(info.device), train=True)
    if bundle.is_vlm or bundle.is_audio:
        raise UsageError(f"--model {config.model}: KPOD distils into a text causal LM "
                         f"({bundle.model_type} is multimodal)")
    pairs = read(items, config, bundle.tokenizer, policy)
    if not pairs:
        raise UsageError("no rationales to distil")
    encoded = [e for _, e in pairs]
    epochs = epochs_of(config.train, len(encoded), info.world_size)
    stages = config.stages if config.stages is not None else epochs // 2
    if METHODS[config.method].schedule and stages == 0:
        log.warning("%d epoch(s) leave no stage for the progressive schedule (T = half the "
                    "epochs): the whole rationale is trained from the start", epochs)
    prepared = state.load_or_prepare(config, pairs, bundle, METHODS[config.method], stages)
    if config.emit_weights and info.is_main:
        state.emit(config.emit_weights, pairs, bundle.tokenizer, prepared)
    data = distill.StagedData(encoded, prepared.weights, prepared.plan)
    pad = bundle.tokenizer.pad_token_id if bundle.tokenizer.pad_token_id is not None else 0
    held = [e for _, e in read(heldout, config, bundle.tokenizer, policy)] if heldout else []
    trainer = Trainer(config.train, bundle.model, n_examples=len(data), local_rank=local_rank,
                      hparams=asdict(config))
    if info.is_main:
        state.save(config.train.output_dir, pairs, prepared)
    hook = state.epoch_hook(trainer, data, held, pad, epochs)
    st = fit(trainer, data, lambda b: distill.collate(b, pad), loss_fn=distill.weighted_loss,
             lengths=data.lengths(), hook=hook, view=data.view)
    trainer.save_model(config.train.output_dir, bundle.tokenizer)
    trainer.close()
    return st


def make_arithmetic(n: int, seed: int = 0, output: str | None = None, fmt: str | None = None):
    """--make: synthetic multi-step arithmetic rationales with filler words (synthetic.py)."""
    from thinkpipe.core.records import RecordWriter

    from .synthetic import arithmetic
    with RecordWriter(output, fmt) as out:
        out.write_many(arithmetic(n, seed=seed))


__all__ = ["KPODConfig", "METHODS", "Method", "train", "read", "make_arithmetic"]
