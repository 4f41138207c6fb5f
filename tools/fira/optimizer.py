"""Fira, GaLore and AdamW as one torch optimizer (see maths.py for the update).

    from thinkpipe.tools.fira import Fira, param_groups
    groups = param_groups(model, targets=["attn", "mlp"], rank=128, alpha=0.25)
    opt = Fira(groups, lr=1e-2)                        # paper variant; variant="released" too
    opt = Fira(groups, lr=1e-2, residual=False)        # GaLore

Param groups follow the official package: a group carrying `rank` (with `update_proj_gap`,
`alpha`, `proj_type`) is projected, any other group gets plain AdamW with the same step rule
(decoupled weight decay after the step, bias correction in the step size, eps 1e-6).
State per projected matrix: the basis (m r or n r values), two low-rank moments (2 n r or 2 m r)
and the previous residual norm (1): `state_size()` reports it. Everything in the state is a
tensor, so `state_dict()` / `load_state_dict()` resume exactly.
"""
from __future__ import annotations

import math

import torch

from . import maths

VARIANTS = ("paper", "released")
SCALINGS = ("column", "matrix", "tensor")


class Fira(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-6,
                 weight_decay: float = 0.0, rank: int | None = None, update_proj_gap: int = 200,
                 alpha: float = 1.0, proj_type: str = "std", gamma: float = 1.01,
                 scaling: str = "column", variant: str = "paper", residual: bool = True):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}")
        if scaling not in SCALINGS:
            raise ValueError(f"scaling must be one of {SCALINGS}")
        if proj_type != "std":
            raise ValueError("only proj_type 'std' (left basis when m < n, right otherwise)")
        if lr < 0 or not 0 <= betas[0] < 1 or not 0 <= betas[1] < 1 or eps < 0:
            raise ValueError("invalid lr, betas or eps")
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        update_proj_gap=update_proj_gap, alpha=alpha, proj_type=proj_type,
                        gamma=gamma, scaling=scaling, variant=variant, residual=residual)
        if rank is not None:  # every parameter projected unless groups say otherwise
            defaults["rank"] = rank
        super().__init__(params, defaults)
        for group in self.param_groups:
            if "rank" in group and any(p.ndim != 2 for p in group["params"]):
                raise ValueError("projected groups may only hold matrices (2-D parameters)")

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            if "rank" in group:
                self._projected(group)
            else:
                self._adamw(group)
        return loss

    def _moments(self, state, grad, group) -> tuple[torch.Tensor, float]:
        """Update Adam's moments of `grad`; (m / (sqrt(v) + eps), bias-corrected step size)."""
        if "exp_avg" not in state:
            state["exp_avg"] = torch.zeros_like(grad)
            state["exp_avg_sq"] = torch.zeros_like(grad)
        beta1, beta2 = group["betas"]
        state["step"] = state.get("step", 0) + 1
        t = state["step"]
        state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
        state["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = state["exp_avg_sq"].sqrt().add_(group["eps"])
        step_size = group["lr"] * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        return state["exp_avg"] / denom, step_size

    def _adamw(self, group) -> None:
        for p in group["params"]:
            if p.grad is None:
                continue
            direction, step_size = self._moments(self.state[p], p.grad, group)
            p.add_(direction, alpha=-step_size)
            if group["weight_decay"] > 0:
                p.add_(p, alpha=-group["lr"] * group["weight_decay"])

    def _projected(self, group) -> None:
        rank, alpha, gap = group["rank"], group["alpha"], group["update_proj_gap"]
        work = []
        for p in group["params"]:
            if p.grad is None:
                continue
            state, grad = self.state[p], p.grad
            which = maths.side(grad.shape)
            if "basis" not in state or state.get("step", 0) % gap == 0:  # refresh at 0, T, 2T...
                state["basis"] = maths.basis(grad, rank, which)
            low = maths.project(grad, state["basis"], which)
            direction, step_size = self._moments(state, low, group)
            work.append((p, state, grad, which, low, direction, step_size))
        shared = None
        if group["scaling"] == "tensor" and work:  # one ratio over all matrices of the group
            num = torch.sqrt(sum(w[5].pow(2).sum() for w in work))
            den = torch.sqrt(sum(w[4].pow(2).sum() for w in work))
            shared = num / (den + maths.EPS)
        for p, state, grad, which, low, direction, step_size in work:
            update = maths.project_back(direction, state["basis"], which) * alpha
            if group["residual"]:
                update = update + self._residual(state, grad, which, low, direction, group, shared)
            p.add_(update, alpha=-step_size)
            if group["weight_decay"] > 0:
                p.add_(p, alpha=-group["lr"] * group["weight_decay"])

    def _residual(self, state, grad, which, low, direction, group, shared) -> torch.Tensor:
        """The scaled, limited residual S, as the update adds it (paper: alpha S; released: S)."""
        alpha, released = group["alpha"], group["variant"] == "released"
        inside = maths.project_back(low, state["basis"], which)
        s = grad - (alpha * inside if released else inside)
        phi = shared if shared is not None else maths.scaling(direction, low, group["scaling"])
        s, state["residual_norm"] = maths.limit(s * phi, state.get("residual_norm"), group["gamma"])
        return s if released else alpha * s

    def state_size(self) -> dict[str, int]:
        """Optimizer-state elements: projected matrices (basis + low-rank moments + 1) and the
        rest (two Adam moments per element)."""
        projected = rest = 0
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p, {})
                n = sum(v.numel() for k, v in st.items()
                        if isinstance(v, torch.Tensor) and k in ("basis", "exp_avg", "exp_avg_sq",
                                                                 "residual_norm"))
                if "rank" in group:
                    projected += n
                else:
                    rest += n
        return {"projected": projected, "other": rest, "total": projected + rest}


def GaLore(params, **kwargs) -> Fira:
    """GaLore (Zhao et al. 2024) through the same interface: Fira without the residual."""
    return Fira(params, residual=False, **kwargs)
