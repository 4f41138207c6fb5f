"""Tiny random models for tests, demos and CI: real architectures, a few hundred thousand weights.

    build_tiny("qwen2-vl", "models/tiny-vl")   # Qwen2.5-VL: vision tower + text model + processor
    build_tiny("llama", "models/tiny-llm")     # LLaMA causal LM + tokenizer
    build_tiny("qwen2-audio", "models/tiny-audio")  # Qwen2-Audio: Whisper-style encoder + text
    build_tiny("qwen2.5-omni", "models/tiny-omni")  # Qwen2.5-Omni thinker (no talker)

Each is an ordinary Hugging Face folder (config.json, model.safetensors, tokenizer, chat
template, processor) loaded by the same code as a real checkpoint (loading.py). Weights are
random (seeded); initializer_range is larger than a real model's 0.02 so next-token
distributions are peaked enough for greedy decoding to be stable under float noise.

The audio models keep the real feature front end (128 mel bins, 16 kHz, 30 s windows: the
encoder's 1500 positions) and shrink only widths and depths; their tokenizer adds Qwen's audio
tokens and a ChatML template that renders an audio part as Qwen2-Audio's
`Audio k: <|audio_bos|><|AUDIO|><|audio_eos|>` line. The Omni folder is a
Qwen2_5OmniForConditionalGeneration config with enable_audio_output off (thinker weights only,
no talker or vocoder) and a tiny vision tower the thinker insists on; it holds the tokenizer and
the Whisper feature extractor but no Qwen2_5OmniProcessor, whose video processor needs
torchvision (loading.py builds an audio processor from the parts).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from .tokenizer import SPECIAL_TOKENS, train_tokenizer

ARCHS = ("qwen2-vl", "llama", "qwen2-audio", "qwen2.5-omni")
AUDIO_ARCHS = ("qwen2-audio", "qwen2.5-omni")
AUDIO_TOKENS = ["<|audio_bos|>", "<|AUDIO|>", "<|audio_eos|>"]

# ChatML (tokenizer.py's) with audio parts rendered as Qwen2-Audio's official template does.
AUDIO_TEMPLATE = (
    "{% set audio_count = namespace(value=0) %}"
    "{% if messages and messages[0]['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'audio' %}{% set audio_count.value = audio_count.value + 1 %}"
    "Audio {{ audio_count.value }}: <|audio_bos|><|AUDIO|><|audio_eos|>\n"
    "{% elif 'text' in part %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


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
    audio_hidden_size: int = 32
    audio_layers: int = 2
    initializer_range: float = 0.2
    seed: int = 0
    corpus: tuple[str, ...] = ()      # extra tokenizer training text (train_tokenizer's texts)


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


def _audio_tokenizer(spec: TinySpec):
    """tokenizer.py's tokenizer plus Qwen's audio tokens, with the audio chat template."""
    tok = train_tokenizer(spec.vocab_size, seed=spec.seed)
    tok.add_tokens(AUDIO_TOKENS, special_tokens=True)
    tok.chat_template = AUDIO_TEMPLATE
    return tok


def _text(spec: TinySpec, tok, **extra) -> dict:
    t = _token_ids(tok)
    return dict(vocab_size=len(tok), hidden_size=spec.hidden_size,
                intermediate_size=spec.intermediate_size, num_hidden_layers=spec.num_layers,
                num_attention_heads=spec.num_heads, num_key_value_heads=spec.num_kv_heads,
                max_position_embeddings=4096, initializer_range=spec.initializer_range,
                bos_token_id=None, eos_token_id=t["eos"], pad_token_id=t["pad"], **extra)


def _audio_encoder(spec: TinySpec, **extra) -> dict:
    """Whisper-style encoder: real front end (128 mels, 1500 positions = 30 s), tiny widths."""
    return dict(d_model=spec.audio_hidden_size, encoder_layers=spec.audio_layers,
                encoder_attention_heads=2, encoder_ffn_dim=2 * spec.audio_hidden_size,
                num_mel_bins=128, max_source_positions=1500,
                initializer_range=spec.initializer_range, **extra)


def _qwen2_audio(spec: TinySpec, tok):
    from transformers import Qwen2AudioConfig, Qwen2AudioForConditionalGeneration

    t = _token_ids(tok)
    config = Qwen2AudioConfig(
        audio_config=_audio_encoder(spec, model_type="qwen2_audio_encoder"),
        text_config=_text(spec, tok, model_type="qwen2", tie_word_embeddings=False),
        audio_token_index=tok.convert_tokens_to_ids("<|AUDIO|>"),
        bos_token_id=None, eos_token_id=t["eos"], pad_token_id=t["pad"])
    return Qwen2AudioForConditionalGeneration(config)


def _qwen2_5_omni(spec: TinySpec, tok):
    from transformers import Qwen2_5OmniConfig, Qwen2_5OmniForConditionalGeneration

    ids = _token_ids(tok)["ids"]
    ids.update({k: tok.convert_tokens_to_ids(k) for k in AUDIO_TOKENS})
    half = spec.hidden_size // spec.num_heads // 2
    mrope = [half - 2 * (half // 3), half // 3, half // 3]
    text = _text(spec, tok, rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                             "mrope_section": mrope}, tie_word_embeddings=False)
    vision = dict(depth=1, hidden_size=spec.vision_hidden_size,
                  intermediate_size=2 * spec.vision_hidden_size, num_heads=2,
                  out_hidden_size=spec.hidden_size, fullatt_block_indexes=[0],
                  initializer_range=spec.initializer_range)
    thinker = dict(text_config=text, vision_config=vision,
                   audio_config=_audio_encoder(spec, n_window=100, output_dim=spec.hidden_size),
                   audio_token_index=ids["<|AUDIO|>"], image_token_index=ids["<|image_pad|>"],
                   video_token_index=ids["<|video_pad|>"],
                   audio_start_token_id=ids["<|audio_bos|>"],
                   audio_end_token_id=ids["<|audio_eos|>"],
                   vision_start_token_id=ids["<|vision_start|>"],
                   vision_end_token_id=ids["<|vision_end|>"],
                   user_token_id=tok.encode("user")[0],
                   initializer_range=spec.initializer_range)
    return Qwen2_5OmniForConditionalGeneration(
        Qwen2_5OmniConfig(thinker_config=thinker, enable_audio_output=False))


def _save_processor(arch: str, tok, output_dir: str) -> None:
    """The processor files beside the weights (the tokenizer alone for llama)."""
    if arch == "qwen2-vl":
        from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
            Qwen2VLImageProcessorPil)

        from .processor import ImageOnlyQwenVLProcessor
        # few pixels: a 616 px maze becomes at most 64 patches of 28 px (16 visual tokens)
        images = Qwen2VLImageProcessorPil(min_pixels=28 * 28 * 4, max_pixels=28 * 28 * 64)
        ImageOnlyQwenVLProcessor(image_processor=images, tokenizer=tok,
                                 chat_template=tok.chat_template).save_pretrained(output_dir)
    elif arch in AUDIO_ARCHS:
        from transformers import Qwen2AudioProcessor, WhisperFeatureExtractor

        features = WhisperFeatureExtractor(feature_size=128, sampling_rate=16000)
        if arch == "qwen2-audio":
            Qwen2AudioProcessor(feature_extractor=features, tokenizer=tok,
                                chat_template=tok.chat_template).save_pretrained(output_dir)
        else:
            features.save_pretrained(output_dir)
            tok.save_pretrained(output_dir)
    else:
        tok.save_pretrained(output_dir)


BUILDERS = {"qwen2-vl": _qwen2_vl, "llama": _llama, "qwen2-audio": _qwen2_audio,
            "qwen2.5-omni": _qwen2_5_omni}


def build_tiny(arch: str, output_dir: str, spec: TinySpec = TinySpec()) -> dict:
    """Write a tiny model folder; returns {path, arch, parameters, vocab_size}."""
    import torch
    from transformers import GenerationConfig

    from .loading import quiet_transformers
    quiet_transformers()

    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose one of {', '.join(ARCHS)}")
    tok = _audio_tokenizer(spec) if arch in AUDIO_ARCHS else \
        train_tokenizer(spec.vocab_size, seed=spec.seed, texts=spec.corpus)
    torch.manual_seed(spec.seed)
    model = BUILDERS[arch](spec, tok).eval()
    ids = _token_ids(tok)
    model.generation_config = GenerationConfig(
        eos_token_id=[ids["eos"], ids["pad"]], pad_token_id=ids["pad"], do_sample=False)
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir)
    _save_processor(arch, tok, output_dir)
    return {"path": output_dir, "arch": arch,
            "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": len(tok)}
