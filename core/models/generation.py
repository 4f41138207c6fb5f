"""Batched generation with per-sample seeds, stop strings and a reason for every ending.

    out = generate(bundle, [messages1, messages2], Sampling(temperature=0.7, stop=("</answer>",)),
                   seeds=[11, 12])
    out[0].text, out[0].finish_reason, out[0].seed

Prompts are left-padded into batches and decoded by `Sampling.decoder` (decoding.py's
registry): `hf`, the model's own `generate` (its KV cache, its multimodal rotary positions), the
reference and the default; `loop`, a minimal decode loop over the model's forward that makes
the same calls and gives the same tokens; `static`, a static KV cache with a compiled decode
step. Sampling is ours: `SeededSampler`, a logits processor, draws each row's token from that
row's own `torch.Generator`, so a sample is reproducible from its seed; it then leaves only
that token (greedy decoding keeps it). With temperature 0 decoding is greedy and seeds are
irrelevant.

A completion ends for one of three reasons: `stop` (a stop string appeared; the text is cut
before it unless include_stop), `eos` (an end-of-sequence token) or `length`
(max_new_tokens reached).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .chat import encode, render
from .decoding import DECODERS, DecodeJob, decoder_for


@dataclass(frozen=True)
class Sampling:
    """Decoding parameters (vLLM/TRL names)."""

    max_new_tokens: int = 256
    temperature: float = 1.0   # 0 means greedy
    top_p: float = 1.0
    top_k: int = 0             # 0 means no top-k
    stop: tuple[str, ...] = ()
    include_stop: bool = False
    ignore_eos: bool = False   # decode max_new_tokens whatever comes (benchmarks)
    decoder: str = "hf"        # hf | loop | static (decoding.py); media bundles always use hf

    def __post_init__(self):
        if self.decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, not {self.decoder!r}")


@dataclass
class Completion:
    text: str
    token_ids: list[int] = field(repr=False)   # the tokens of `text` (end token excluded)
    finish_reason: str          # stop | eos | length
    seed: int | None
    prompt_tokens: int
    sampled_ids: list[int] = field(default_factory=list, repr=False)  # as sampled, end token included


class SeededSampler:
    """Logits processor: sample row i from softmax(scores_i / T) after top-k/top-p, using
    generator i; return scores that keep only the drawn token.

    scores: (B, V) -> (B, V) with 0 at the drawn token and -inf elsewhere.
    """

    def __init__(self, generators: list[torch.Generator], temperature: float, top_p: float,
                 top_k: int):
        self.generators, self.temperature, self.top_p, self.top_k = \
            generators, temperature, top_p, top_k

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        drawn = self.draw(scores)                                          # (B,)
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(drawn)), drawn] = 0.0
        return out

    def draw(self, scores: torch.Tensor) -> torch.Tensor:
        """Row i's token from generator i: (B, V) scores -> (B,) ids on the scores' device (what
        __call__ leaves, for a decoder that needs no scores back)."""
        logits = scores.float() / self.temperature                         # (B, V)
        if self.top_k > 0:
            kth = torch.topk(logits, min(self.top_k, logits.shape[-1])).values[:, -1:]  # (B, 1)
            logits = logits.masked_fill(logits < kth, float("-inf"))
        if self.top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True)     # (B, V)
            probs = sorted_logits.softmax(-1)
            drop = probs.cumsum(-1) - probs > self.top_p                   # keep the first over
            logits = logits.scatter(1, order, sorted_logits.masked_fill(drop, float("-inf")))
        cdf = logits.softmax(-1).double().cumsum(-1).cpu()                # (B, V)
        # inverse-CDF draw: one uniform per row from that row's generator, then one batched
        # search (a multinomial call per row cost a third of a tiny model's rollout)
        u = torch.cat([torch.rand(1, generator=g, dtype=torch.float64) for g in self.generators])
        drawn = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(1)).squeeze(1)   # (B,)
        return drawn.clamp(max=cdf.shape[1] - 1).to(scores.device)


def _finish(tokenizer, new_tokens: list[int], end_ids: set[int], sampling: Sampling):
    """(text, kept token ids, finish reason) for one row's generated tokens."""
    cut = next((i for i, t in enumerate(new_tokens) if t in end_ids), len(new_tokens))
    kept = new_tokens[:cut]  # (a stop string ends generation; the pad after it is an end id)
    text = tokenizer.decode(kept, skip_special_tokens=True)
    hits = [(text.find(s), s) for s in sampling.stop if s and s in text]
    if hits:
        pos, stop = min(hits)
        return text[:pos + len(stop)] if sampling.include_stop else text[:pos], kept, "stop"
    if cut < len(new_tokens):
        return text, kept, "eos"
    return text, kept, "length" if len(new_tokens) >= sampling.max_new_tokens else "eos"


def end_token_ids(bundle) -> set[int]:
    """EOS ids from the generation config (a list in Qwen's), plus the tokenizer's eos and pad."""
    gc = getattr(bundle.model, "generation_config", None)
    ids = getattr(gc, "eos_token_id", None)
    ids = set(ids if isinstance(ids, (list, tuple)) else [ids] if ids is not None else [])
    for t in (bundle.tokenizer.eos_token_id, bundle.tokenizer.pad_token_id):
        if t is not None:
            ids.add(t)
    return ids


VISION_TOKENS = ("<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")
AUDIO_TOKENS = ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")


def vision_token_ids(bundle) -> list[int]:
    """Ids of the placeholders only the processor may insert (never sampled): image and video
    ones, and audio ones."""
    vocab = bundle.tokenizer.get_vocab()
    return [vocab[t] for t in VISION_TOKENS + AUDIO_TOKENS if t in vocab]


@torch.inference_mode()
def generate_rendered(bundle, prompts: list[tuple[str, list]], sampling: Sampling,
                      seeds: list[int] | None = None) -> list[Completion]:
    """One batch of already-rendered prompts (text, images) -> completions, in order."""
    batch = encode(bundle, prompts)
    end_ids = set() if sampling.ignore_eos else end_token_ids(bundle)
    sampler = None
    if sampling.temperature > 0:
        if seeds is None or len(seeds) != len(prompts):
            raise ValueError("sampling needs one seed per prompt")
        sampler = SeededSampler([torch.Generator().manual_seed(int(s)) for s in seeds],
                                sampling.temperature, sampling.top_p, sampling.top_k)
    # a sampled image/audio placeholder would have no media behind it
    suppress = tuple(vision_token_ids(bundle)) if bundle.media_kinds else ()
    job = DecodeJob(batch, sampling.max_new_tokens, sampler, tuple(sorted(end_ids)),
                    sampling.ignore_eos, bundle.tokenizer.pad_token_id, tuple(sampling.stop),
                    suppress, bundle.tokenizer)
    new_tokens = decoder_for(bundle, sampling.decoder)(bundle.model, job)   # (B, T)
    completions = []
    for i in range(len(prompts)):
        new = new_tokens[i].tolist()
        text, kept, reason = _finish(bundle.tokenizer, new, end_ids, sampling)
        sampled = new[:len(kept) + 1] if reason == "eos" else kept
        completions.append(Completion(text, kept, reason, None if seeds is None else seeds[i],
                                      int(batch["attention_mask"][i].sum()), sampled))
    return completions


def generate(bundle, conversations: list[list[dict]], sampling: Sampling = Sampling(),
             seeds: list[int] | None = None, batch_size: int = 8) -> list[Completion]:
    """Completions for chat conversations (DESIGN.md messages), batch_size at a time."""
    out: list[Completion] = []
    for start in range(0, len(conversations), batch_size):
        chunk = conversations[start:start + batch_size]
        rendered = [render(bundle, messages) for messages in chunk]
        chunk_seeds = None if seeds is None else seeds[start:start + batch_size]
        out += generate_rendered(bundle, rendered, sampling, chunk_seeds)
    return out
