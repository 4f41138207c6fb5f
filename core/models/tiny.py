"""Tiny random models for tests, demos and CI: real architectures, a few hundred thousand weights.

    build_tiny("qwen2-vl", "models/tiny-vl")   # Qwen2.5-VL: vision tower + text model + processor
    build_tiny("llama", "models/tiny-llm")     # LLaMA causal LM + tokenizer

Each is an ordinary Hugging Face folder (config.json, model.safetensors, tokenizer, chat
template, processor) loaded by the same code as a real checkpoint (loading.py). Weights are
random (seeded); initializer_range is larger than a real model's 0.02 so next-token
distributions are peaked enough for greedy decoding to be stable under float noise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .tokenizer import SPECIAL_TOKENS, train_tokenizer

ARCHS = ("qwen2-vl", "llama")


@dataclass(frozen=True)
class TinySpec:
    """Sizes of a tiny model (defaults give ~300k parameters)."""

    vocab_size: int = 1024
    hidden_size: int = 64
    intermediate_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    vision_hidden_size: int = 32
    vision_layers: int = 2
    initializer_range: float = 0.2
    seed: int = 0


def _token_ids(tok) -> dict:
    ids = {t: tok.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    return {"pad": ids["<|endoftext|>"], "eos": ids["<|im_end|>"], "ids": ids}


def _qwen2_vl(spec: TinySpec, tok):
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    t = _token_ids(tok)
    head_dim = spec.hidden_size // spec.num_heads
    half = head_dim // 2
    mrope = [half - 2 * (half // 3), half // 3, half // 3]  # temporal, height, width; sums to half
    text = dict(vocab_size=len(tok), hidden_size=spec.hidden_size,
                intermediate_size=spec.intermediate_size, num_hidden_layers=spec.num_layers,
                num_attention_heads=spec.num_heads, num_key_value_heads=spec.num_kv_heads,
                max_position_embeddings=4096, initializer_range=spec.initializer_range,
                rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                 "mrope_section": mrope},
                bos_token_id=None, eos_token_id=t["eos"], pad_token_id=t["pad"],
                tie_word_embeddings=True)
    vision = dict(depth=spec.vision_layers, hidden_size=spec.vision_hidden_size,
                  intermediate_size=2 * spec.vision_hidden_size, num_heads=2,
                  out_hidden_size=spec.hidden_size, fullatt_block_indexes=[spec.vision_layers - 1],
                  window_size=112, patch_size=14, spatial_merge_size=2, temporal_patch_size=2,
                  initializer_range=spec.initializer_range)
    config = Qwen2_5_VLConfig(
        text_config=text, vision_config=vision,
        image_token_id=t["ids"]["<|image_pad|>"], video_token_id=t["ids"]["<|video_pad|>"],
        vision_start_token_id=t["ids"]["<|vision_start|>"],
        vision_end_token_id=t["ids"]["<|vision_end|>"],
        bos_token_id=None, eos_token_id=t["eos"], pad_token_id=t["pad"], tie_word_embeddings=True)
    return Qwen2_5_VLForConditionalGeneration(config)


def _llama(spec: TinySpec, tok):
    from transformers import LlamaConfig, LlamaForCausalLM

    t = _token_ids(tok)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=spec.hidden_size,
                         intermediate_size=spec.intermediate_size,
                         num_hidden_layers=spec.num_layers, num_attention_heads=spec.num_heads,
                         num_key_value_heads=spec.num_kv_heads, max_position_embeddings=4096,
                         initializer_range=spec.initializer_range, bos_token_id=None,
                         eos_token_id=t["eos"], pad_token_id=t["pad"], tie_word_embeddings=False)
    return LlamaForCausalLM(config)


def build_tiny(arch: str, output_dir: str, spec: TinySpec = TinySpec()) -> dict:
    """Write a tiny model folder; returns {path, arch, parameters, vocab_size}."""
    import torch
    from transformers import GenerationConfig

    from .loading import quiet_transformers
    quiet_transformers()

    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
    tok = train_tokenizer(spec.vocab_size, seed=spec.seed)
    torch.manual_seed(spec.seed)
    model = (_qwen2_vl if arch == "qwen2-vl" else _llama)(spec, tok).eval()
    ids = _token_ids(tok)
    model.generation_config = GenerationConfig(
        eos_token_id=[ids["eos"], ids["pad"]], pad_token_id=ids["pad"], do_sample=False)
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir)
    if arch == "qwen2-vl":
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil)

        from .processor import ImageOnlyQwenVLProcessor
        # few pixels: a 616 px maze becomes at most 64 patches of 28 px (16 visual tokens)
        images = Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 64)
        ImageOnlyQwenVLProcessor(image_processor=images, tokenizer=tok,
                                 chat_template=tok.chat_template).save_pretrained(output_dir)
    else:
        tok.save_pretrained(output_dir)
    return {"path": output_dir, "arch": arch,
            "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": len(tok)}
