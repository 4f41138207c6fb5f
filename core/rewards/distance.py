"""Edit distance and longest common subsequence of two token lists, bit-parallel.

The textbook dynamic programmes fill an n×m table: on a degenerate 64 KiB response (30k words)
against a 100-word reference that is 3M Python steps, a second or more. Both here keep one
column of the table as the bits of a Python integer (bit i for the i-th token of `a`) and
advance it one token of `b` at a time with a fixed number of integer operations, so the cost is
O(len(b) · ⌈len(a) / 64⌉) machine words — linear in the response for a bounded reference.

    levenshtein(a, b)   Myers (1999), "A fast bit-vector algorithm for approximate string
                        matching based on dynamic programming", in Hyyrö's (2001) formulation for
                        the global distance: vertical deltas Pv/Mv (+1/−1 between rows i−1 and i
                        of the current column), horizontal deltas Ph/Mh; the score is D[m][j],
                        updated from the top bit of Ph/Mh. The first row D[0][j] = j, so each
                        column shifts a +1 into Ph's low bit.
    lcs(a, b)           Crochemore, Iliopoulos, Pinzon and Reid (2001): V has a 0 at row i where
                        the LCS gains a match; V ← (V + (V & M_y)) | (V & ~M_y); the LCS length
                        is the number of 0 bits in the low m bits of V.

Equal to the dynamic programmes (unit costs; tokens compared with ==) on every pair the tests
draw, including empty lists and repeated tokens.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence


def _masks(a: Sequence[Hashable]) -> dict:
    """M_x: the bits of the positions i where a[i] == x."""
    peq: dict = {}
    for i, x in enumerate(a):
        peq[x] = peq.get(x, 0) | (1 << i)
    return peq


def levenshtein(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Unit-cost edit distance (insert, delete, substitute) between token lists a and b."""
    if len(a) > len(b):
        a, b = b, a                          # the distance is symmetric; bits for the shorter
    m = len(a)
    if m == 0:
        return len(b)
    peq, full, top = _masks(a), (1 << m) - 1, 1 << (m - 1)
    pv, mv, score = full, 0, m               # column 0: D[i][0] = i, every vertical delta +1
    for y in b:
        eq = peq.get(y, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | (~(xh | pv) & full)
        mh = pv & xh
        if ph & top:
            score += 1
        elif mh & top:
            score -= 1
        ph = ((ph << 1) | 1) & full          # D[0][j] - D[0][j-1] = +1
        mh = (mh << 1) & full
        pv = mh | (~(xv | ph) & full)
        mv = ph & xv
    return score


def lcs(a: Sequence[Hashable], b: Sequence[Hashable]) -> int:
    """Length of the longest common subsequence of token lists a and b."""
    if len(a) > len(b):
        a, b = b, a
    m = len(a)
    if m == 0:
        return 0
    peq, full = _masks(a), (1 << m) - 1
    v = full
    for y in b:
        u = v & peq.get(y, 0)
        v = ((v + u) | (v - u)) & full
    return m - v.bit_count()
