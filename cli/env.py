"""thinkpipe env: the versions and devices a run depends on (paste it into bug reports)."""
from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Annotated

import typer

from .runner import guard

EXAMPLES = """\
thinkpipe env
thinkpipe env --json > env.json
"""

PACKAGES = ("thinkpipe", "torch", "transformers", "deepspeed", "accelerate", "datasets",
            "tokenizers", "pyarrow", "orjson", "typer", "numpy")


def collect() -> dict:
    """Versions (read from package metadata, so deepspeed is not imported) and devices."""
    info: dict = {"python": platform.python_version(), "platform": platform.platform(),
                  "cpus": os.cpu_count()}
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    import torch
    info["cuda"] = torch.version.cuda
    info["cuda_available"] = torch.cuda.is_available()
    info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    info["torch_threads"] = torch.get_num_threads()
    return info


def env(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print the versions of Python, torch, transformers, DeepSpeed and friends, and the devices."""
    with guard("env"):
        info = collect()
        if as_json:
            from thinkpipe.core.records.jsonl import dumps
            sys.stdout.buffer.write(dumps(info))
            return
        width = max(len(k) for k in info)
        for key, value in info.items():
            if isinstance(value, list):
                value = ", ".join(value) or "none"
            if value is None:
                value = "none (CPU build)" if key == "cuda" else "not installed"
            print(f"{key:<{width}}  {value}")
