"""Loading any Hugging Face causal LM, Qwen-VL or Qwen audio model, tiny or real, by path.

    bundle = load("models/tiny-vl")               # Qwen2/2.5-VL: model + image-only processor
    bundle = load("models/tiny-llm", device="cpu") # causal LM: model + tokenizer
    bundle = load("models/tiny-audio")             # Qwen2-Audio / Qwen2.5-Omni: audio processor

The model type in config.json decides the family: Qwen2-VL/Qwen2.5-VL load through
AutoModelForImageTextToText with the image-only processor (processor.py); Qwen2-Audio through
Qwen2AudioForConditionalGeneration, and Qwen2.5-Omni as its thinker alone
(Qwen2_5OmniThinkerForConditionalGeneration from the full folder: text out, no talker or
vocoder loaded), both with a Qwen2AudioProcessor built from the folder's tokenizer, Whisper
feature extractor and chat template (Omni's own processor needs torchvision for video, and
renders audio the same way: <|audio_bos|><|AUDIO|><|audio_eos|>, one <|AUDIO|> per encoder
frame; Omni takes audio only here, its images and video would need its own vision
placeholders and that video processor); anything else through AutoModelForCausalLM with its
tokenizer. A folder is read locally; a name that is not a folder is tried as a hub id, which
fails cleanly when the network is off.
"""
from __future__ import annotations

import difflib
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import Any

from ..errors import InputError

VLM_TYPES = {"qwen2_vl", "qwen2_5_vl"}
AUDIO_TYPES = {"qwen2_audio", "qwen2_5_omni"}


@dataclass
class ModelBundle:
    """A loaded model and what turns records into its inputs."""

    model: Any
    tokenizer: Any           # always the text tokenizer
    processor: Any | None    # image-only processor (VLMs), audio processor (audio), else None
    path: str
    model_type: str

    @property
    def is_audio(self) -> bool:
        return self.processor is not None and self.model_type in AUDIO_TYPES

    @property
    def is_vlm(self) -> bool:
        return self.processor is not None and not self.is_audio

    @property
    def media_kinds(self) -> tuple[str, ...]:
        """The part kinds (DESIGN.md) this model can take besides text."""
        return ("audio",) if self.is_audio else ("image",) if self.is_vlm else ()

    @property
    def device(self):
        return next(self.model.parameters()).device


def quiet_transformers() -> None:
    """No progress bars or info chatter from transformers unless stderr is a terminal."""
    from transformers.utils import logging as hf_logging

    from ..train.dist import quiet_deepspeed
    quiet_deepspeed()
    if not sys.stderr.isatty():
        hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+|[A-Za-z0-9][\w.-]*")


def _offline() -> bool:
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def looks_local(path: str) -> bool:
    """A name that can only be a path: ./x, ../x, /x, ~/x, a/b/c, a/b whose first part is a
    folder here (models/tiny-llm), or one word close to a folder here (a typo). Only other
    names are looked up on the hub."""
    if path.startswith((".", "/", "~")) or path.count("/") > 1 or not HUB_ID.fullmatch(path):
        return True
    if "/" in path:
        return os.path.isdir(path.split("/", 1)[0])
    return bool(difflib.get_close_matches(path, [d for d in os.listdir(".") if os.path.isdir(d)]))


def _missing(path: str) -> InputError:
    parent = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
    near = difflib.get_close_matches(os.path.basename(path.rstrip("/")),
                                     os.listdir(parent) if os.path.isdir(parent) else [], n=3)
    near = [os.path.join(os.path.dirname(path.rstrip("/")), n) for n in near]
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    return InputError(f"{path}: no such model folder{hint}")


def model_type(path: str) -> str:
    """config.json's model_type, from the folder, or from the hub for a name that is no folder
    (never for a name that looks like a path, nor with HF_HUB_OFFLINE=1)."""
    if not os.path.isdir(path):
        if os.path.exists(path):
            raise InputError(f"{path}: a file, not a model folder")
        if looks_local(path) or _offline():
            raise _missing(path)
        from transformers import AutoConfig
        try:
            return AutoConfig.from_pretrained(path).model_type
        except (OSError, ValueError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise InputError(f"{path}: no such model folder, and not loadable as a hub id "
                             f"({first})") from None
    try:
        with open(os.path.join(path, "config.json")) as f:
            return json.load(f).get("model_type", "")
    except FileNotFoundError:
        raise InputError(f"{path}: not a model folder (no config.json)") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}/config.json: unreadable: {e}") from None


def resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def resolve_dtype(dtype: str | None, device: str):
    import torch

    if dtype in (None, "auto"):
        if device.startswith("cuda") and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        return torch.float32
    return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]


def load_processor(path: str):
    """(tokenizer, processor-or-None) for the folder at `path`."""
    from transformers import AutoTokenizer

    kind = model_type(path)
    if kind in AUDIO_TYPES:
        return _audio_processor(path)
    tokenizer = AutoTokenizer.from_pretrained(path)
    if kind not in VLM_TYPES:
        return tokenizer, None
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    from .processor import ImageOnlyQwenVLProcessor, register
    register()
    images = Qwen2VLImageProcessorPil.from_pretrained(path)
    template = tokenizer.chat_template or _template_file(path)
    processor = ImageOnlyQwenVLProcessor(image_processor=images, tokenizer=tokenizer,
                                         chat_template=template)
    return tokenizer, processor


def _audio_processor(path: str):
    """(tokenizer, Qwen2AudioProcessor) from a Qwen2-Audio or Qwen2.5-Omni folder's parts."""
    from transformers import AutoTokenizer, Qwen2AudioProcessor, WhisperFeatureExtractor

    tokenizer = AutoTokenizer.from_pretrained(path)
    features = WhisperFeatureExtractor.from_pretrained(path)
    template = tokenizer.chat_template or _template_file(path)
    if template is None:
        raise InputError(f"{path}: no chat template (tokenizer_config.json or "
                         "chat_template.jinja) to place the audio in")
    tokenizer.chat_template = template
    missing = [t for t in ("<|AUDIO|>", "<|audio_bos|>", "<|audio_eos|>")
               if t not in tokenizer.get_vocab()]
    if missing:
        raise InputError(f"{path}: the tokenizer lacks the audio tokens {', '.join(missing)}")
    return tokenizer, Qwen2AudioProcessor(feature_extractor=features, tokenizer=tokenizer,
                                          chat_template=template)


def _load_model(path: str, kind: str, torch_dtype):
    """The model class for a family (module docstring), loaded with its weights."""
    if kind == "qwen2_5_omni":
        from transformers import AutoConfig, Qwen2_5OmniThinkerForConditionalGeneration

        thinker = AutoConfig.from_pretrained(path).thinker_config
        return Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            path, config=thinker, dtype=torch_dtype)
    if kind == "qwen2_audio":
        from transformers import Qwen2AudioForConditionalGeneration as Auto
    elif kind in VLM_TYPES:
        from transformers import AutoModelForImageTextToText as Auto
    else:
        from transformers import AutoModelForCausalLM as Auto
    return Auto.from_pretrained(path, dtype=torch_dtype)


def _template_file(path: str) -> str | None:
    if not os.path.isdir(path):
        return None
    for name in ("chat_template.jinja", "chat_template.json"):
        p = os.path.join(path, name)
        if os.path.exists(p):
            text = open(p).read()
            return json.loads(text)["chat_template"] if name.endswith(".json") else text
    return None


def load(path: str, device: str | None = None, dtype: str | None = None,
         train: bool = False) -> ModelBundle:
    """Load model and processor from a folder (or a hub id, when the network allows)."""
    quiet_transformers()
    kind = model_type(path)
    device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, device)
    tokenizer, processor = load_processor(path)
    model = _load_model(path, kind, torch_dtype).to(device)
    model.train(train)
    return ModelBundle(model, tokenizer, processor, path, kind)


def fingerprint(path: str) -> str:
    """A short hash naming a model folder's exact contents: config.json, generation_config.json,
    the tokenizer and chat template files, and each weight file's name, size, header and first
    and last MiB (not every byte: a 15 GB model is fingerprinted in milliseconds). A hub id or
    URL is fingerprinted by its name."""
    import hashlib

    h = hashlib.sha256()
    if not os.path.isdir(path):
        h.update(path.encode())
        return "name-" + h.hexdigest()[:16]
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if not os.path.isfile(full):
            continue
        size = os.path.getsize(full)
        h.update(f"{name}\0{size}\0".encode())
        with open(full, "rb") as f:
            if name.endswith((".json", ".jinja", ".txt", ".model")) and size < 64 << 20:
                h.update(f.read())
            elif name.endswith((".safetensors", ".bin", ".pt", ".gguf")):
                h.update(f.read(1 << 20))
                f.seek(max(0, size - (1 << 20)))
                h.update(f.read(1 << 20))
    return h.hexdigest()[:16]
