"""Hugging Face models: tiny offline builders, loading by path, chat prompts, batched generation.

    from thinkpipe.core.models import build_tiny, load, generate, Sampling, prompt_messages
    build_tiny("qwen2-vl", "models/tiny-vl")      # also llama, qwen2-audio, qwen2.5-omni
    bundle = load("models/tiny-vl")               # bundle.media_kinds: ("image",), ("audio",), ()
    out = generate(bundle, [prompt_messages(record)], Sampling(temperature=0), batch_size=8)

torch and transformers are imported on first use, so data tools can use chat.py cheaply.
"""
from .chat import encode, prompt_messages, question_messages, render

_LAZY = {"Completion": "generation", "Sampling": "generation", "generate": "generation",
         "generate_rendered": "generation", "VLM_TYPES": "loading", "ModelBundle": "loading",
         "load": "loading", "load_processor": "loading", "model_type": "loading",
         "ARCHS": "tiny", "TinySpec": "tiny", "build_tiny": "tiny"}

__all__ = ["encode", "prompt_messages", "question_messages", "render", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
