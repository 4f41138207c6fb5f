"""Before distillation (paper Algorithm 1, lines 2-4): train the token-weighting module, weigh
every rationale token, score step difficulty with the pre-distillation student, cluster the
questions and plan the progressive schedule.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import torch

from . import clusters, schedule
from .rationale import Encoded
from .weighting import (AnswerPredictor, TokenWeighter, lr_cosine, mask_loss, step_difficulty,
                        token_nll, weights)

log = logging.getLogger("thinkpipe.kpod")


@dataclass
class Prepared:
    """What the distillation needs, per example (the order of `encoded`)."""
    weights: list[list[float]] | None      # w_j per rationale token; None: unweighted
    difficulty: list[torch.Tensor]         # d_k per step
    clusters: torch.Tensor                 # (N,) the question's K-means cluster
    plan: schedule.Plan | None             # c_i(t); None: the full rationale every epoch
    weighting: dict                        # the weighting module's last losses
    token_weights: list[list[float]] | None = None   # learned w_j, also when only emitted


def answer_predictor(path: str | None, student, student_tokenizer, device) -> AnswerPredictor:
    """A copy of the student (path None), or any HF causal LM sharing the student's tokenizer,
    or any HF seq2seq model, loaded for training."""
    width = student.get_input_embeddings().weight.shape[1]
    if path is None:
        return AnswerPredictor(copy.deepcopy(student).float().train(), width)
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer
    from thinkpipe.core.errors import UsageError
    try:
        config = AutoConfig.from_pretrained(path)
        tok = AutoTokenizer.from_pretrained(path)
    except OSError as e:
        raise UsageError(f"--answer-model {path}: not a model folder ({e})") from None
    seq2seq = bool(getattr(config, "is_encoder_decoder", False))
    if not seq2seq and tok.get_vocab() != student_tokenizer.get_vocab():
        raise UsageError(f"--answer-model {path}: a causal LM answer predictor must share the "
                         "student's tokenizer (it reads the student's tokens); a seq2seq model "
                         "(T5) need not")
    cls = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = cls.from_pretrained(path, dtype=torch.float32).to(device).train()
    return AnswerPredictor(model, width, tok if seq2seq else None).to(device)


def train_weighter(encoded: list[Encoded], student, predictor: AnswerPredictor, cfg,
                   seed: int) -> tuple[TokenWeighter, dict]:
    """Minimise L_p + alpha * L_m over the weighting module and the answer predictor. The
    predictor, which can already read a rationale, moves at a tenth of the module's rate by
    default: at the same rate it adapts to the masks instead and every weight falls to 0
    (bench/RESULTS.md, KPOD)."""
    device = next(student.parameters()).device
    torch.manual_seed(seed)
    weighter = TokenWeighter(student.get_input_embeddings().weight).to(device)
    plr = cfg.predictor_lr if cfg.predictor_lr is not None else cfg.weighting_lr / 10
    mine = [p for p in weighter.parameters() if p.requires_grad]
    theirs = [p for p in predictor.parameters() if p.requires_grad]
    params = mine + theirs
    opt = torch.optim.AdamW([{"params": mine, "lr": cfg.weighting_lr},
                             {"params": theirs, "lr": plr}])
    g = torch.Generator().manual_seed(seed)
    per_epoch = max(1, len(encoded) // cfg.weighting_batch_size)
    total, last = cfg.weighting_epochs * per_epoch, {}
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_cosine(s, total, total // 10))
    for epoch in range(cfg.weighting_epochs):
        order = torch.randperm(len(encoded), generator=g).tolist()
        sums = {"loss": 0.0, "answer_loss": 0.0, "kept": 0.0}
        for b in range(per_epoch):
            batch = [encoded[i] for i in order[b * cfg.weighting_batch_size:
                                               (b + 1) * cfg.weighting_batch_size]]
            out = mask_loss(weighter, predictor, batch, cfg.alpha, cfg.temperature,
                            cfg.prefixes, g)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            for k in sums:
                sums[k] += float(out[k].detach()) / per_epoch
        last = {k: round(v, 4) for k, v in sums.items()}
        log.info("token weighting epoch %d/%d: loss %.3f, answer loss %.3f, kept %.0f%%",
                 epoch + 1, cfg.weighting_epochs, last["loss"], last["answer_loss"],
                 100 * last["kept"])
    if last.get("kept", 1.0) < 0.05:
        log.warning("the token-weighting module masks %.0f%% of the rationale tokens: its answer "
                    "predictor cannot use them (an untrained student?), so every weight is near "
                    "0; distil plainly first, or pass a trained --answer-model",
                    100 * (1 - last["kept"]))
    return weighter.eval(), last


@torch.no_grad()
def weigh(weighter: TokenWeighter, encoded: list[Encoded], batch_size: int = 16) -> list[list[float]]:
    out = []
    for i in range(0, len(encoded), batch_size):
        batch = encoded[i:i + batch_size]
        w = weights(weighter, batch).cpu()
        out += [w[j, :len(e.rationale_ids)].tolist() for j, e in enumerate(batch)]
    return out


def difficulties(student, encoded: list[Encoded], w: list[list[float]] | None,
                 batch_size: int = 8) -> list[torch.Tensor]:
    """d_k per step (Eq. 8) under the student as it is now (before distillation)."""
    was = student.training
    student.eval()
    out = []
    for i in range(0, len(encoded), batch_size):
        batch = encoded[i:i + batch_size]
        for j, (e, nll) in enumerate(zip(batch, token_nll(student, batch))):
            wj = torch.ones(len(nll)) if w is None else torch.tensor(w[i + j])
            out.append(step_difficulty(nll, wj, e))
    student.train(was)
    return out


def question_clusters(student, tokenizer, questions: list[str], k: int, on: str,
                      seed: int) -> torch.Tensor:
    """K-means labels of the questions: mean student input embeddings (GloVe's stand-in) or
    TF-IDF rows."""
    if on == "tfidf":
        x = clusters.tfidf(questions)
    else:
        table = student.get_input_embeddings().weight.detach().float().cpu()
        x = torch.stack([table[torch.as_tensor(tokenizer(q, add_special_tokens=False).input_ids
                                               or [0])].mean(0) for q in questions])
    return clusters.kmeans(x, k, seed=seed)


def prepare(encoded: list[Encoded], questions: list[str], student, tokenizer, cfg, method,
            stages: int, seed: int) -> Prepared:
    """Algorithm 1 before training, for the parts `method` uses."""
    w, stats = None, {}
    if method.weights or cfg.emit_weights:
        predictor = answer_predictor(cfg.answer_model, student, tokenizer,
                                     next(student.parameters()).device)
        weighter, stats = train_weighter(encoded, student, predictor, cfg, seed)
        w = weigh(weighter, encoded)
        del predictor, weighter
    d = difficulties(student, encoded, w if method.weights else None)
    labels = question_clusters(student, tokenizer, questions, cfg.clusters, cfg.cluster_on, seed)
    plan = None
    if method.schedule and stages > 0:
        plan = schedule.plan(d, labels, stages, cfg.c0_ratio, cfg.p, cfg.beta, cfg.step)
        log.info("schedule: %d stages, budgets %s, %d question(s) jumped to the full rationale "
                 "at stage %d", stages, [round(b, 1) for b in plan.budgets], plan.forced, stages)
    return Prepared(w if method.weights else None, d, labels, plan, stats, w)
