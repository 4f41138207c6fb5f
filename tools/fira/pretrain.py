"""fira-pretrain: pretrain a LLaMA-style model from scratch with Fira, GaLore or AdamW.

The paper's C4 pre-training recipe (Fira App. B.1, GaLore's scripts): LLaMA shapes of Table 6,
sequence length 256, cosine decay to 10% of the peak after 10% warm-up, lr 0.01 for the
low-rank optimizers (1e-3 for AdamW), T = 200, gamma = 1.01, attention and MLP matrices
projected with the per-size rank and alpha below. Text records (`text`) are tokenised as they
stream in, joined with the end-of-text token and cut into --seq-len blocks; validation
perplexity (exp of the mean token cross-entropy) on --eval-file is reported every
--eval-steps and at the end.

Scale: torchrun DDP all-reduces whole gradients, so every rank projects full matrices. DeepSpeed
ZeRO >= 1 partitions the optimizer state and ZeRO >= 2 flattens gradients into buckets, which
breaks the per-matrix projection: those configurations are refused (ZeRO-0 runs).

    make -f pipelines/fira.mk STEPS=20                  # AdamW, GaLore and Fira side by side
    fira-pretrain --tokenizer out/fira/tok --max-steps 20 --variant released out/fira/train.jsonl
    python bench/fira.py --steps 100                   # the comparison of bench/RESULTS.md
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

log = logging.getLogger("thinkpipe.fira")

# Table 6 shapes: hidden, intermediate, heads, layers; and (rank, alpha) of the paper's runs.
SIZES = {
    "tiny": (256, 688, 4, 4), "60m": (512, 1376, 8, 8), "130m": (768, 2048, 12, 12),
    "350m": (1024, 2736, 16, 24), "1b": (2048, 5461, 24, 32),
}
PAPER_RANK_ALPHA = {"tiny": (64, 0.25), "60m": (128, 0.25), "130m": (256, 0.25),
                    "350m": (256, 0.25), "1b": (512, 0.0625)}
OPTIMIZERS = ("fira", "galore", "adamw")


@dataclass(frozen=True)
class PretrainConfig:
    """What fira-pretrain builds and how it optimises (the loop's settings: TrainConfig).

    tokenizer        a Hugging Face tokenizer folder
    size             the paper's Table 6 shape: tiny | 60m | 130m | 350m | 1b
    config_json      a LlamaConfig JSON instead of a size
    optimizer        fira | galore | adamw
    variant          paper (Algorithm 1) | released (PyPI fira 1.0.2)
    rank             the projection rank (None: the paper's for the size)
    alpha            the scale of the low-rank update (None: the paper's for the size)
    update_proj_gap  steps between projector refreshes (T)
    gamma            the norm-growth limiter
    scaling          column | matrix | tensor (the paper's Table 5)
    targets          module-name parts (or a class name) of the projected matrices
    other_lr         lr outside --targets (embeddings, head, norms); None: the same lr
    seq_len          tokens per packed block
    eval_file        records whose perplexity is reported; eval_steps: how often (0: the end)
    eval_batches     at most this many batches of it
    """
    tokenizer: str
    size: str = "tiny"
    config_json: str | None = None
    optimizer: str = "fira"
    variant: str = "paper"
    rank: int | None = None
    alpha: float | None = None
    update_proj_gap: int = 200
    gamma: float = 1.01
    scaling: str = "column"
    targets: tuple[str, ...] = ("attn", "mlp")
    other_lr: float | None = None
    seq_len: int = 256
    eval_file: str | None = None
    eval_steps: int = 0
    eval_batches: int = 64


def model_config(cfg: PretrainConfig, vocab_size: int):
    from transformers import LlamaConfig

    if cfg.config_json:
        return LlamaConfig.from_json_file(cfg.config_json)
    hidden, inter, heads, layers = SIZES[cfg.size]
    return LlamaConfig(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=inter,
                       num_attention_heads=heads, num_key_value_heads=heads,
                       num_hidden_layers=layers, max_position_embeddings=max(2048, cfg.seq_len),
                       tie_word_embeddings=False)


def build_optimizer(model, cfg: PretrainConfig, lr: float, weight_decay: float):
    """Fira/GaLore over param_groups (targets projected), or AdamW over the same split.

    The targeted matrices come first, so the logged lr is theirs; `other_lr` sets the group of
    everything else (the official scripts give both groups one lr).
    """
    from thinkpipe.core.errors import UsageError

    from . import Fira, param_groups

    rank, alpha = PAPER_RANK_ALPHA.get(cfg.size, (128, 0.25))
    try:                         # --targets that select no matrix: the options' fault (exit 2)
        rest, targeted = param_groups(model, cfg.targets, rank=cfg.rank or rank,
                                      update_proj_gap=cfg.update_proj_gap,
                                      alpha=cfg.alpha if cfg.alpha is not None else alpha)
    except ValueError as e:
        raise UsageError(f"--targets: {e}") from None
    if cfg.other_lr is not None:
        rest["lr"] = cfg.other_lr
    if cfg.optimizer == "adamw":
        plain = {"params": targeted["params"]}
        return torch.optim.AdamW([plain, rest], lr=lr, weight_decay=weight_decay, eps=1e-6)
    return Fira([targeted, rest], lr=lr, weight_decay=weight_decay, gamma=cfg.gamma,
                scaling=cfg.scaling, variant=cfg.variant, residual=cfg.optimizer == "fira")


class Blocks:
    """Fixed-length token blocks over one int32 array (constant memory per block)."""

    def __init__(self, ids: np.ndarray, seq_len: int):
        self.ids, self.seq_len = ids, seq_len

    def __len__(self) -> int:
        return len(self.ids) // self.seq_len

    def __getitem__(self, i: int) -> dict:
        return {"input_ids": self.ids[i * self.seq_len:(i + 1) * self.seq_len].tolist()}


def pack(items, tokenizer, seq_len: int, policy) -> Blocks:
    """Tokenise `text` records as they stream in; join them with end-of-text; cut into blocks."""
    from thinkpipe.core.records.jsonl import dumps

    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.pad_token_id
    chunks, pending = [], []
    for where, record in items:
        text = record.get("text")
        if not isinstance(text, str):
            policy.handle(where, "no `text` field to pretrain on", dumps(record))
            continue
        if not text.strip():
            continue
        pending.append(text)
        if len(pending) >= 1024:
            chunks.append(_encode(tokenizer, pending, eos))
            pending = []
    if pending:
        chunks.append(_encode(tokenizer, pending, eos))
    ids = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int32)
    return Blocks(ids, seq_len)


def _encode(tokenizer, texts: list[str], eos: int) -> np.ndarray:
    out = []
    for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        out.extend(ids)
        out.append(eos)
    return np.asarray(out, dtype=np.int32)


@torch.no_grad()
def perplexity(model, blocks: Blocks, batch: int, max_batches: int, device) -> float:
    """exp(mean next-token cross-entropy) over up to max_batches batches of blocks."""
    was = model.training
    model.eval()
    total, count = 0.0, 0
    for b in range(min(max_batches, math.ceil(len(blocks) / batch))):
        ids = torch.tensor([blocks[i]["input_ids"] for i in range(b * batch,
                                                                  min(len(blocks), (b + 1) * batch))],
                           device=device)
        logits = model(input_ids=ids, use_cache=False).logits[:, :-1].float()
        total += float(torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="sum"))
        count += ids[:, 1:].numel()
    model.train(was)
    return math.exp(total / max(1, count))


def check_scale(train_cfg) -> None:
    from thinkpipe.core.errors import UsageError
    if train_cfg.zero not in (None, 0) or train_cfg.deepspeed:
        raise UsageError(
            "fira-pretrain runs under torchrun (DDP) or DeepSpeed ZeRO-0 only: ZeRO >= 1 shards "
            "the optimizer state and ZeRO >= 2 flattens gradients into buckets, so no rank sees "
            "the whole gradient matrix that Fira and GaLore project")


def run(items, cfg: PretrainConfig, train_cfg, policy, local_rank=None):
    """Build the model, pack the corpus, train with the chosen optimizer, evaluate, save."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    from thinkpipe.core.errors import UsageError
    from thinkpipe.core.models.loading import quiet_transformers
    from thinkpipe.core.records import read_records
    from thinkpipe.core.train import Trainer, check_output_dir, dist, fit, pad_collate

    check_scale(train_cfg)
    check_output_dir(train_cfg, remove=False)      # before reading the corpus
    quiet_transformers()
    info = dist.setup(local_rank, need_group=train_cfg.uses_deepspeed)
    tokenizer = AutoTokenizer.from_pretrained(cfg.tokenizer)
    blocks = pack(items, tokenizer, cfg.seq_len, policy)
    if len(blocks) == 0:
        raise UsageError(f"the corpus is shorter than one --seq-len {cfg.seq_len} block")
    evals = None
    if cfg.eval_file:
        reader = read_records([cfg.eval_file], policy)
        evals = pack(((reader.where, r) for r in reader), tokenizer, cfg.seq_len, policy)
    torch.manual_seed(train_cfg.seed)
    model = LlamaForCausalLM(model_config(cfg, len(tokenizer)))
    optimizer = build_optimizer(model, cfg, train_cfg.learning_rate, train_cfg.weight_decay)
    log.info("%s parameters, %d blocks of %d tokens, optimizer %s%s", f"{model.num_parameters():,}",
             len(blocks), cfg.seq_len, cfg.optimizer,
             f" ({cfg.variant})" if cfg.optimizer == "fira" else "")
    trainer = Trainer(train_cfg, model, n_examples=len(blocks), optimizer=optimizer,
                      local_rank=local_rank, hparams={**asdict(cfg), "train": asdict(train_cfg)})

    def hook(state):
        extra = {}
        if state.step == 1 and hasattr(optimizer, "state_size"):
            extra["optimizer_state_elements"] = optimizer.state_size()["total"]
        elif state.step == 1:
            extra["optimizer_state_elements"] = sum(
                v.numel() for s in optimizer.state.values() for v in s.values()
                if isinstance(v, torch.Tensor) and v.ndim > 0)
        due = cfg.eval_steps and state.step % cfg.eval_steps == 0
        if evals is not None and len(evals) and (due or state.step == trainer.total_steps):
            extra["eval_perplexity"] = perplexity(trainer.engine.module, evals,
                                                  train_cfg.per_device_train_batch_size,
                                                  cfg.eval_batches, info.device)
        return extra

    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    state = fit(trainer, blocks, lambda b: pad_collate(b, pad), hook=hook)
    trainer.save_model(train_cfg.output_dir, tokenizer)
    trainer.close()
    return state
