"""Stable record ids and per-sample seeds, so sampling never depends on batching or sharding.

    record_id({"id": 7})            # "7"
    record_id({"question": "..."})  # "r" + 12 hex digits of the content's hash
    sample_seed(0, "7", k=2)        # one 32-bit seed per (run seed, record, sample)

A record without an `id` gets one from its question, answer and images, so the same record
gets the same seeds wherever it sits in the input (give ids when two records share all three
and should be sampled apart).
"""
from __future__ import annotations

import hashlib


def record_id(record: dict) -> str:
    if record.get("id") is not None:
        return str(record["id"])
    payload = repr((record.get("question"), record.get("answer"), record.get("images")))
    return "r" + hashlib.sha256(payload.encode()).hexdigest()[:12]


def sample_seed(seed: int, rid: str, k: int) -> int:
    return int(hashlib.sha256(f"{seed}:{rid}:{k}".encode()).hexdigest()[:8], 16)
