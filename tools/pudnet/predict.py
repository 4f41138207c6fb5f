"""One forward pass from a support set to a plain target network's state_dict, and the files
either side of it: the hypernetwork checkpoint (hyper.pt) and the predicted weights
(.safetensors, with the target's spec and class names in its metadata).

A predicted state_dict holds the generated conv kernels (and biases), PudNet's normalisation
affine parameters, the support set's normalisation statistics as running_mean/var, and the
cosine head's rows tau * p_c / |p_c| from the support prototypes: targets.build(spec) plus
load_state_dict gives the network, in eval mode, with nothing else around.
"""
from __future__ import annotations

import dataclasses
import json
import time

import torch
from torch.func import functional_call

from thinkpipe.core.errors import InputError
from thinkpipe.core.train.files import atomic

from .hyper import PudNet
from .maths import head_weight, prototypes
from .targets import build, conv_specs, norm_names, support_rows

FORMAT = "thinkpipe-pudnet/1"


def build_hyper(cfg) -> tuple[PudNet, dict]:
    """A fresh hypernetwork for cfg's target, and the target spec it predicts."""
    spec = cfg.spec(cfg.ways)
    net = build(spec, plain=False)
    norms = {n: m.num_features for n, m in net.named_modules() if n in norm_names(net)}
    hyper = PudNet(cfg.channels, cfg.image_size, conv_specs(net), norms, cfg.embed,
                   cfg.gru_layers, cfg.gen_hidden, cfg.mix, "image" if cfg.task == "denoise"
                   else cfg.pool)
    return hyper, spec


def save_hyper(path: str, hyper: PudNet, cfg, extra: dict) -> None:
    """hyper.pt, written to a temporary name and renamed (a kill never leaves half a file)."""
    atomic(path, lambda tmp: torch.save({"format": FORMAT, "config": dataclasses.asdict(cfg),
                                          "state": hyper.state_dict(), **extra}, tmp))


def load_hyper(path: str) -> tuple[PudNet, object, dict]:
    """(hypernetwork in eval mode, its PudNetConfig, the whole checkpoint)."""
    from . import PudNetConfig
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:  # a file that is not a checkpoint: say so, not a traceback
        raise InputError(f"{path}: not a pudnet-predict checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise InputError(f"{path}: not a pudnet-predict checkpoint (write one with "
                         "`pudnet-predict train`)")
    cfg = PudNetConfig(**ckpt["config"])
    hyper, _ = build_hyper(cfg)
    hyper.load_state_dict(ckpt["state"])
    return hyper.eval(), cfg, ckpt


@torch.no_grad()
def predict(hyper: PudNet, cfg, xs: torch.Tensor, ys: torch.Tensor, classes: int,
            sketch: tuple | None = None) -> tuple[dict, dict, float]:
    """(state_dict of the plain target, its spec, seconds) from a support set xs (n, C, S, S)
    with labels ys in 0..classes-1 (denoising: labels unused). `sketch`, an (images, labels)
    pair, makes the kernels from another set than the statistics and prototypes: the control
    that shows whether the kernels depend on the data they were predicted for."""
    start = time.perf_counter()
    spec = cfg.spec(classes)
    net = build(spec, plain=False)
    params = hyper(*(sketch or (xs, ys)))
    with support_rows(net, len(xs)) as norms:
        kwargs = {} if spec["arch"] == "unet" else {"head": False}
        out = functional_call(net, params, (xs,), kwargs, strict=False)
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    state.update({k: v.detach().clone() for k, v in params.items()})
    for name, m in zip(norm_names(net), norms):
        state[f"{name}.running_mean"], state[f"{name}.running_var"] = m.stats
    if spec["arch"] != "unet":
        state["head.weight"] = head_weight(prototypes(out, ys, classes), hyper.temperature)
    return state, spec, time.perf_counter() - start


def realise(state: dict, spec: dict) -> torch.nn.Module:
    """The plain target network (torch.nn only) holding a predicted state_dict, in eval mode."""
    net = build(spec, plain=True)
    net.load_state_dict(state)
    return net.eval()


def save_weights(path: str, state: dict, spec: dict, names: list) -> None:
    from safetensors.torch import save_file
    meta = {"format": FORMAT, "spec": json.dumps(spec), "classes": json.dumps(names)}
    atomic(path, lambda tmp: save_file({k: v.contiguous() for k, v in state.items()}, tmp,
                                        metadata=meta))


def load_weights(path: str) -> tuple[torch.nn.Module, list]:
    """(the plain network in eval mode, its class names) from a predicted .safetensors."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    try:
        with safe_open(path, "pt") as f:
            meta = f.metadata() or {}
        state = load_file(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except Exception as e:
        raise InputError(f"{path}: not a safetensors file ({e})") from None
    if meta.get("format") != FORMAT:
        raise InputError(f"{path}: not weights written by pudnet-predict")
    return realise(state, json.loads(meta["spec"])), json.loads(meta["classes"])
