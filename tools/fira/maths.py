"""Fira's update as pure functions (Chen et al., "Can We Achieve Full-rank Training of LLMs under
Low-rank Constraint?", arXiv 2410.01623, Algorithm 1).

For a weight W (m x n) with gradient G:

    P        top-r singular vectors of G, refreshed every T steps (fp32 SVD): left, P (m x r),
             when m < n; right, Q (r x n), when m >= n (GaLore's "std" rule)
    R        = P^T G (r x n)  or  G Q^T (m x r)                      the projected gradient
    N        = Adam(R) = m_hat / (sqrt(v_hat) + eps)                   Adam in the subspace
    S        = G - P P^T G                                            the residual (eq. 5)
    phi_i    = ||N_:,i|| / ||R_:,i||   per column (per row for Q)      norm-based scaling (eq. 7)
    S        <- S * phi
    S        <- S * gamma / max(||S|| / ||S_prev||, gamma)             norm-growth limiter (eq. 9),
             ||S_prev|| the norm *after* the previous limiting; nothing at the first step
    update   = alpha (P N + S)                                        paper
    W        <- W - lr * update

The released package (PyPI `fira` 1.0.2, `fira/fira_adamw.py`) differs in how alpha enters:
its residual is G - alpha P P^T G (project_back multiplies by alpha) and its update is
alpha P N + S (S without alpha). With alpha = 1 the two agree; at the pre-training alpha = 0.25
the released residual keeps 3/4 of the in-subspace gradient and adds S at full size.
Bias correction is folded into the step size (sqrt(1 - b2^t) / (1 - b1^t)), as in the package;
the scaling ratios and denominators carry the package's 1e-8.

Scaling variants (paper Table 5): column (default), matrix (one ratio ||N|| / ||R|| per
matrix), tensor (one ratio over every projected matrix of a parameter group).
"""
from __future__ import annotations

import torch

EPS = 1e-8


def side(shape: torch.Size) -> str:
    """GaLore's "std" rule: project the larger dimension away (left when m < n)."""
    return "left" if shape[0] < shape[1] else "right"


def basis(grad: torch.Tensor, rank: int, which: str) -> torch.Tensor:
    """Orthonormal basis of the top-`rank` singular vectors, from an fp32 SVD.

    left: U[:, :r] (m x r); right: Vh[:r, :] (r x n). Returned in the gradient's dtype.
    """
    u, _, vh = torch.linalg.svd(grad.float(), full_matrices=False)
    out = u[:, :rank] if which == "left" else vh[:rank, :]
    return out.to(grad.dtype).contiguous()


def project(grad: torch.Tensor, p: torch.Tensor, which: str) -> torch.Tensor:
    """R = P^T G (r x n) or G Q^T (m x r)."""
    return p.t() @ grad if which == "left" else grad @ p.t()


def project_back(low: torch.Tensor, p: torch.Tensor, which: str) -> torch.Tensor:
    """P X (m x n) or X Q (m x n)."""
    return p @ low if which == "left" else low @ p


def scaling(n: torch.Tensor, r: torch.Tensor, mode: str = "column") -> torch.Tensor:
    """phi: ratio of the Adam update's norm to the projected gradient's, broadcastable onto S.

    column: per column of S for a left basis (shape (n,)), per row for a right one (m, 1) —
    the package's rule is "columns when N has fewer rows than columns, else rows".
    matrix: one scalar for the whole matrix.
    """
    if mode == "matrix":
        return n.norm() / (r.norm() + EPS)
    dim = 0 if n.shape[0] < n.shape[1] else 1
    ratio = n.norm(dim=dim) / (r.norm(dim=dim) + EPS)
    return ratio if dim == 0 else ratio.unsqueeze(1)


def limit(s: torch.Tensor, prev_norm: torch.Tensor | None, gamma: float
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Norm-growth limiter: (S limited, ||S|| after limiting).

    S <- S / (max(||S|| / ||S_prev||, gamma) / gamma); unchanged at the first step.
    """
    norm = s.norm()
    if prev_norm is None:
        return s, norm
    factor = torch.clamp(norm / (prev_norm + EPS), min=gamma) / gamma
    return s / factor, norm / factor
