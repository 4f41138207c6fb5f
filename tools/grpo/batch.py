"""From trajectories to tensors: which tokens the policy is trained on, and their log-probs.

Only the tokens the policy sampled count: the prompt, and in the drawing loop every user turn
that carries the environment's observation (its text and its images), are context. The mask
comes from core/models/tokens.py (assistant spans found through the chat template), restricted
to the assistant messages after the prompt.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from thinkpipe.core.drawing.rollout import Trajectory
from thinkpipe.core.models.tokens import prepare_messages, tokenize
from thinkpipe.core.train import pad_collate

TRUNCATED = ("length", "turn_tokens", "total_tokens")


@dataclass
class Completion:
    prompt_id: str
    group: int
    sample: int
    traj: Trajectory
    prompt_len: int
    rewards: dict = field(default_factory=dict)
    reward: float | None = None
    advantage: float = 0.0
    tokens: dict | None = None          # input_ids, labels (-100 off the mask), image tensors
    old_logp: torch.Tensor | None = None
    ref_logp: torch.Tensor | None = None
    trained: bool = True                # False: kept out of the loss (no reward, too long, ...)
    trust_gamma: float | None = None    # Trust-GRPO: the group's gamma, and the weight applied
    think_weight: float | None = None   # to R^t (variants.py)
    permutation: list | None = None     # T-GRPO: the frame order of a shuffled-frame sample

    @property
    def truncated(self) -> bool:
        return self.traj.reason in TRUNCATED

    @property
    def length(self) -> int:
        return self.traj.tokens


def encode(c: Completion, bundle, max_len: int, prompt_cache: dict | None = None) -> None:
    """Token ids and mask of a completion.

    Single-turn: the prompt's own encoding followed by the tokens exactly as sampled (end token
    included), so the loss scores what the policy drew. Multi-turn: the whole conversation is
    rendered and tokenised, the mask covering the sampled assistant turns (decoded text
    re-tokenised: a policy can sample a non-canonical tokenisation, which this path re-reads
    canonically).
    """
    if c.traj.turns == 1 and c.traj.turn_ids and c.traj.turn_ids[0]:
        prompt = _prompt_tokens(c, bundle, prompt_cache)
        sampled = c.traj.turn_ids[0][:max(0, max_len - len(prompt["input_ids"]))]
        c.tokens = {**prompt, "input_ids": prompt["input_ids"] + sampled,
                    "labels": [-100] * len(prompt["input_ids"]) + sampled}
        if "mm_token_type_ids" in prompt:
            c.tokens["mm_token_type_ids"] = prompt["mm_token_type_ids"] + [0] * len(sampled)
        return
    example = prepare_messages(c.traj.messages, bundle, first=c.prompt_len)
    try:
        c.tokens = tokenize(example, bundle, max_len)
    except ValueError:           # an image conversation longer than the context: not trained on
        c.trained, c.tokens = False, None


def _prompt_tokens(c: Completion, bundle, cache: dict | None) -> dict:
    """The prompt as generation encoded it (ids, image tensors), shared by its group."""
    from thinkpipe.core.models import encode as encode_batch
    from thinkpipe.core.models import render
    key = c.prompt_id
    if cache is not None and key in cache:
        return cache[key]
    batch = encode_batch(bundle, [render(bundle, c.traj.messages[:c.prompt_len])])
    out = {"input_ids": batch["input_ids"][0].tolist()}
    if "mm_token_type_ids" in batch:
        out["mm_token_type_ids"] = batch["mm_token_type_ids"][0].tolist()
    for k in ("pixel_values", "image_grid_thw"):
        if k in batch:
            out[k] = batch[k].cpu()
    if cache is not None:
        cache[key] = out
    return out


def _inputs(batch: dict, device) -> dict:
    return {k: v.to(device) for k, v in batch.items() if k != "labels"}


def selective_logprobs(logits: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """log softmax(logits)[ids] without keeping the whole softmax: (B, T, V), (B, T) -> (B, T)."""
    picked = logits.gather(-1, ids.unsqueeze(-1)).squeeze(-1)          # (B, T)
    return picked - torch.logsumexp(logits, dim=-1)                    # (B, T)


def forward(model, completions: list[Completion], pad_id: int, device,
            entropy: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per-token log-probs of each next token, its mask, and (optionally) the entropy.

    Returns logp (B, T-1), mask (B, T-1) float, entropy (B, T-1) or None, where position t
    scores token t+1 of the padded batch.
    """
    batch = pad_collate([c.tokens for c in completions], pad_id)
    ids = batch["input_ids"].to(device)                                # (B, T)
    mask = (batch["labels"][:, 1:] != -100).to(device).float()         # (B, T-1)
    # logits only from the first scored position on: the prompt's are never used, and over a
    # 49k vocabulary they cost a fifth of the forward and backward of a short completion
    first = int(mask.any(0).float().argmax()) if mask.any() else 0     # first scored position
    keep = {"logits_to_keep": ids.shape[1] - first} if _keeps_logits(model) else {}
    logits = model(**_inputs(batch, device), use_cache=False, **keep).logits.float()
    logits = logits[:, -(ids.shape[1] - first):][:, :-1]               # (B, T-1-first, V)
    logp = logits.new_zeros(mask.shape)                                # (B, T-1)
    logp[:, first:] = selective_logprobs(logits, ids[:, first + 1:])   # (B, T-1)
    ent = None
    if entropy:
        with torch.no_grad():
            ent = torch.zeros_like(mask)                               # (B, T-1)
            probs = logits.softmax(-1)
            ent[:, first:] = -(probs * logits.log_softmax(-1)).sum(-1) * mask[:, first:]
    return logp, mask, ent


def _keeps_logits(model) -> bool:
    """Whether the model's forward takes `logits_to_keep` (transformers' causal LMs and VLMs)."""
    import inspect
    fn = getattr(model, "module", model).forward          # a DeepSpeed engine wraps the model
    try:
        return "logits_to_keep" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def padded(values: list[torch.Tensor], width: int, device) -> torch.Tensor:
    """Stack 1-D per-completion tensors, right-padded with 0 to `width`: (B, width)."""
    out = torch.zeros((len(values), width), device=device)
    for i, v in enumerate(values):
        out[i, :len(v)] = v[:width].to(device)
    return out
