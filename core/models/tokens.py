"""Conversations -> token ids with a mask of the assistant's tokens (sft labels, grpo masks).

Assistant spans come from the chat template itself, not from token ids: for the i-th assistant
message, rendering the conversation up to it with the generation prompt gives the text before
its content, and rendering through it gives the text after; the characters in between (the
turn and its end-of-turn marker) are the assistant's. The template must render prefixes as
prefixes of the whole (ChatML and Qwen-VL's do); one that does not is reported, not guessed.
Tokens are labelled through the tokenizer's character offsets.

For Qwen-VL models the processor expands each image placeholder into one token per merged
patch; the same expansion is applied to the text here (counts from the image grid), and the
token ids are checked against the processor's before labels are taken from the offsets.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records.media import open_image
from .chat import flatten_text, image_refs, record_messages

IMAGE_PAD = "<|image_pad|>"


@dataclass
class Example:
    text: str                          # the rendered conversation
    spans: list[tuple[int, int]]       # assistant character spans in `text`
    images: list[Any]                  # media references, in placeholder order
    where: str


def conversation(record: dict) -> list[dict]:
    """`messages` (images in a top-level list resolved into their turns: chat.record_messages),
    or question/answer-style records as a user turn and an assistant turn."""
    messages = record_messages(record)
    if isinstance(messages, list) and any(isinstance(m, dict) and m.get("role") == "assistant"
                                          for m in messages):
        return messages
    reply = record.get("response") or record.get("answer")
    if isinstance(record.get("question"), str) and isinstance(reply, str):
        parts = [{"type": "image", "image": r} for r in record.get("images") or []]
        return [{"role": "user", "content": parts + [{"type": "text", "text": record["question"]}]},
                {"role": "assistant", "content": reply}]
    raise ValueError("no `messages` with an assistant turn (or question and response) to train on")


def _render(bundle, messages, generation_prompt: bool) -> str:
    if bundle.is_vlm:
        return bundle.processor.apply_chat_template(messages, tokenize=False,
                                                    add_generation_prompt=generation_prompt)
    return bundle.tokenizer.apply_chat_template(flatten_text(messages), tokenize=False,
                                                add_generation_prompt=generation_prompt)


def prepare(record: dict, bundle, where: str) -> Example:
    """Render a record and find its assistant spans (ValueError explains what is wrong)."""
    return prepare_messages(conversation(record), bundle, where)


def prepare_messages(messages: list[dict], bundle, where: str = "", first: int = 0) -> Example:
    """Render a conversation; the spans of its assistant messages from index `first` on."""
    text = _render(bundle, messages, False)
    spans = []
    for i, m in enumerate(messages):
        if m.get("role") != "assistant" or i < first:
            continue
        before = _render(bundle, messages[:i], True)
        through = _render(bundle, messages[:i + 1], False)
        if not (text.startswith(before) and text.startswith(through)):
            raise ValueError("the chat template does not render a conversation's beginning as a "
                             "prefix of the whole, so assistant turns cannot be located")
        spans.append((len(before), len(through)))
    refs = image_refs(messages) if bundle.is_vlm else []
    return Example(text, spans, refs, where)


def _expand(text: str, counts: list[int]) -> tuple[str, list[int]]:
    """Repeat the k-th image placeholder counts[k] times; return the text and, for every
    character position of the original text (and its end), its position in the expanded text."""
    out, index, k, pos, length = [], [], 0, 0, 0
    while True:
        j = text.find(IMAGE_PAD, pos)
        end = len(text) if j < 0 else j
        index += range(length, length + end - pos)
        out.append(text[pos:end])
        length += end - pos
        if j < 0:
            break
        index += range(length, length + len(IMAGE_PAD))
        out.append(IMAGE_PAD * counts[k])
        length += len(IMAGE_PAD) * counts[k]
        k += 1
        pos = j + len(IMAGE_PAD)
    index.append(length)
    return "".join(out), index


def image_tokens(bundle, ref) -> int:
    """Tokens an image becomes, from its size alone (the processor's resize rule)."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import smart_resize

    from ..records.media import image_size
    ip = bundle.processor.image_processor
    w, h = image_size(ref)
    factor = ip.patch_size * ip.merge_size
    pixels = getattr(ip, "size", None) or {}
    rh, rw = smart_resize(h, w, factor=factor,
                          min_pixels=pixels.get("shortest_edge", getattr(ip, "min_pixels", 56 * 56)),
                          max_pixels=pixels.get("longest_edge", getattr(ip, "max_pixels", 28 * 28 * 1280)))
    return (rh // ip.patch_size) * (rw // ip.patch_size) // ip.merge_size ** 2


def token_count(example: Example, bundle) -> int:
    n = len(bundle.tokenizer(example.text, add_special_tokens=False)["input_ids"])
    return n + sum(image_tokens(bundle, r) - 1 for r in example.images)


def _labels(ids: list[int], offsets, spans: list[tuple[int, int]]) -> list[int]:
    labels = []
    for tok, (start, end) in zip(ids, offsets):
        inside = any(a <= start < b for a, b in spans) and end > start
        labels.append(tok if inside else -100)
    return labels


def tokenize(example: Example, bundle, max_len: int) -> dict:
    """input_ids and labels (and image tensors for a VLM) of one example, at most max_len."""
    tok = bundle.tokenizer
    if not bundle.is_vlm:
        enc = tok(example.text, return_offsets_mapping=True, add_special_tokens=False)
        ids = enc["input_ids"][:max_len]
        return {"input_ids": ids, "labels": _labels(ids, enc["offset_mapping"], example.spans)}
    images = [open_image(r) for r in example.images]
    batch = bundle.processor(text=[example.text], images=images or None, return_tensors="pt")
    ids = batch["input_ids"][0].tolist()
    if len(ids) > max_len:
        raise ValueError(f"{len(ids)} tokens with images, over --max-seq-length {max_len}")
    merge = bundle.processor.image_processor.merge_size ** 2
    counts = [int(g.prod()) // merge for g in batch["image_grid_thw"]] if images else []
    expanded, index = _expand(example.text, counts)
    enc = tok(expanded, return_offsets_mapping=True, add_special_tokens=False)
    if enc["input_ids"] != ids:
        raise ValueError("expanding image placeholders did not reproduce the processor's tokens")
    spans = [(index[a], index[b]) for a, b in example.spans]
    out = {"input_ids": ids, "labels": _labels(ids, enc["offset_mapping"], spans),
           "mm_token_type_ids": batch["mm_token_type_ids"][0].tolist()}
    if images:
        out.update(pixel_values=batch["pixel_values"], image_grid_thw=batch["image_grid_thw"])
    return out


def labelled_after_truncation(example: Example, bundle, max_len: int) -> bool:
    """Does a text example keep an assistant token to predict after truncation to max_len?
    (The first token is never a target: labels are shifted by one.)"""
    labels = tokenize(example, bundle, max_len)["labels"]
    return any(label != -100 for label in labels[1:])


class TokenDataset:
    """Prepared conversations, tokenised on access (images decoded only when a batch needs them)."""

    def __init__(self, examples: list[Example], bundle, max_len: int):
        self.examples, self.bundle, self.max_len = examples, bundle, max_len

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict:
        return tokenize(self.examples[i], self.bundle, self.max_len)

    def lengths(self) -> list[int]:
        """Character lengths, a cheap proxy for token lengths when grouping by length."""
        return [len(e.text) for e in self.examples]
