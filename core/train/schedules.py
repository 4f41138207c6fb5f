"""Learning-rate schedules: the multiplier of the peak learning rate at each optimizer step.

Every schedule warms up linearly from 0 over `warmup` steps (lr(s) = s / warmup), then decays over
the remaining `total - warmup` steps, with progress p = (s - warmup) / (total - warmup) in [0, 1]:

    constant        1
    linear          1 - p                         (to 0, as TRL and HF Trainer)
    cosine          0.5 (1 + cos(pi p))           (to 0)
    cosine_min      m + (1 - m) 0.5 (1 + cos(pi p)), m = min_lr_ratio
                    (Fira and GaLore decay to 10% of the peak: min_lr_ratio = 0.1)

A new schedule is one function and one SCHEDULES entry. Hugging Face's names
constant_with_warmup and cosine_with_min_lr are accepted as the same curves.
"""
from __future__ import annotations

import math
from typing import Callable


def _progress(step: int, warmup: int, total: int) -> float:
    return min(1.0, max(0.0, (step - warmup) / max(1, total - warmup)))


def constant(step: int, warmup: int, total: int, min_lr_ratio: float = 0.0) -> float:
    return 1.0


def linear(step: int, warmup: int, total: int, min_lr_ratio: float = 0.0) -> float:
    return 1.0 - _progress(step, warmup, total)


def cosine(step: int, warmup: int, total: int, min_lr_ratio: float = 0.0) -> float:
    return 0.5 * (1.0 + math.cos(math.pi * _progress(step, warmup, total)))


def cosine_min(step: int, warmup: int, total: int, min_lr_ratio: float = 0.1) -> float:
    return min_lr_ratio + (1.0 - min_lr_ratio) * cosine(step, warmup, total)


SCHEDULES: dict[str, Callable[..., float]] = {
    "constant": constant, "linear": linear, "cosine": cosine, "cosine_min": cosine_min,
    # Hugging Face's names for the same curves (every schedule here warms up first, so HF's
    # constant_with_warmup is `constant`; cosine_with_min_lr decays to min_lr_ratio x peak)
    "constant_with_warmup": constant, "cosine_with_min_lr": cosine_min}


def multiplier(name: str, warmup: int, total: int, min_lr_ratio: float = 0.1) -> Callable[[int], float]:
    """step -> lr multiplier, warmup included (for torch's LambdaLR)."""
    decay = SCHEDULES[name]

    def at(step: int) -> float:
        if step < warmup:
            return step / warmup
        return decay(step, warmup, total, min_lr_ratio)

    return at
