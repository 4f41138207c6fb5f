"""Commands announced in DESIGN.md whose tools have not landed yet.

Each has its final name and a --help that says what it will do; running it exits 1 with
"not implemented yet". A tool replaces its entry here with a module of its own when it lands.
"""
from __future__ import annotations

import sys
from typing import Callable

PLANNED = {
    "synth-draw": "Generate synthetic spatial-reasoning tasks (maze, relations, geometry) with "
                  "draw-to-reason traces that are replayed and verified before they are written: "
                  "cold-start data for VILASR.",
    "reject-sample": "Sample trajectories from a model (or take the responses records already "
                     "carry), score them, and keep those that are correct, well formatted and "
                     "reflective: VILASR's reflective rejection sampling.",
    "sft": "Supervised fine-tuning of a causal LM or Qwen-VL model on chat records, with the loss "
           "on assistant turns only; single process, torchrun or DeepSpeed ZeRO 0-3.",
    "grpo": "Group-relative policy optimisation (GRPO, DAPO, Dr. GRPO, Trust-GRPO, T-GRPO) with "
            "multi-turn drawing tools; metrics as JSONL on stdout, rollouts as records.",
    "fira-pretrain": "Pretrain a LLaMA-style model with the Fira optimizer (full-rank training "
                     "under a low-rank optimizer state), or GaLore/AdamW as baselines.",
    "eval": "Score predictions against gold answers with rule-first verifiers: every item gets a "
            "score, a status and what was extracted; a summary with 95% confidence intervals.",
    "init-model": "Write a tiny random model (qwen2-vl or llama) with an offline tokenizer and "
                  "processor as an ordinary Hugging Face folder, for tests and demos.",
}


def make(name: str) -> Callable[[], None]:
    """A command that says it is not implemented yet and exits 1."""

    def stub() -> None:
        print(f"{name}: not implemented yet (see README.md for what has landed)", file=sys.stderr)
        raise SystemExit(1)

    stub.__doc__ = PLANNED[name] + "\n\nNot implemented yet."
    stub.__name__ = name.replace("-", "_")
    return stub
