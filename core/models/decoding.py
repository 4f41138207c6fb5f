"""Decoders: who runs the token loop of one generation batch (the DECODERS registry).

    new = DECODERS["loop"](model, job)       # (B, T) new tokens, finished rows padded

Each decoder takes the encoded, left-padded batch and a DecodeJob (our sampler, EOS ids, stop
strings, suppressed tokens) and returns what transformers' `generate` would have appended to
the prompt: one token per step per row, a finished row padded with the pad id, steps until every
row is finished or max_new_tokens is reached. generation.py turns those tokens into completions
the same way whichever decoder ran.

    hf      transformers' `generate` with our SeededSampler as its logits processor: the
            reference, and the only path for multimodal bundles (qwen2-vl's rotary positions
            are computed inside generate from the image grids) and for anything below
    loop    a minimal loop over the model's forward with a DynamicCache. It makes exactly the
            forward calls `generate` makes (same ids, position ids, mask, cache, logits_to_keep)
            and applies the same rules with the same objects (SeededSampler, transformers'
            SuppressTokensLogitsProcessor and StopStringCriteria), so its tokens are
            identical; it saves generate's per-step machinery (processor and criteria lists,
            kwargs bookkeeping), a fifth of a tiny model's decode
    static  a StaticCache (fixed-size key/value buffers) and the decode step compiled by
            torch.compile (inductor; on the CPU too: it needs a C++ compiler). The first call
            of a shape compiles (tens of seconds on two cores; inductor caches it on disk);
            later steps skip the Python of the model's modules. Attention runs over the padded
            buffer and inductor fuses kernels, so logits may differ from the reference in the
            last bits: tokens matched `hf` on the tests, but a near-tie can flip

`loop` and `static` fall back to `hf` (logged once) for a bundle they cannot decode exactly:
one with media inputs, an encoder-decoder, a generation config that adds logits processors
(repetition penalty, bad words, forced tokens, ...) or a non-dynamic cache, and a model sharded
by ZeRO-3/FSDP over several ranks (generate keeps those ranks' forwards in step).
"""
from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass
from typing import Any, Callable

import torch

log = logging.getLogger("thinkpipe.models")


@dataclass(frozen=True)
class DecodeJob:
    """One batch to decode and the rules every decoder applies alike.

    batch           encode()'s tensors: input_ids (B, W) left-padded, attention_mask (B, W), media
    max_new_tokens  steps at most
    sampler         draws row i's token from generator i (generation.SeededSampler); None: argmax
    end_ids         ids that finish a row (EOS ids and the pad), ascending, as generate is told
    ignore_eos      generate gets the model's generation config without eos_token_id instead;
                    transformers 5 refills that field from the model's own generation config,
                    so rows still end on the config's EOS ids (not on the tokenizer's extra ones)
    pad_id          what generate is told to pad with (the tokenizer's; None: the first end id)
    stop            stop strings (transformers' StopStringCriteria decides when one is complete)
    suppress        ids never chosen (the media placeholders of a multimodal bundle)
    tokenizer       the text tokenizer (for the stop strings)
    """
    batch: dict
    max_new_tokens: int
    sampler: Any
    end_ids: tuple[int, ...]
    ignore_eos: bool
    pad_id: int | None
    stop: tuple[str, ...]
    suppress: tuple[int, ...]
    tokenizer: Any


Decoder = Callable[[Any, DecodeJob], torch.Tensor]


def decode_hf(model, job: DecodeJob) -> torch.Tensor:
    """transformers' generate, greedy over the scores our processors leave: (B, T) new tokens."""
    kwargs: dict = dict(max_new_tokens=job.max_new_tokens, do_sample=False, pad_token_id=job.pad_id)
    if job.ignore_eos:
        kwargs["generation_config"] = _without_eos(model.generation_config)
    else:
        kwargs["eos_token_id"] = list(job.end_ids)
    if job.sampler is not None:
        kwargs["logits_processor"] = [job.sampler]
    if job.stop:
        kwargs.update(stop_strings=list(job.stop), tokenizer=job.tokenizer)
    if job.suppress:
        kwargs["suppress_tokens"] = list(job.suppress)
    out = model.generate(**job.batch, **kwargs)
    return out[:, job.batch["input_ids"].shape[1]:]


def _without_eos(config):
    import copy
    config = copy.deepcopy(config)
    config.eos_token_id = None
    return config


def eos_criterion(model, job: DecodeJob) -> tuple[int, ...]:
    """The ids generate's EOS criterion stops on, in its order (empty: it has none)."""
    if not job.ignore_eos:
        return job.end_ids
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    return tuple(ids) if isinstance(ids, (list, tuple)) else () if ids is None else (int(ids),)


class Rules:
    """generate's per-step rules for one batch, with transformers' own objects where it has them:
    suppressed ids to -inf (SuppressTokensLogitsProcessor), our sampler's draw or the argmax,
    the pad for rows already finished (only when EOS is a criterion, as in generate), then a
    row finishes on an end id or a completed stop string (StopStringCriteria)."""

    def __init__(self, model, job: DecodeJob, seq: torch.Tensor):
        from transformers import StopStringCriteria, SuppressTokensLogitsProcessor

        device = seq.device
        self.sampler = job.sampler
        self.unfinished = torch.ones(seq.shape[0], dtype=torch.bool, device=device)   # (B,)
        eos = eos_criterion(model, job)
        self.eos = torch.tensor(eos, device=device) if eos else None
        self.pad = job.pad_id if job.pad_id is not None else (eos or (0,))[0]
        self.stop = StopStringCriteria(job.tokenizer, list(job.stop)) if job.stop else None
        self.suppress = SuppressTokensLogitsProcessor(list(job.suppress), device) \
            if job.suppress else None

    def next_tokens(self, seq: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """(B, W + t) sequence so far, (B, V) float32 logits -> (B,) tokens."""
        if self.suppress is not None:
            logits = self.suppress(seq, logits)
        tokens = self.sampler.draw(logits) if self.sampler is not None else logits.argmax(-1)
        return tokens if self.eos is None else torch.where(self.unfinished, tokens, self.pad)

    def all_finished(self, seq: torch.Tensor) -> bool:
        """Mark the rows whose last token (B, W + t + 1) ends them; True when none is left."""
        if self.eos is not None:
            self.unfinished &= ~torch.isin(seq[:, -1], self.eos)
        if self.stop is not None:
            self.unfinished &= ~self.stop(seq, None)
        return not bool(self.unfinished.any())


def token_loop(model, job: DecodeJob, prefill: Callable[[], torch.Tensor],
               step: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """generate's loop for a decoder's own forward: prefill() gives the prompt's last logits
    (B, V) float32 and step(tokens (B, 1)) the next ones; the Rules pick each token, until every
    row is finished or max_new_tokens. Returns the new tokens (B, T)."""
    seq = job.batch["input_ids"]                                        # (B, W)
    width, rules = seq.shape[1], Rules(model, job, seq)
    logits = prefill()                                                  # (B, V)
    with _decode_context(model):
        for t in range(job.max_new_tokens):
            if t:
                logits = step(seq[:, -1:])
            seq = torch.cat([seq, rules.next_tokens(seq, logits)[:, None]], dim=-1)
            if rules.all_finished(seq):
                break
    return seq[:, width:]


def positions(attention_mask: torch.Tensor) -> torch.Tensor:
    """generate's position ids for a left-padded batch: count of real tokens so far, minus one
    (0 under the padding). (B, W) -> (B, W)"""
    return (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)


def _last_logits(out) -> torch.Tensor:
    return out.logits[:, -1].to(copy=True, dtype=torch.float32)       # (B, V)


def decode_loop(model, job: DecodeJob) -> torch.Tensor:
    """The model's forward with a DynamicCache, called as generate calls it: the prompt with
    logits_to_keep=1, then one token a step with the next position id and the mask grown by
    one (no mask at all when the batch has no padding, as generate drops an all-ones mask)."""
    from transformers import DynamicCache

    ids, am = job.batch["input_ids"], job.batch["attention_mask"]
    cache = DynamicCache(config=model.config.get_text_config(decoder=True))
    state = {"pos": positions(am), "mask": None if bool((am == 1).all()) else am}

    def forward(tokens: torch.Tensor) -> torch.Tensor:
        return _last_logits(model(input_ids=tokens, cache=cache, position_ids=state["pos"],
                                  attention_mask=state["mask"], logits_to_keep=1,
                                  use_cache=True, return_dict=True))

    def step(tokens: torch.Tensor) -> torch.Tensor:
        state["pos"] = state["pos"][:, -1:] + 1                         # (B, 1)
        if state["mask"] is not None:
            state["mask"] = torch.cat([state["mask"], state["mask"].new_ones((len(ids), 1))], -1)
        return forward(tokens)

    return token_loop(model, job, lambda: forward(ids), step)


def _decode_context(model):
    """generate's own switch for the steps after the prefill (MoE expert kernels, off the CPU
    only), where the model has one."""
    import contextlib
    return getattr(model, "_optimize_model_for_decode", contextlib.nullcontext)()


STATIC_BUCKET = 64   # static buffers are sized in steps of this, so nearby lengths share a graph


def decode_static(model, job: DecodeJob) -> torch.Tensor:
    """A StaticCache of B x ceil((W + max_new_tokens) / 64) * 64 positions, the prompt run
    eagerly into it, then each step through the compiled decode step with a (B, L) mask that
    marks the real keys (prompt tokens and generated ones)."""
    from transformers import StaticCache

    ids, am = job.batch["input_ids"], job.batch["attention_mask"]
    rows, width = ids.shape
    length = -(-(width + job.max_new_tokens) // STATIC_BUCKET) * STATIC_BUCKET
    cache = StaticCache(config=model.config.get_text_config(decoder=True), max_cache_len=length)
    mask = am.new_zeros((rows, length))                                 # (B, L)
    mask[:, :width] = am
    state = {"pos": positions(am), "t": 0}
    compiled = compiled_step()

    def prefill() -> torch.Tensor:
        return _last_logits(model(input_ids=ids, cache=cache, position_ids=state["pos"],
                                  attention_mask=am, logits_to_keep=1, use_cache=True,
                                  return_dict=True))

    def step(tokens: torch.Tensor) -> torch.Tensor:
        state["pos"] = state["pos"][:, -1:] + 1                         # (B, 1)
        mask[:, width + state["t"]] = 1
        state["t"] += 1
        return compiled(model, tokens.clone(), state["pos"], mask, cache)

    return token_loop(model, job, prefill, step)


def _step_logits(model, tokens, position_ids, attention_mask, cache) -> torch.Tensor:
    out = model(input_ids=tokens, cache=cache, position_ids=position_ids,
                attention_mask=attention_mask, use_cache=True, return_dict=True)
    return out.logits[:, -1].to(dtype=torch.float32)                   # (B, V)


@functools.cache
def compiled_step():
    """The decode step under torch.compile, made once per process: dynamo keeps one graph per
    model and shape (the parameters are graph inputs, so training them recompiles nothing)."""
    return torch.compile(_step_logits)


DECODERS: dict[str, Decoder] = {"hf": decode_hf, "loop": decode_loop, "static": decode_static}

# generation-config fields that make generate add a logits processor or change its cache, and
# the values that do not (None means unset)
NEUTRAL = {"repetition_penalty": 1.0, "encoder_repetition_penalty": 1.0,
           "no_repeat_ngram_size": 0, "encoder_no_repeat_ngram_size": 0, "bad_words_ids": None,
           "min_length": 0, "min_new_tokens": 0, "forced_bos_token_id": None,
           "forced_eos_token_id": None, "sequence_bias": None, "begin_suppress_tokens": None,
           "suppress_tokens": None, "exponential_decay_length_penalty": None,
           "renormalize_logits": False, "remove_invalid_values": False,
           "watermarking_config": None, "guidance_scale": 1.0, "cache_implementation": None,
           "prefill_chunk_size": None, "num_beams": 1, "num_return_sequences": 1,
           "use_cache": True, "token_healing": False}


def unsupported(bundle) -> str | None:
    """Why `loop` and `static` cannot decode this bundle exactly as generate would, or None."""
    model = bundle.model
    if bundle.media_kinds:
        return f"{bundle.model_type} takes {'/'.join(bundle.media_kinds)} inputs"
    if getattr(model.config, "is_encoder_decoder", False):
        return "an encoder-decoder model"
    params = inspect.signature(model.forward).parameters
    if not {"position_ids", "cache", "logits_to_keep"} <= set(params):
        return "its forward takes no position_ids, cache or logits_to_keep"
    gc = getattr(model, "generation_config", None)
    for key, neutral in NEUTRAL.items():
        value = getattr(gc, key, None)
        if value not in (None, neutral, [], ()):
            return f"its generation config sets {key}={value!r}"
    return "its weights are sharded over ranks (ZeRO-3/FSDP)" if _synced(model) else None


def _synced(model) -> bool:
    """Whether generate would keep ranks in step (synced_gpus): ZeRO-3 or FSDP over ranks."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()
            and torch.distributed.get_world_size() > 1):
        return False
    from transformers.integrations import is_deepspeed_zero3_enabled
    from transformers.integrations.fsdp import is_fsdp_managed_module
    return is_deepspeed_zero3_enabled() or is_fsdp_managed_module(model)


def decoder_for(bundle, name: str) -> Decoder:
    """DECODERS[name], or `hf` (logged once per reason) when the bundle needs it."""
    if name not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, not {name!r}")
    if name != "hf" and (reason := unsupported(bundle)):
        _fallback(name, reason)
        return decode_hf
    return DECODERS[name]


@functools.cache
def _fallback(name: str, reason: str) -> None:
    log.info("decoder %s falls back to hf: %s", name, reason)
