"""Hugging Face models: tiny offline builders, loading by path, chat prompts, batched generation.

    from thinkpipe.core.models import build_tiny, load, generate, Sampling, prompt_messages
    build_tiny("qwen2-vl", "models/tiny-vl")
    bundle = load("models/tiny-vl")
    out = generate(bundle, [prompt_messages(record)], Sampling(temperature=0), batch_size=8)

Importing this package imports torch (generation); transformers is imported where it is used.
"""
from .chat import encode, prompt_messages, question_messages, render
from .generation import Completion, Sampling, generate, generate_rendered
from .loading import VLM_TYPES, ModelBundle, load, load_processor, model_type
from .tiny import ARCHS, TinySpec, build_tiny

__all__ = ["encode", "prompt_messages", "question_messages", "render", "Completion", "Sampling",
           "generate", "generate_rendered", "VLM_TYPES", "ModelBundle", "load", "load_processor",
           "model_type", "ARCHS", "TinySpec", "build_tiny"]
