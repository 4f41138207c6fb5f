"""Arrow's allocator for long record streams: memory that stays flat in the input size.

A stream through Arrow allocates and frees block-sized buffers for as long as the input lasts.
Arrow's default allocator (mimalloc) keeps freed pages and the glibc one fragments, so the RSS
of a convert creeps up with the input (some 25 MiB between a 100 MB and a 1 GB file); jemalloc,
told to return freed pages within DECAY_MS, stays at what the blocks in flight need. An allocator
chosen with ARROW_DEFAULT_MEMORY_POOL is left alone, and so is a build without jemalloc.
"""
from __future__ import annotations

import os

import pyarrow as pa

DECAY_MS = 100
_done = False


def flat_memory() -> None:
    """Make jemalloc Arrow's default pool for this process (once; a no-op where unavailable)."""
    global _done
    if _done or os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    _done = True
    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(DECAY_MS)
    except (NotImplementedError, pa.ArrowException):
        return
    pa.set_memory_pool(pool)
