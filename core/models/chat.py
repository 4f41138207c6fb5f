"""From records to prompts: the conversation a model sees, and its images.

A record either carries `messages` (chat turns, content a string or typed parts) or a
`question` (with optional `options` and `images`), from which a single user turn is built:
images first, then the question, then the lettered options — the layout Qwen-VL and the VILASR
prompts use. `prompt_messages` drops trailing assistant turns, so a record that already holds an
answer can be re-asked.
"""
from __future__ import annotations

import re
from typing import Any

from ..records import media

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def options_text(options: list) -> str:
    return "\n".join(f"{LETTERS[i]}. {opt}" for i, opt in enumerate(options))


def media_list(value) -> list:
    """A media field as a list: one reference (a path, or {path, bytes}) is a list of one."""
    if isinstance(value, (str, dict)):
        return [value]
    return [v for v in value if v is not None] if isinstance(value, list) else []


def question_messages(record: dict, system: str | None = None) -> list[dict]:
    """A user turn from question/options/images (and an optional system turn). TRL's `prompt`
    stands in for `question`: a string, or a conversation (a list of messages)."""
    prompt = record.get("prompt")
    if not isinstance(record.get("question"), str) and isinstance(prompt, list):
        messages = record_messages({**record, "messages": prompt})
        head = [{"role": "system", "content": system}] if system and not (
            messages and messages[0].get("role") == "system") else []
        return head + messages
    text = record.get("question") if isinstance(record.get("question"), str) else prompt
    if not isinstance(text, str):
        raise ValueError("record has neither `messages` nor a string `question` (or `prompt`)")
    if record.get("options"):
        text += "\n" + options_text(record["options"])
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": interleave(text, record)}]


MEDIA_PLACEHOLDER = re.compile(r"\[(img|image|audio|video)(\d+)\]")
FIELD = {"img": "images", "image": "images", "audio": "audios", "video": "videos"}


def interleave(text: str, record: dict) -> list[dict]:
    """The parts of a user turn: `[img1]`, `[audio2]`, `[video1]` placeholders in `text`
    (AV-Odyssey's layout) become the first image, second audio, first video of the record, where
    they stand; media no placeholder names come first (images, audios, videos), then the text.
    ValueError for a placeholder past the end of its list."""
    lists = {f: media_list(record.get(f)) for f in ("images", "audios", "videos")}
    used: set[tuple[str, int]] = set()
    body: list[dict] = []
    end = 0
    for m in MEDIA_PLACEHOLDER.finditer(text):
        field, k = FIELD[m.group(1)], int(m.group(2))
        if not 1 <= k <= len(lists[field]):
            raise ValueError(f"the question names {m.group(0)} but the record has "
                             f"{len(lists[field])} `{field}`")
        if text[end:m.start()]:
            body.append({"type": "text", "text": text[end:m.start()]})
        kind = field[:-1]
        body.append({"type": kind, kind: lists[field][k - 1]})
        used.add((field, k))
        end = m.end()
    if text[end:] or not body:
        body.append({"type": "text", "text": text[end:]})
    head = [{"type": f[:-1], f[:-1]: ref} for f, refs in lists.items()
            for k, ref in enumerate(refs, 1) if (f, k) not in used]
    return head + body


IMAGE_PLACEHOLDER = "<image>"


def _is_slot(part) -> bool:
    return isinstance(part, dict) and part.get("type") == "image" and part.get("image") is None


def _split_placeholders(text: str, refs: list) -> list[dict]:
    pieces = text.split(IMAGE_PLACEHOLDER)
    parts = []
    for i, piece in enumerate(pieces):
        if piece:
            parts.append({"type": "text", "text": piece})
        if i < len(pieces) - 1:
            parts.append({"type": "image", "image": refs.pop(0)})
    return parts


def _slots(messages: list[dict]) -> tuple[int, int]:
    """(image slots: `<image>` in text and image parts without a reference, referenced parts)."""
    slots = referenced = 0
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        for part in content if isinstance(content, list) else [content]:
            if isinstance(part, str):
                slots += part.count(IMAGE_PLACEHOLDER)
            elif isinstance(part, dict) and part.get("type") == "text":
                slots += str(part.get("text", "")).count(IMAGE_PLACEHOLDER)
            elif _is_slot(part):
                slots += 1
            elif isinstance(part, dict) and part.get("type") == "image":
                referenced += 1
    return slots, referenced


def record_messages(record: dict) -> list[dict] | None:
    """`messages` with every image a part that holds its reference. Two layouts keep images in a
    top-level `images` list instead: LLaMA-Factory's sharegpt (`<image>` in the text) and TRL's
    (`{"type": "image"}` parts without a reference); their slots are filled in order, and a TRL
    conversation with no slot gets the images at the start of its first user turn (TRL's rule).
    ValueError when the slots and the images do not pair up."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return None
    images = media_list(record.get("images"))
    slots, referenced = _slots(messages)
    if not images:
        if any(_is_slot(p) for m in messages if isinstance(m, dict)
               for p in (m.get("content") if isinstance(m.get("content"), list) else [])):
            raise ValueError("image parts without a reference, and no top-level `images`")
        return messages
    if slots == 0:
        if referenced:
            return messages                      # thinkpipe's layout: the parts hold them
        first = next((i for i, m in enumerate(messages)
                      if isinstance(m, dict) and m.get("role") == "user"), None)
        if first is None:
            raise ValueError(f"{len(images)} `images` but no user turn to show them in")
        messages = [dict(m) for m in messages]
        content = messages[first].get("content")
        messages[first]["content"] = [{"type": "image"} for _ in images] + (
            content if isinstance(content, list) else [{"type": "text", "text": content or ""}])
    elif slots != len(images):
        raise ValueError(f"{slots} image placeholder(s) (`<image>` or image parts) for "
                         f"{len(images)} `images`")
    refs, out = list(images), []
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, str) and IMAGE_PLACEHOLDER in content:
            content = _split_placeholders(content, refs)
        elif isinstance(content, list):
            parts = []
            for p in content:
                if isinstance(p, dict) and p.get("type") == "text" and \
                        IMAGE_PLACEHOLDER in str(p.get("text", "")):
                    parts += _split_placeholders(str(p["text"]), refs)
                elif _is_slot(p):
                    parts.append({**p, "image": refs.pop(0)})
                else:
                    parts.append(p)
            content = parts
        out.append({**m, "content": content} if isinstance(m, dict) else m)
    return out


def prompt_messages(record: dict, system: str | None = None) -> list[dict]:
    """The turns to prompt with: `messages` up to the last non-assistant turn, else the question."""
    messages = record_messages(record)
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


def part_refs(messages: list[dict], kind: str) -> list[Any]:
    """Media references of `kind` parts ("image", "audio"), in the order the template renders them."""
    return [p.get(kind) for msg in messages if isinstance(msg.get("content"), list)
            for p in msg["content"] if isinstance(p, dict) and p.get("type") == kind]


def _check_kinds(bundle, messages: list[dict]) -> None:
    kinds = {p.get("type") for m in messages if isinstance(m.get("content"), list)
             for p in m["content"] if isinstance(p, dict) and p.get("type") in media.PART_KINDS}
    missing = sorted(kinds - set(bundle.media_kinds))
    if missing:
        takes = "takes " + " and ".join(k + "s" for k in bundle.media_kinds) + " only" \
            if bundle.media_kinds else "is text-only"
        raise ValueError(f"the record has {' and '.join(k + 's' for k in missing)} but the model "
                         f"({bundle.model_type}) {takes}")


def render(bundle, messages: list[dict], add_generation_prompt: bool = True) -> tuple[str, list]:
    """(prompt text, media) for one conversation under the model's chat template: the media are
    PIL images for a VLM, float32 mono waveforms at the feature extractor's rate for an audio
    model (audio.py: WAV only), none for a text model. ValueError when the conversation holds
    media the model cannot take (audio for a VLM, images for an audio model) or audio that is
    not WAV; OSError when a file cannot be read."""
    _check_kinds(bundle, messages)
    if bundle.is_vlm or bundle.is_audio:
        text = bundle.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=add_generation_prompt)
        if bundle.is_vlm:
            return text, [media.open_image(ref) for ref in image_refs(messages)]
        from .audio import load_audio
        rate = bundle.processor.feature_extractor.sampling_rate
        return text, [load_audio(ref, rate) for ref in part_refs(messages, "audio")]
    text = bundle.tokenizer.apply_chat_template(
        flatten_text(messages), tokenize=False, add_generation_prompt=add_generation_prompt)
    return text, []


def encode(bundle, prompts: list[tuple[str, list]], padding_side: str = "left") -> dict:
    """Tokenise rendered prompts into one padded batch of tensors on the model's device (for an
    audio model also input_features (B_audio, mels, frames) and feature_attention_mask)."""
    texts = [t for t, _ in prompts]
    items = [item for _, items in prompts for item in items]
    tok = bundle.tokenizer
    old, tok.padding_side = tok.padding_side, padding_side
    try:
        if bundle.is_vlm:
            batch = bundle.processor(text=texts, images=items or None, return_tensors="pt",
                                     padding=True)
        elif bundle.is_audio:
            rate = bundle.processor.feature_extractor.sampling_rate
            batch = bundle.processor(text=texts, audio=items or None, sampling_rate=rate,
                                     return_tensors="pt", padding=True)
        else:
            batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tok.padding_side = old
    return {k: v.to(bundle.device) for k, v in batch.items() if hasattr(v, "to")}
