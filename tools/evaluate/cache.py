"""Generated predictions, cached on disk: re-scoring never regenerates, a killed run resumes.

    cache = PredictionCache(directory, fingerprint)
    key = cache.key(record_id, template, generation, repeat)
    cache.get(key) -> {"response", "finish_reason", ...} or None;  cache.put(key, prediction)

One JSONL file per model fingerprint (`preds-<fingerprint>.jsonl`), a line appended (and
flushed) per prediction, so an interrupted run loses at most the line it was writing. The key is
a hash of (fingerprint, record id, prompt template, decoding settings, repeat): changing any of
them generates afresh. A torn last line is skipped on reading.
"""
from __future__ import annotations

import hashlib
import json
import os


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "thinkpipe", "eval")


class PredictionCache:
    def __init__(self, directory: str, fingerprint: str):
        from thinkpipe.core.errors import OutputError
        self.fingerprint, self.hits, self.misses = fingerprint, 0, 0
        try:
            os.makedirs(directory, exist_ok=True)
        except OSError as e:
            raise OutputError(f"--cache {directory}: cannot create: {e.strerror}") from None
        safe = "".join(c if c.isalnum() else "-" for c in fingerprint)
        self.path = os.path.join(directory, f"preds-{safe}.jsonl")
        self._rows: dict[str, dict] = {}
        if os.path.exists(self.path):
            with open(self.path, encoding="utf-8") as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self._rows[row["key"]] = row["prediction"]
                    except (ValueError, KeyError, TypeError):
                        continue
        self._file = None

    def key(self, record_id: str, template: str, generation: dict, repeat: int) -> str:
        payload = json.dumps([self.fingerprint, record_id, template, generation, repeat],
                             sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> dict | None:
        found = self._rows.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, prediction: dict) -> None:
        self._rows[key] = prediction
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")
        self._file.write(json.dumps({"key": key, "prediction": prediction}) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
