"""Samplers: who generates the trajectories the policy is trained on.

The trainer only needs `sampler.generate(prompts, seeds) -> list[Trajectory]` and
`sampler.sync()` after each optimizer step (a no-op when the sampler uses the policy's own
weights). HFSampler, the embedded default, decodes with the policy module itself through
core/drawing/rollout.py (batched, per-sample seeds, the drawing loop with --tools draw; the
decoder the rollout config names: core/models/decoding.py's loop, generate or static); a
sampler that serves the weights elsewhere (vLLM) implements the same two methods and copies the
weights in sync(). (The optimiser side is core/train's "engine": DDP or DeepSpeed.)
"""
from __future__ import annotations

from typing import Protocol

import torch

from thinkpipe.core.drawing.rollout import RolloutConfig, Trajectory, rollout


class Sampler(Protocol):
    def generate(self, prompts: list[list[dict]], seeds: list[int]) -> list[Trajectory]: ...

    def sync(self) -> None: ...


class HFSampler:
    """Generation with the policy being trained, in this process (config.decoder decodes)."""

    def __init__(self, bundle, module, config: RolloutConfig):
        self.bundle, self.module, self.config = bundle, module, config

    def generate(self, prompts: list[list[dict]], seeds: list[int]) -> list[Trajectory]:
        was_training = self.module.training
        self.module.eval()
        view = _Bundle(self.bundle, self.module)
        try:
            with torch.no_grad():
                return rollout(view, prompts, self.config, seeds)
        finally:
            self.module.train(was_training)

    def sync(self) -> None:
        pass


class _Bundle:
    """A ModelBundle whose model is the module being trained (DDP/DeepSpeed unwrap it)."""

    def __init__(self, bundle, module):
        self._bundle, self.model = bundle, module

    def __getattr__(self, name):
        return getattr(self._bundle, name)

    @property
    def is_vlm(self) -> bool:
        return self._bundle.is_vlm

    @property
    def device(self):
        return next(self.model.parameters()).device
