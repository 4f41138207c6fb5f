"""Decoders (core/models/decoding.py): every path gives hf's tokens, texts and finish reasons.

Hostile cases: prompts of very different lengths in one batch (heavy left padding), batches of
1 and of several, a row whose EOS comes at its first token next to rows that run to
max_new_tokens, stop strings met mid-batch, max_new_tokens 1, nucleus and top-k sampling, and
ignore_eos (where transformers 5 still stops on the generation config's EOS ids). `static`
compiles a graph per shape (tens of seconds on two cores), so its test is marked slow.
"""
from dataclasses import replace

import pytest
import torch

from thinkpipe.core.models import Sampling, generate, load, prompt_messages
from thinkpipe.core.models.decoding import (DECODERS, DecodeJob, decode_hf, decode_loop,
                                            decoder_for, positions, unsupported)

QUESTIONS = ["up?", "which path from the start reaches the goal with the fewest turns? " * 4,
             "count the boxes, then add two", "Reply with the letter A."]
SEEDS = [11, 12, 13, 14]


@pytest.fixture(scope="module")
def llama(tiny_models):
    return load(tiny_models["llama"])


def convs(questions=QUESTIONS):
    return [prompt_messages({"question": q}) for q in questions]


def run(bundle, sampling, decoder, seeds=None, batch_size=4, questions=QUESTIONS):
    """Everything a completion carries, per prompt."""
    out = generate(bundle, convs(questions), replace(sampling, decoder=decoder),
                   seeds=seeds if sampling.temperature > 0 else None, batch_size=batch_size)
    return [(c.text, c.token_ids, c.sampled_ids, c.finish_reason, c.prompt_tokens) for c in out]


GREEDY = [Sampling(temperature=0, max_new_tokens=12), Sampling(temperature=0, max_new_tokens=1)]
SAMPLED = [Sampling(temperature=1.0, max_new_tokens=16),
           Sampling(temperature=0.7, top_p=0.9, top_k=20, max_new_tokens=24)]


@pytest.mark.parametrize("batch_size", [1, 4])
@pytest.mark.parametrize("sampling", GREEDY + SAMPLED)
def test_loop_gives_hf_tokens_texts_and_reasons(llama, sampling, batch_size):
    ref = run(llama, sampling, "hf", SEEDS, batch_size)
    assert run(llama, sampling, "loop", SEEDS, batch_size) == ref
    assert len({r[4] for r in ref}) == len(ref)          # every prompt length differs: padding
    assert all(len(r[1]) == sampling.max_new_tokens for r in ref)


def test_sampled_tokens_follow_the_seeds_on_every_path(llama):
    hot = SAMPLED[0]
    a, b = run(llama, hot, "loop", SEEDS), run(llama, hot, "loop", [s + 100 for s in SEEDS])
    assert [x[1] for x in a] != [x[1] for x in b]       # the seeds matter, so equality means something
    assert run(llama, hot, "loop", SEEDS, batch_size=1) == a   # and the batch does not


def eos_setup(bundle):
    """EOS ids that end row 0 at its 4th greedy token and row 1 at its first, while the other
    rows run to the end: (ids, greedy reference of 12 tokens)."""
    ref = run(bundle, GREEDY[0], "hf")
    others = {t for r in ref[2:] for t in r[1]}
    late = next(t for t in ref[0][1][3:] if t not in others and t not in ref[0][1][:3])
    early = ref[1][1][0]
    assert early not in others | set(ref[0][1][:ref[0][1].index(late)])
    return [2, 0, late, early], ref


def test_eos_inside_the_batch_ends_those_rows_alike(tiny_models):
    bundle = load(tiny_models["llama"])                 # its generation config is changed here
    bundle.model.generation_config.eos_token_id, before = eos_setup(bundle)
    for sampling in (GREEDY[0], replace(GREEDY[0], ignore_eos=True)):
        ref = run(bundle, sampling, "hf")
        assert run(bundle, sampling, "loop") == ref
        assert ref != before
    reasons = [r[3] for r in run(bundle, GREEDY[0], "hf")]
    assert reasons[:2] == ["eos", "eos"] and reasons[2:] == ["length", "length"]
    assert run(bundle, GREEDY[0], "hf")[1][0] == ""      # EOS as the very first token


def test_stop_strings_end_rows_alike(llama):
    hot = SAMPLED[0]
    first = run(llama, hot, "hf", SEEDS)
    stop = first[0][0][3:5]                             # a string sample 0 is known to contain
    for include in (False, True):
        sampling = replace(hot, stop=(stop,), include_stop=include)
        ref = run(llama, sampling, "hf", SEEDS)
        assert run(llama, sampling, "loop", SEEDS) == ref
        assert ref[0][3] == "stop" and ref[0][0].endswith(stop) == include
        assert len(ref[0][1]) < len(first[0][1])         # generation ended there


def job(bundle, max_new_tokens, suppress=()):
    from thinkpipe.core.models import encode, render
    batch = encode(bundle, [render(bundle, c) for c in convs()])
    return DecodeJob(batch, max_new_tokens, None, (0, 2), False, 0, (), tuple(suppress),
                     bundle.tokenizer)


def test_suppressed_tokens_are_never_chosen_on_either_path(llama):
    free = decode_hf(llama.model, job(llama, 8))
    banned = sorted(set(free[:, :3].flatten().tolist()))   # what greedy would pick first
    ref = decode_hf(llama.model, job(llama, 8, banned))
    assert torch.equal(decode_loop(llama.model, job(llama, 8, banned)), ref)
    assert not set(banned) & set(ref.flatten().tolist()) and not torch.equal(ref, free)


def test_positions_count_real_tokens_under_left_padding():
    mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
    assert positions(mask).tolist() == [[0, 0, 0, 1], [0, 1, 2, 3]]


def test_media_bundles_and_processor_configs_fall_back_to_hf(tiny_models, red_png):
    vlm = load(tiny_models["qwen2-vl"])
    assert "image" in unsupported(vlm) and decoder_for(vlm, "loop") is decode_hf
    messages = [prompt_messages({"question": "colour?", "images": [red_png]})]
    hot = replace(SAMPLED[0], max_new_tokens=8)
    outs = {d: [(c.text, c.token_ids) for c in generate(vlm, messages, replace(hot, decoder=d),
                                                        seeds=[3])] for d in DECODERS}
    assert outs["loop"] == outs["static"] == outs["hf"]
    bundle = load(tiny_models["llama"])
    assert unsupported(bundle) is None and decoder_for(bundle, "loop") is decode_loop
    bundle.model.generation_config.repetition_penalty = 1.3
    assert "repetition_penalty" in unsupported(bundle) and decoder_for(bundle, "static") is decode_hf


def test_an_unknown_decoder_is_refused():
    with pytest.raises(ValueError, match="decoder must be one of hf, loop, static"):
        Sampling(decoder="vllm")


@pytest.mark.slow
def test_static_gives_hf_tokens_on_these_prompts(llama):
    """Compiles the decode step (one batch shape, one buffer length: ~20-40 s cold on 2 cores).
    Not guaranteed in general (padded attention, fused kernels), measured here."""
    for sampling in (GREEDY[0], SAMPLED[1], replace(SAMPLED[0], stop=("e",), include_stop=True)):
        assert run(llama, sampling, "static", SEEDS) == run(llama, sampling, "hf", SEEDS)
