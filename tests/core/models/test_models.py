"""Tiny models: built offline, loaded by path like real checkpoints, generating in batches."""
import json
import os

import pytest
import torch

from thinkpipe.core.models import (Sampling, build_tiny, generate, load, prompt_messages,
                                   render)
from thinkpipe.core.models.tokenizer import train_tokenizer


def test_tokenizer_is_deterministic_and_chatml():
    a, b = train_tokenizer(512), train_tokenizer(512)
    assert a.get_vocab() == b.get_vocab() and len(a) == 512
    text = a.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False,
                                 add_generation_prompt=True)
    assert text == ("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    assert a.decode(a("naïve ✓ 🧭")["input_ids"]) == "naïve ✓ 🧭"  # byte-level: no unknowns


def test_folders_are_ordinary_hf_folders(tiny_models):
    for arch, path in tiny_models.items():
        cfg = json.load(open(os.path.join(path, "config.json")))
        assert cfg["model_type"] == {"qwen2-vl": "qwen2_5_vl", "llama": "llama"}[arch]
        assert os.path.exists(os.path.join(path, "tokenizer.json"))
    assert os.path.exists(os.path.join(tiny_models["qwen2-vl"], "processor_config.json"))


def test_auto_processor_returns_the_image_only_processor(tiny_models):
    from transformers import AutoProcessor

    from thinkpipe.core.models.processor import ImageOnlyQwenVLProcessor, register
    register()
    proc = AutoProcessor.from_pretrained(tiny_models["qwen2-vl"])
    assert isinstance(proc, ImageOnlyQwenVLProcessor)
    assert not hasattr(proc, "video_processor") or proc.video_processor is None


def test_vlm_generates_from_an_image(tiny_models, red_png):
    bundle = load(tiny_models["qwen2-vl"])
    assert bundle.is_vlm
    messages = prompt_messages({"question": "What colour is the square?", "images": [red_png]})
    text, images = render(bundle, messages)
    assert "<|vision_start|><|image_pad|><|vision_end|>" in text and len(images) == 1
    out = generate(bundle, [messages], Sampling(temperature=0, max_new_tokens=8))
    assert len(out[0].token_ids) == 8 and out[0].finish_reason == "length"


def test_llm_rejects_images_and_generates_text(tiny_models, red_png):
    bundle = load(tiny_models["llama"])
    out = generate(bundle, [prompt_messages({"question": "Which way?"})],
                   Sampling(temperature=0, max_new_tokens=5))
    assert out[0].prompt_tokens > 5 and len(out[0].token_ids) == 5
    with pytest.raises(ValueError, match="text-only"):
        generate(bundle, [prompt_messages({"question": "?", "images": [red_png]})])


@pytest.mark.parametrize("arch", ["qwen2-vl", "llama"])
def test_save_load_round_trip_gives_identical_logits(tiny_models, tmp_path, arch, red_png):
    bundle = load(tiny_models[arch])
    bundle.model.save_pretrained(tmp_path)
    (bundle.processor or bundle.tokenizer).save_pretrained(tmp_path)
    again = load(str(tmp_path))
    from thinkpipe.core.models import encode
    record = {"question": "count the boxes", **({"images": [red_png]} if bundle.is_vlm else {})}
    batch = encode(bundle, [render(bundle, prompt_messages(record))])
    with torch.no_grad():
        assert torch.equal(bundle.model(**batch).logits, again.model(**batch).logits)


@pytest.mark.parametrize("arch", ["qwen2-vl", "llama"])
def test_batched_left_padded_greedy_equals_one_at_a_time(tiny_models, arch, red_png):
    bundle = load(tiny_models[arch])
    records = [{"question": "up?"}, {"question": "which path from the start reaches the goal "
                                     "with the fewest turns?", "options": ["A", "B"]},
               {"messages": [{"role": "user", "content": "count"},
                             {"role": "assistant", "content": "3"}]}]
    if bundle.is_vlm:
        records[0]["images"] = [red_png]
    convs = [prompt_messages(r) for r in records]
    greedy = Sampling(temperature=0, max_new_tokens=12)
    batched = generate(bundle, convs, greedy, batch_size=3)
    single = [generate(bundle, [c], greedy)[0] for c in convs]
    assert [b.token_ids for b in batched] == [s.token_ids for s in single]


def test_seeds_reproduce_samples_and_stop_strings_end_them(tiny_models):
    bundle = load(tiny_models["llama"])
    convs = [prompt_messages({"question": f"q{i}"}) for i in range(4)]
    hot = Sampling(temperature=1.0, max_new_tokens=16)
    a = generate(bundle, convs, hot, seeds=[1, 2, 3, 4])
    b = generate(bundle, convs, hot, seeds=[1, 2, 3, 4], batch_size=2)
    c = generate(bundle, convs, hot, seeds=[5, 6, 7, 8])
    assert [x.text for x in a] == [x.text for x in b]
    assert [x.text for x in a] != [x.text for x in c]
    assert [x.seed for x in a] == [1, 2, 3, 4]
    first = a[0].text[2:4]  # a string the first sample is known to contain
    cut = generate(bundle, convs[:1], Sampling(temperature=1.0, max_new_tokens=16, stop=(first,)),
                   seeds=[1])[0]
    assert cut.finish_reason == "stop" and cut.text == a[0].text[:a[0].text.find(first)]
    kept = generate(bundle, convs[:1], Sampling(temperature=1.0, max_new_tokens=16, stop=(first,),
                                                include_stop=True), seeds=[1])[0]
    assert kept.text.endswith(first)


def test_sampling_without_seeds_is_an_error(tiny_models):
    bundle = load(tiny_models["llama"])
    with pytest.raises(ValueError, match="seed"):
        generate(bundle, [prompt_messages({"question": "?"})], Sampling(temperature=0.7))


def test_missing_model_folder_is_an_input_error(tmp_path, monkeypatch):
    from thinkpipe.core.errors import InputError
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="no such model folder"):
        load(str(tmp_path / "nope"))
    with pytest.raises(InputError, match="no config.json"):
        load(str(tmp_path))


def test_build_rejects_unknown_arch(tmp_path):
    with pytest.raises(ValueError):
        build_tiny("gpt5", str(tmp_path))


def test_vlms_never_sample_vision_placeholders(tiny_models):
    from thinkpipe.core.models.generation import vision_token_ids
    bundle = load(tiny_models["qwen2-vl"])
    banned = set(vision_token_ids(bundle))
    assert len(banned) == 4
    out = generate(bundle, [prompt_messages({"question": f"q{i}"}) for i in range(8)],
                   Sampling(temperature=5.0, max_new_tokens=40), seeds=list(range(8)))
    assert not banned & {t for c in out for t in c.sampled_ids}


@pytest.mark.gpu
def test_greedy_generation_on_a_gpu_matches_the_cpu(tiny_models):
    from thinkpipe.core.models import Sampling, generate, load, prompt_messages
    prompts = [prompt_messages({"question": f"Count to {n}."}) for n in range(4)]
    outs = {device: [c.text for c in generate(load(tiny_models["llama"], device=device,
                                                   dtype="float32"), prompts,
                                              Sampling(temperature=0, max_new_tokens=12))]
            for device in ("cpu", "cuda")}
    assert outs["cuda"] == outs["cpu"]
