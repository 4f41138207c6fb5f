"""From records to prompts: the conversation a model sees, and its images.

A record either carries `messages` (chat turns, content a string or typed parts) or a
`question` (with optional `options` and `images`), from which a single user turn is built:
images first, then the question, then the lettered options — the layout Qwen-VL and the VILASR
prompts use. `prompt_messages` drops trailing assistant turns, so a record that already holds an
answer can be re-asked.
"""
from __future__ import annotations

from typing import Any

from ..records import media

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def options_text(options: list) -> str:
    return "\n".join(f"{LETTERS[i]}. {opt}" for i, opt in enumerate(options))


def question_messages(record: dict, system: str | None = None) -> list[dict]:
    """A user turn from question/options/images (and an optional system turn)."""
    if not isinstance(record.get("question"), str):
        raise ValueError("record has neither `messages` nor a string `question`")
    text = record["question"]
    if record.get("options"):
        text += "\n" + options_text(record["options"])
    parts = [{"type": "image", "image": ref} for ref in record.get("images") or []]
    parts.append({"type": "text", "text": text})
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": parts}]


def prompt_messages(record: dict, system: str | None = None) -> list[dict]:
    """The turns to prompt with: `messages` up to the last non-assistant turn, else the question."""
    messages = record.get("messages")
    if isinstance(messages, list) and messages:
        end = len(messages)
        while end and isinstance(messages[end - 1], dict) and messages[end - 1].get("role") == "assistant":
            end -= 1
        if end == 0:
            raise ValueError("`messages` holds only assistant turns")
        out = list(messages[:end])
        if system and out[0].get("role") != "system":
            out.insert(0, {"role": "system", "content": system})
        return out
    return question_messages(record, system)


def image_refs(messages: list[dict]) -> list[Any]:
    """Media references of image parts, in the order the template renders them."""
    refs = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list):
            refs += [p.get("image") for p in content if isinstance(p, dict) and p.get("type") == "image"]
    return refs


def flatten_text(messages: list[dict]) -> list[dict]:
    """For text-only models: parts joined into a string (an image part is an error)."""
    out = []
    for msg in messages:
        content = msg.get("content")
        if isinstance(content, list):
            if any(isinstance(p, dict) and p.get("type") in media.PART_KINDS for p in content):
                raise ValueError("the record has images but the model is text-only")
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append({**msg, "content": content})
    return out


def render(bundle, messages: list[dict], add_generation_prompt: bool = True) -> tuple[str, list]:
    """(prompt text, PIL images) for one conversation under the model's chat template."""
    if bundle.is_vlm:
        text = bundle.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt)
        return text, [media.open_image(ref) for ref in image_refs(messages)]
    text = bundle.tokenizer.apply_chat_template(
        flatten_text(messages), tokenize=False, add_generation_prompt=add_generation_prompt)
    return text, []


def encode(bundle, prompts: list[tuple[str, list]], padding_side: str = "left") -> dict:
    """Tokenise rendered prompts into one padded batch of tensors on the model's device."""
    texts = [t for t, _ in prompts]
    images = [img for _, imgs in prompts for img in imgs]
    tok = bundle.tokenizer
    old, tok.padding_side = tok.padding_side, padding_side
    try:
        if bundle.is_vlm:
            batch = bundle.processor(text=texts, images=images or None, return_tensors="pt",
                                     padding=True)
        else:
            batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tok.padding_side = old
    return {k: v.to(bundle.device) for k, v in batch.items()}
