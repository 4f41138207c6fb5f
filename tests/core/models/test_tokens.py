"""SFT examples: the loss falls on assistant tokens only, found through the chat template."""
import pytest

from thinkpipe.core.models import load
from thinkpipe.core.models.tokens import _expand, prepare, token_count, tokenize


def labelled_text(bundle, t):
    runs, cur = [], []
    for tok, lab in zip(t["input_ids"], t["labels"]):
        if lab != -100:
            cur.append(tok)
        elif cur:
            runs.append(bundle.tokenizer.decode(cur))
            cur = []
    if cur:
        runs.append(bundle.tokenizer.decode(cur))
    return runs


def test_text_model_labels_exactly_the_assistant_turns(tiny_models):
    bundle = load(tiny_models["llama"])
    rec = {"messages": [{"role": "system", "content": "be brief"},
                        {"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"},
                        {"role": "user", "content": "and 3+3?"},
                        {"role": "assistant", "content": "<answer>6</answer>"}]}
    t = tokenize(prepare(rec, bundle, "f:1"), bundle, 4096)
    assert labelled_text(bundle, t) == ["4<|im_end|>\n", "<answer>6</answer><|im_end|>\n"]
    short = tokenize(prepare(rec, bundle, "f:1"), bundle, 10)
    assert len(short["input_ids"]) == 10


def test_vlm_labels_and_image_token_count(tiny_models, red_png):
    bundle = load(tiny_models["qwen2-vl"])
    rec = {"messages": [
        {"role": "user", "content": [{"type": "image", "image": red_png}, {"type": "text", "text": "draw"}]},
        {"role": "assistant", "content": "<think>x</think> Action: Object Mapper"},
        {"role": "user", "content": [{"type": "image", "image": red_png}, {"type": "text", "text": "ok"}]},
        {"role": "assistant", "content": "<answer>A</answer>"}]}
    ex = prepare(rec, bundle, "f:1")
    t = tokenize(ex, bundle, 4096)
    assert labelled_text(bundle, t) == ["<think>x</think> Action: Object Mapper<|im_end|>\n",
                                        "<answer>A</answer><|im_end|>\n"]
    assert token_count(ex, bundle) == len(t["input_ids"])
    assert sum(t["mm_token_type_ids"]) > 0 and t["image_grid_thw"].shape == (2, 3)


def test_records_without_assistant_turns_are_rejected(tiny_models):
    bundle = load(tiny_models["llama"])
    with pytest.raises(ValueError, match="assistant"):
        prepare({"messages": [{"role": "user", "content": "hi"}]}, bundle, "f:1")
    ex = prepare({"question": "2+2?", "answer": "4"}, bundle, "f:1")   # question/answer form
    assert ex.spans


def test_expand_maps_positions():
    text, index = _expand("a<|image_pad|>b", [3])
    assert text == "a" + "<|image_pad|>" * 3 + "b" and text[index[14]] == "b"
