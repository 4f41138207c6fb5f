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
FUSED_DEVICES = ("cpu", "cuda", "xpu", "mps")  # where torch ships the fused AdamW kernel
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

    @staticmethod
    def _tick(states: list, grads: list) -> None:
        """Create the moments on first use and count the step."""
        for state, grad in zip(states, grads):
            if "exp_avg" not in state:
                state["exp_avg"] = torch.zeros_like(grad)
                state["exp_avg_sq"] = torch.zeros_like(grad)
            state["step"] = state.get("step", 0) + 1

    def _moments(self, states: list, grads: list, group) -> tuple[list, list]:
        """Adam's moments of each gradient, updated in place with foreach kernels;
        (exp_avg / (sqrt(exp_avg_sq) + eps) per tensor, bias-corrected step size per tensor)."""
        beta1, beta2 = group["betas"]
        self._tick(states, grads)
        avgs = [s["exp_avg"] for s in states]
        sqs = [s["exp_avg_sq"] for s in states]
        torch._foreach_mul_(avgs, beta1)
        torch._foreach_add_(avgs, grads, alpha=1 - beta1)
        torch._foreach_mul_(sqs, beta2)
        torch._foreach_addcmul_(sqs, grads, grads, value=1 - beta2)
        denom = torch._foreach_sqrt(sqs)
        torch._foreach_add_(denom, group["eps"])
        sizes = [group["lr"] * math.sqrt(1 - beta2 ** s["step"]) / (1 - beta1 ** s["step"])
                 for s in states]
        return torch._foreach_div(avgs, denom), sizes

    def _decay(self, params: list, group) -> None:
        """Decoupled weight decay after the step, as the package does."""
        if group["weight_decay"] > 0:
            torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])

    def _adamw(self, group) -> None:
        """Plain AdamW with the package's rule, through torch's fused kernel where it exists.

        The kernel divides by sqrt(v / (1 - b2^t)) + eps; the package by sqrt(v) + eps with
        sqrt(1 - b2^t) in the step size. The two agree when the kernel's eps is
        eps / sqrt(1 - b2^t), so each (device, dtype, step) bucket gets that eps.
        """
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        beta1, beta2 = group["betas"]
        buckets: dict = {}
        for p in params:
            buckets.setdefault((p.device, p.dtype, self.state[p].get("step", 0) + 1), []).append(p)
        for (device, _, t), ps in buckets.items():
            states, grads = [self.state[p] for p in ps], [p.grad for p in ps]
            if device.type not in FUSED_DEVICES:
                directions, sizes = self._moments(states, grads, group)
                torch._foreach_mul_(directions, [-s for s in sizes])
                torch._foreach_add_(ps, directions)
                continue
            self._tick(states, grads)
            steps = [torch.tensor(float(t), device=device)] * len(ps)
            torch._fused_adamw_(ps, grads, [s["exp_avg"] for s in states],
                                [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False,
                                lr=group["lr"], beta1=beta1, beta2=beta2, weight_decay=0.0,
                                eps=group["eps"] / math.sqrt(1 - beta2 ** t), maximize=False)
        self._decay(params, group)

    def _projected(self, group) -> None:
        rank, alpha, gap = group["rank"], group["alpha"], group["update_proj_gap"]
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        states, lows, sides = [self.state[p] for p in params], [], []
        for p, state in zip(params, states):
            which = maths.side(p.grad.shape)
            if "basis" not in state or state.get("step", 0) % gap == 0:  # refresh at 0, T, 2T...
                state["basis"] = maths.basis(p.grad, rank, which)
            lows.append(maths.project(p.grad, state["basis"], which))
            sides.append(which)
        directions, sizes = self._moments(states, lows, group)
        if group["residual"]:
            xs, coefs = self._fold(params, states, sides, lows, directions, group)
        else:  # GaLore
            xs, coefs = torch._foreach_mul(directions, alpha), [None] * len(params)
        for p, state, which, x, coef, size in zip(params, states, sides, xs, coefs, sizes):
            if coef is not None:
                p.addcmul_(p.grad, coef, value=-size)
            if which == "left":
                p.addmm_(state["basis"], x, alpha=-size)
            else:
                p.addmm_(x, state["basis"], alpha=-size)
        self._decay(params, group)

    def _fold(self, params, states, sides, lows, directions, group) -> tuple[list, list]:
        """maths.fold on each batch of same-shape matrices: X and the coefficient of G for
        each matrix (update = project_back(X) + G * coef); stores the limited residual norms."""
        alpha = group["alpha"]
        c, a = (alpha, 1.0) if group["variant"] == "released" else (1.0, alpha)
        shared = None
        if group["scaling"] == "tensor":  # one ratio over all matrices of the group
            shared = (torch.sqrt(sum(d.square().sum() for d in directions))
                      / (torch.sqrt(sum(r.square().sum() for r in lows)) + maths.EPS))
        batches: dict = {}
        for i, p in enumerate(params):
            batches.setdefault((p.shape, p.dtype, p.device), []).append(i)
        xs, coefs = [None] * len(params), [None] * len(params)
        for idx in batches.values():
            which = sides[idx[0]]
            low = torch.stack([lows[i] for i in idx])                  # (k, r, n) or (k, m, r)
            direction = torch.stack([directions[i] for i in idx])
            g_sq = torch.stack([maths.axis_sq_norms(params[i].grad, which) for i in idx])
            inf = torch.full((), math.inf, device=low.device, dtype=low.dtype)
            prev = torch.stack([states[i].get("residual_norm", inf).reshape(1, 1) for i in idx])
            phi = shared if shared is not None else maths.scaling(direction, low, which,
                                                                  group["scaling"])
            x, coef, norms = maths.fold(g_sq, low, direction, phi, prev, which, alpha, c, a,
                                        group["gamma"])
            for j, i in enumerate(idx):
                xs[i] = x[j]
                coefs[i] = coef[j]
                states[i]["residual_norm"] = norms[j].reshape(())
        return xs, coefs

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
