"""Process-group setup shared by single-process, torchrun and deepspeed-launcher runs.

Launchers describe the job in the environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT); the deepspeed launcher also passes `--local_rank N`, which the CLI hands here.
DeepSpeed wants all five variables even for one process, so they are filled in when absent
(a free port on 127.0.0.1). CPU runs use gloo, GPU runs nccl.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def quiet_deepspeed() -> None:
    """Tell DeepSpeed it is on the CPU when there is no GPU, instead of its warning at import
    (transformers imports deepspeed when it saves a model)."""
    if "DS_ACCELERATOR" not in os.environ and not torch.cuda.is_available():
        os.environ["DS_ACCELERATOR"] = "cpu"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fill_env(local_rank: int | None = None) -> None:
    """Single-process defaults for the variables launchers set (never overrides a launcher)."""
    if local_rank is not None and "LOCAL_RANK" not in os.environ:
        os.environ["LOCAL_RANK"] = str(local_rank)
    os.environ.setdefault("RANK", os.environ.get("LOCAL_RANK", "0"))
    os.environ.setdefault("LOCAL_RANK", "0")
    os.environ.setdefault("WORLD_SIZE", "1")
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", str(free_port()))


def backend() -> str:
    return "nccl" if torch.cuda.is_available() else "gloo"


def setup(local_rank: int | None = None, need_group: bool = False) -> DistInfo:
    """Read the launcher's environment; start the process group when there are several ranks
    (or when `need_group`, as DeepSpeed does even for one)."""
    quiet_deepspeed()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if need_group or world > 1:
        fill_env(local_rank)
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if (need_group or world > 1) and not dist.is_initialized():
        dist.init_process_group(backend(), device_id=device if device.type == "cuda" else None)
    return DistInfo(rank, world, local, device)


def all_reduce_sum(value: float | int, device: torch.device) -> float:
    """Sum a number over ranks (returns it unchanged when there is no process group)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.item()


def all_reduce_max(value: float | int, device: torch.device) -> float:
    """The largest value over ranks (unchanged without a process group)."""
    if not dist.is_initialized() or dist.get_world_size() == 1:
        return value
    t = torch.tensor([float(value)], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.item()


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
