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


def scaling(n: torch.Tensor, r: torch.Tensor, which: str, mode: str = "column") -> torch.Tensor:
    """phi: ratio of the Adam update's norm to the projected gradient's, broadcastable onto S.

    n, r: (..., r, n) for a left basis, (..., m, r) for a right one (a leading batch of
    matrices of one shape is allowed). column: per column of S for a left basis (..., 1, n),
    per row for a right one (..., m, 1) — the package's rule, "columns when N has fewer rows
    than columns, else rows", picks the same axis. matrix: one ratio per matrix (..., 1, 1).
    """
    if mode == "matrix":
        return (torch.linalg.vector_norm(n, dim=(-2, -1), keepdim=True)
                / (torch.linalg.vector_norm(r, dim=(-2, -1), keepdim=True) + EPS))
    return axis_sq_norms(n, which).sqrt_() / (axis_sq_norms(r, which).sqrt_() + EPS)


def axis_sq_norms(x: torch.Tensor, which: str) -> torch.Tensor:
    """Squared norms of the columns (left: (..., 1, n)) or rows (right: (..., m, 1)) of x.

    Column norms go through einsum: vector_norm over dim -2 is a strided reduction, 3-5x
    slower on CPU for the shapes Fira sees; rows are contiguous and vector_norm is fastest there.
    """
    if which == "left":
        return torch.einsum("...ij,...ij->...j", x, x).unsqueeze(-2)
    return torch.linalg.vector_norm(x, dim=-1, keepdim=True).square_()


def limit_factor(norm: torch.Tensor, prev_norm: torch.Tensor | None, gamma: float
                 ) -> torch.Tensor:
    """max(||S|| / ||S_prev||, gamma) / gamma: what S is divided by.

    No previous norm (None, or inf in a batch) gives 1: the first step is not limited.
    """
    if prev_norm is None:
        return torch.ones_like(norm)
    return torch.clamp(norm / (prev_norm + EPS), min=gamma) / gamma


def limit(s: torch.Tensor, prev_norm: torch.Tensor | None, gamma: float
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Norm-growth limiter: (S limited, ||S|| after limiting).

    S <- S / (max(||S|| / ||S_prev||, gamma) / gamma); unchanged at the first step.
    """
    norm = s.norm()
    factor = limit_factor(norm, prev_norm, gamma)
    return s / factor, norm / factor


def residual(grad: torch.Tensor, low: torch.Tensor, p: torch.Tensor, which: str, c: float
             ) -> torch.Tensor:
    """S = G - c P R: the residual formed explicitly (c = 1 in the paper, alpha in the package)."""
    return grad - c * project_back(low, p, which)


def fold(g_sq: torch.Tensor, low: torch.Tensor, direction: torch.Tensor, phi: torch.Tensor,
         prev_norm: torch.Tensor | None, which: str, alpha: float, c: float, a: float,
         gamma: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Fira's whole update without forming S: (X, coef, ||S|| after limiting) such that

        alpha P N + a * limit(S * phi) = project_back(X) + G * coef,
        X = alpha N - c * coef * R,  coef = a * phi / f,  f = limit_factor(||S phi||, ...)

    phi scales columns of S for a left basis and rows for a right one, so (P R) phi = P (R phi)
    and the scaling moves inside the projection. ||S phi|| needs no S either: P has orthonormal
    columns, so each column obeys ||g - c P P^T g||^2 = ||g||^2 - (2c - c^2) ||P^T g||^2 (rows
    likewise for Q), and g_sq = axis_sq_norms(G) is all fold needs of G. One matrix product per
    step instead of two, no m x n temporaries, and a batch of same-shape matrices in one call
    (leading dimension k; prev_norm (k, 1, 1), inf where a matrix has none yet).
    paper: c = 1, a = alpha; released: c = alpha, a = 1.
    """
    r_sq = axis_sq_norms(low, which)                                   # (k, 1, n) or (k, m, 1)
    s_sq = (g_sq - (2 * c - c * c) * r_sq).clamp_(min=0)               # ||S_:,j||^2, same shape
    norm = torch.sqrt((phi.square() * s_sq).sum((-2, -1), keepdim=True))  # ||S phi||: (k, 1, 1)
    factor = limit_factor(norm, prev_norm, gamma)                      # (k, 1, 1)
    coef = phi * (a / factor)                                          # broadcasts onto G
    x = (low * coef).mul_(-c).add_(direction, alpha=alpha)             # (k, r, n) or (k, m, r)
    return x, coef, norm / factor
