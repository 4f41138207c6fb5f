"""Question clusters C_k for KPOD's schedule value (Feng et al., ICML 2024, eq. 12).

The paper clusters the mean GloVe vector of each question with K-means (K = 5). GloVe is not
available offline, so callers pass the mean of the student's input embeddings over the
question's tokens (the default) or TF-IDF rows (`tfidf`), and cluster those.

    k-means++ (Arthur & Vassilvitskii 2007): c_1 uniform; c_j drawn with probability
              proportional to min_l ||x - c_l||^2 (points already chosen have weight 0)
    Lloyd     assign each x to its nearest centre, move each centre to its points' mean
              (an empty cluster keeps its centre); stop when no label changes or after `iters`
    TF-IDF    tf = raw count of a token in the document, idf = log((1 + N) / (1 + df)) + 1
              (sklearn's smooth_idf), rows L2-normalised; columns are the sorted vocabulary

Labels are renumbered in order of first appearance (question 0 is in cluster 0), so a
clustering does not depend on how the centres happened to be ordered. Tokens are lowercase
regex \\w+ matches (sklearn's default pattern keeps only tokens of 2+ characters).
"""
from __future__ import annotations

import math
import re
from collections import Counter

import torch

TOKEN = re.compile(r"\w+")


def _nearest(x: torch.Tensor, centres: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(squared distance to the nearest centre (N,), its index (N,) long); ties: lower index."""
    d = (x.unsqueeze(1) - centres.unsqueeze(0)).square().sum(-1)       # (N, k)
    best = d.min(1)
    return best.values, best.indices


def _init(x: torch.Tensor, k: int, g: torch.Generator) -> torch.Tensor:
    """k-means++ seeding: k distinct rows of x as initial centres. (k, d)"""
    n = x.shape[0]
    picked = [int(torch.randint(n, (1,), generator=g))]
    for _ in range(1, k):
        w, _ = _nearest(x, x[picked])                                  # (N,)
        w[picked] = 0
        if float(w.sum()) <= 0:                                        # duplicates left: uniform
            w = torch.ones(n, dtype=x.dtype)
            w[picked] = 0
        picked.append(int(torch.multinomial(w, 1, generator=g)))
    return x[picked].clone()                                           # (k, d)


def _first_seen(labels: torch.Tensor) -> torch.Tensor:
    """Labels renumbered 0, 1, ... in order of first appearance. (N,) long"""
    order: dict[int, int] = {}
    return torch.tensor([order.setdefault(a, len(order)) for a in labels.tolist()], dtype=torch.long)


def kmeans(x: torch.Tensor, k: int, seed: int = 0, iters: int = 50) -> torch.Tensor:
    """K-means labels of the rows of x (N, d): k-means++ seeded by a torch.Generator, then Lloyd.

    k is capped at N. Deterministic for a seed (computed in float64 on the CPU). (N,) long
    """
    if k < 1 or x.dim() != 2 or x.shape[0] < 1:
        raise ValueError("kmeans needs k >= 1 and x of shape (N, d) with N >= 1")
    x = x.detach().double().cpu()                                      # (N, d)
    k = min(k, x.shape[0])
    g = torch.Generator().manual_seed(seed)
    centres = _init(x, k, g)                                           # (k, d)
    labels = _nearest(x, centres)[1]                                   # (N,)
    for _ in range(iters):
        sums = torch.zeros_like(centres).index_add_(0, labels, x)      # (k, d)
        sizes = torch.bincount(labels, minlength=k)                    # (k,)
        full = sizes > 0
        centres[full] = sums[full] / sizes[full].unsqueeze(1).double()
        new = _nearest(x, centres)[1]                                  # (N,)
        if torch.equal(new, labels):
            break
        labels = new
    return _first_seen(labels)


def tokens(text: str) -> list[str]:
    """Lowercase regex \\w+ tokens."""
    return TOKEN.findall(text.lower())


def vocabulary(texts: list[str]) -> list[str]:
    """The sorted vocabulary: the order of `tfidf`'s columns and of `idf`."""
    return sorted({w for t in texts for w in tokens(t)})


def idf(texts: list[str]) -> torch.Tensor:
    """log((1 + N) / (1 + df)) + 1 per vocabulary word, in `vocabulary` order. (V,) float64"""
    df = Counter(w for t in texts for w in set(tokens(t)))
    n = len(texts)
    return torch.tensor([math.log((1 + n) / (1 + df[w])) + 1 for w in vocabulary(texts)],
                        dtype=torch.float64)


def tfidf(texts: list[str]) -> torch.Tensor:
    """TF-IDF rows, L2-normalised (an empty document stays 0); columns: `vocabulary`. (N, V)"""
    index = {w: j for j, w in enumerate(vocabulary(texts))}
    tf = torch.zeros(len(texts), len(index), dtype=torch.float64)      # (N, V)
    for i, text in enumerate(texts):
        for w, count in Counter(tokens(text)).items():
            tf[i, index[w]] = count
    rows = tf * idf(texts)                                             # (N, V)
    norm = rows.norm(dim=1, keepdim=True).clamp(min=1e-12)             # (N, 1)
    return (rows / norm).float()                                       # (N, V)
