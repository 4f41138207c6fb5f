"""KPOD's token-weighting module (paper §3.3) and step difficulty (Eq. 8), as tensors in, tensors out.

    e_j  = Att(Emb(r))_j                   the student's input embeddings (frozen copy), one
                                           self-attention layer (residual + LayerNorm)
    w_j  = sigmoid(f_w(e_j))               f_w a 2-layer MLP; w_j = P(token j is kept)
    m_j  = GumbelSoftmax(w_j) in {0, 1}    Binary Concrete with temperature tau, straight-through
    L_p  = -sum_k sum_j log P(y_j | y_<j, r[m]_<k, x)    (Eq. 5) every prefix length k of the
                                           masked rationale, estimated from K sampled k:
                                           (L / K) * sum over the sample (unbiased for the sum)
    L_m  = sum_j m_j                       (Eq. 6, a plain sum, not a mean)
    L_k  = L_p + alpha * L_m               (Eq. 7; alpha = 0.5, App. A)
    d_k  = -sum_{j in step k} softmax_k(w)_j * log P(r_j | r_<j, x; theta_s^pre)   (Eq. 8)

Our choices where the paper is silent (the man page lists them): a masked token's embedding is
zeroed (no mask token); the Gumbel temperature defaults to 1; the embedding copy is frozen;
the answer predictor is trained with the module, at a tenth of its learning rate by default
(prepare.py; the paper initialises it from FlanT5-Large).
The predictor is any HF causal LM that shares the student's tokenizer (default: a copy of the
student) — its own embeddings read the row, the rationale positions scaled by m — or any HF
seq2seq model (T5), whose encoder reads the student's embeddings of the row through a linear
map to its width and whose decoder predicts the answer in its own tokenizer.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from thinkpipe.core.train import pad_collate

from .rationale import Encoded


class TokenWeighter(nn.Module):
    """w = sigmoid(MLP(LayerNorm(x + SelfAttention(x)))), x = Emb(r) with the student's table."""

    def __init__(self, embedding: torch.Tensor, heads: int = 4):
        super().__init__()
        d = embedding.shape[1]
        heads = max(h for h in range(1, heads + 1) if d % h == 0)
        self.embed = nn.Embedding.from_pretrained(embedding.detach().clone().float(), freeze=True)
        self.attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, 1))
        nn.init.constant_(self.mlp[-1].bias, 2.0)     # start by keeping tokens (w ~ 0.88)

    def forward(self, ids: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)                                               # (B, L, d)
        a, _ = self.attn(x, x, x, key_padding_mask=~real, need_weights=False)
        e = self.norm(x + a)                                              # (B, L, d)
        return torch.sigmoid(self.mlp(e).squeeze(-1)) * real              # (B, L), 0 at padding


def gumbel_mask(w: torch.Tensor, temperature: float = 1.0,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Straight-through Binary Concrete sample of keep (1) / drop (0) with P(keep) = w.

    m_soft = sigmoid((log w - log(1 - w) + log u - log(1 - u)) / tau), u ~ U(0, 1) (the
    difference of two Gumbels is logistic); forward 1[m_soft > 1/2], gradient of m_soft.
    """
    w = w.clamp(1e-6, 1 - 1e-6)
    u = torch.rand(w.shape, generator=generator, device="cpu").to(w.device).clamp(1e-6, 1 - 1e-6)
    soft = torch.sigmoid((w.log() - (1 - w).log() + u.log() - (1 - u).log()) / temperature)
    hard = (soft > 0.5).to(soft.dtype)
    return hard + soft - soft.detach()                                    # (B, L)


def pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, L) ids and the (B, L) bool mask of real positions (the loop's
    pad_collate, padding with 0)."""
    batch = pad_collate([{"input_ids": r} for r in rows], 0)
    return batch["input_ids"], batch["attention_mask"].bool()


def weights(weighter: TokenWeighter, batch: list[Encoded]) -> torch.Tensor:
    """(B, L) w_j over each rationale's tokens (0 past its end)."""
    ids, real = pad([e.rationale_ids for e in batch])
    return weighter(ids.to(weighter.embed.weight.device), real.to(weighter.embed.weight.device))


class AnswerPredictor(nn.Module):
    """Predicts the answer from the question and a masked rationale prefix (Eq. 5)."""

    def __init__(self, model, student_width: int, tokenizer=None):
        super().__init__()
        self.model = model
        self.seq2seq = bool(getattr(model.config, "is_encoder_decoder", False))
        self.tokenizer = tokenizer                       # the seq2seq model's own, for answers
        width = model.config.d_model if self.seq2seq else None
        self.proj = nn.Linear(student_width, width) if self.seq2seq else nn.Identity()

    def loss(self, rows: list[tuple[Encoded, torch.Tensor, int]], embed: nn.Embedding) -> torch.Tensor:
        """-sum_j log P(y_j | y_<j, r[m]_<k, x) of each (example, mask m over its rationale,
        prefix length k) row: (R,)."""
        if self.seq2seq:
            return torch.stack([self._seq2seq_row(e, m, k, embed) for e, m, k in rows])
        device = rows[0][1].device
        seqs = [e.input_ids[:e.start + k] + e.input_ids[e.tail[0]:e.tail[1]] for e, _, k in rows]
        ids, real = pad(seqs)
        ids, real = ids.to(device), real.to(device)                       # (R, T)
        scale = torch.ones(ids.shape, device=device)                      # (R, T)
        labels = torch.full(ids.shape, -100, dtype=torch.long, device=device)
        for r, (e, m, k) in enumerate(rows):
            scale[r, e.start:e.start + k] = m[:k]
            a0 = e.start + k + (e.answer[0] - e.tail[0])
            labels[r, a0:a0 + e.answer[1] - e.answer[0]] = ids[r, a0:a0 + e.answer[1] - e.answer[0]]
        x = self.model.get_input_embeddings()(ids)                        # (R, T, d)
        logits = self.model(inputs_embeds=x * scale[..., None].to(x.dtype),
                            attention_mask=real.long()).logits            # (R, T, V)
        ce = nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2).float(), labels[:, 1:],
                                         ignore_index=-100, reduction="none")   # (R, T-1)
        return ce.sum(1)

    def _seq2seq_row(self, enc: Encoded, m: torch.Tensor, k: int, embed: nn.Embedding):
        ids = enc.input_ids
        context = ids[:enc.start + k] + ids[enc.tail[0]:enc.answer[0]]
        x = embed(torch.as_tensor(context, device=m.device))              # (T, d)
        scale = torch.cat([torch.ones(enc.start, device=m.device), m[:k],
                           torch.ones(len(context) - enc.start - k, device=m.device)])
        answer = self.tokenizer(enc.answer_text, return_tensors="pt").input_ids.to(m.device)
        out = self.model(inputs_embeds=self.proj(x * scale[:, None])[None], labels=answer)
        return out.loss * answer.shape[1]


def mask_loss(weighter: TokenWeighter, predictor: AnswerPredictor, batch: list[Encoded],
              alpha: float, temperature: float, prefixes: int,
              generator: torch.Generator) -> dict[str, torch.Tensor]:
    """L = mean over the batch of L_p + alpha * L_m, with its parts (Eq. 5-7)."""
    w = weights(weighter, batch)                                          # (B, L)
    m = gumbel_mask(w, temperature, generator) * (w > 0)                  # (B, L)
    n = torch.tensor([len(e.rationale_ids) for e in batch], device=w.device)   # (B,)
    rows = [(e, m[i], k) for i, e in enumerate(batch)
            for k in torch.randint(1, int(n[i]) + 1, (prefixes,), generator=generator).tolist()]
    per_row = predictor.loss(rows, weighter.embed).view(len(batch), prefixes)   # (B, K)
    lp = per_row.sum(1) * n / prefixes                                    # (B,) Eq. 5's sum
    lm = m.sum(1)                                                         # (B,) Eq. 6
    return {"loss": (lp + alpha * lm).mean(), "answer_loss": lp.mean().detach(),
            "kept": (lm / n).mean().detach()}


@torch.no_grad()
def token_nll(model, batch: list[Encoded]) -> list[torch.Tensor]:
    """-log P(r_j | r_<j, x) of each rationale token under `model` (one (L_i,) per example)."""
    ids, real = pad([e.input_ids for e in batch])
    device = next(model.parameters()).device
    logits = model(input_ids=ids.to(device), attention_mask=real.long().to(device)).logits
    logp = torch.log_softmax(logits[:, :-1].float(), -1)                  # (B, T-1, V)
    nll = -logp.gather(-1, ids[:, 1:, None].to(device)).squeeze(-1)       # (B, T-1)
    return [nll[i, e.start - 1:e.tail[0] - 1].cpu() for i, e in enumerate(batch)]


def step_difficulty(nll: torch.Tensor, w: torch.Tensor, enc: Encoded) -> torch.Tensor:
    """d_k = sum_{j in step k} softmax_k(w)_j * nll_j (Eq. 8), one per step: (n_steps,).

    nll, w: (L,) over the rationale's tokens; softmax taken within each step.
    """
    out = []
    for a, b in enc.steps:
        a, b = a - enc.start, b - enc.start
        out.append((torch.softmax(w[a:b].float(), 0) * nll[a:b]).sum())
    return torch.stack(out)


def lr_cosine(step: int, total: int, warmup: int) -> float:
    """The weighting module's schedule: linear warm-up, cosine to 0."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
