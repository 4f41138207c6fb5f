"""Three ways to apply a gradient step, one interface: plain (one process), DDP, DeepSpeed.

    engine = make_engine(model, optimizer, scheduler, cfg, info)
    out = engine.model(**batch)            # forward (through DDP / the DeepSpeed engine)
    engine.backward(loss, last_micro)      # loss already normalised for the global batch
    grad_norm = engine.step()              # at the end of an accumulation cycle
    engine.save(dir) / engine.load(dir)    # model, optimizer and scheduler state
    engine.full_state_dict()               # the whole model on rank 0 (ZeRO-3 gathers it)

Gradient averaging: DDP and DeepSpeed average gradients over ranks; DeepSpeed also divides the
loss by the accumulation steps inside backward(). The training loop hands every engine the same
quantity (its share of the global token-mean loss, times world size) and each engine undoes what
its backend would add, so all three compute the same update.
"""
from __future__ import annotations

import contextlib
import json
import os
import sys

import torch

from ..errors import UsageError
from .config import TrainConfig
from .dist import DistInfo


@contextlib.contextmanager
def stdout_to_stderr():
    """Send fd 1 and sys.stdout to stderr for a while (compilers and prints below Python too)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class PlainEngine:
    """One process: torch optimizer, gradient clipping, scheduler."""

    def __init__(self, model, optimizer, scheduler, cfg: TrainConfig, info: DistInfo):
        self.module = self.model = model
        self.optimizer, self.scheduler, self.cfg, self.info = optimizer, scheduler, cfg, info

    def backward(self, loss: torch.Tensor, last_micro: bool) -> None:
        loss.backward()

    def step(self) -> float:
        params = [p for p in self.module.parameters() if p.grad is not None]
        if self.cfg.max_grad_norm > 0:
            norm = torch.nn.utils.clip_grad_norm_(params, self.cfg.max_grad_norm)
        else:
            norm = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params]))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def save(self, path: str) -> None:
        if self.info.is_main:
            torch.save({"model": self.module.state_dict(), "optimizer": self.optimizer.state_dict(),
                        "scheduler": self.scheduler.state_dict()},
                       os.path.join(path, "engine.pt"))

    def load(self, path: str) -> None:
        state = torch.load(os.path.join(path, "engine.pt"), map_location=self.info.device,
                           weights_only=False)
        self.module.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def full_state_dict(self) -> dict | None:
        return self.module.state_dict() if self.info.is_main else None


class DDPEngine(PlainEngine):
    """torchrun without DeepSpeed: DistributedDataParallel, gradients synced on the last micro."""

    def __init__(self, model, optimizer, scheduler, cfg: TrainConfig, info: DistInfo):
        super().__init__(model, optimizer, scheduler, cfg, info)
        ids = [info.local_rank] if info.device.type == "cuda" else None
        self.model = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def backward(self, loss: torch.Tensor, last_micro: bool) -> None:
        with contextlib.nullcontext() if last_micro else self.model.no_sync():
            loss.backward()


class DeepSpeedEngine:
    """deepspeed.initialize with a client optimizer and scheduler; ZeRO 0-3."""

    def __init__(self, model, optimizer, scheduler, cfg: TrainConfig, info: DistInfo,
                 ds_config: dict):
        import deepspeed

        from .dist import backend
        self.cfg, self.info, self.module = cfg, info, model
        with stdout_to_stderr():  # DeepSpeed prints op builds on stdout, which carries data
            deepspeed.init_distributed(dist_backend=backend())  # wraps dist.setup's group
            self.model, self.optimizer, _, self.scheduler = deepspeed.initialize(
                model=model, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config)
        self.stage = ds_config.get("zero_optimization", {}).get("stage", 0)

    def backward(self, loss: torch.Tensor, last_micro: bool) -> None:
        # DeepSpeed divides by the accumulation steps itself; our loss is already normalised.
        self.model.backward(loss * self.cfg.gradient_accumulation_steps)
        self.model.step()  # steps the optimizer only at the accumulation boundary

    def step(self) -> float:
        norm = self.model.get_global_grad_norm()
        return float(norm) if norm is not None else float("nan")

    def lr(self) -> float:
        return self.model.get_lr()[0]

    def save(self, path: str) -> None:
        self.model.save_checkpoint(path, tag="deepspeed")

    def load(self, path: str) -> None:
        load_path, _ = self.model.load_checkpoint(path, tag="deepspeed",
                                                  load_optimizer_states=True,
                                                  load_lr_scheduler_states=True)
        if load_path is None:
            raise UsageError(f"{path}: no DeepSpeed state to resume from")

    def full_state_dict(self) -> dict | None:
        if self.stage == 3:
            return self.model._zero3_consolidated_16bit_state_dict()  # gathered on rank 0
        return self.module.state_dict() if self.info.is_main else None


def deepspeed_config(cfg: TrainConfig, world_size: int) -> dict:
    """The DeepSpeed config: --deepspeed FILE with its "auto" values filled in, or one for --zero."""
    ours = {
        "train_micro_batch_size_per_gpu": cfg.per_device_train_batch_size,
        "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
        "train_batch_size": cfg.per_device_train_batch_size * cfg.gradient_accumulation_steps
        * world_size,
        "gradient_clipping": cfg.max_grad_norm,
    }
    if cfg.deepspeed:
        try:
            with open(cfg.deepspeed) as f:
                ds = json.load(f)
        except (OSError, ValueError) as e:
            raise UsageError(f"--deepspeed {cfg.deepspeed}: {e}") from None
    else:
        ds = {"zero_optimization": {"stage": cfg.zero or 0}}
    for key, value in ours.items():
        if ds.get(key, "auto") == "auto":
            ds[key] = value
        elif ds[key] != value:
            raise UsageError(f"--deepspeed {cfg.deepspeed}: {key} is {ds[key]} but the command "
                             f"line gives {value}; set it to \"auto\" or make them agree")
    zero = ds.setdefault("zero_optimization", {})
    if cfg.zero is not None:
        zero["stage"] = cfg.zero
    if zero.get("stage", 0) == 3:
        zero.setdefault("stage3_gather_16bit_weights_on_model_save", True)
    ds.setdefault("bf16", {"enabled": cfg.bf16})
    ds.setdefault("steps_per_print", 10**9)
    ds.setdefault("wall_clock_breakdown", False)
    ds.setdefault("zero_allow_untested_optimizer", True)   # our optimizer is a torch one
    ds.setdefault("zero_force_ds_cpu_optimizer", False)
    return ds


def make_engine(model, optimizer, scheduler, cfg: TrainConfig, info: DistInfo):
    if cfg.uses_deepspeed:
        return DeepSpeedEngine(model, optimizer, scheduler, cfg, info,
                               deepspeed_config(cfg, info.world_size))
    if info.world_size > 1:
        return DDPEngine(model, optimizer, scheduler, cfg, info)
    return PlainEngine(model, optimizer, scheduler, cfg, info)
