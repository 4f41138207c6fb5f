"""A judge for what rules cannot decide, with every verdict cached on disk.

    judge = Judge("models/judge")                    # a local Hugging Face model (greedy)
    judge = Judge("http://localhost:8000/v1", model="qwen2.5-7b")  # OpenAI-compatible endpoint
    judge = Judge("mypkg.judges:lenient")            # a Python function(record, output) -> 0/1/None
    judge.decide(record, output) -> 1.0, 0.0, or None (no usable verdict after retries)

The judge is asked only when rules cannot read an answer. Its prompt gives the question, the
reference answer and the response, and asks for a single digit. Replies other than 0 or 1 are
retried (temperature 0, 0.5, 1.0 for local models and endpoints). An endpoint that cannot be
reached — refused, too slow (`timeout`), HTTP errors, a body cut short or not JSON, through
`retries` tries with jittered back-off (core/models/served.py) — is a ServiceError (exit 69)
naming the judge: a verdict never given is not a verdict of wrong. Verdicts are cached in
`<cache>/judge-<hash of judge>.jsonl`, keyed by (judge, question, reference, response), so
re-running an evaluation asks nothing twice; a failed verdict is not cached.
"""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..errors import ServiceError, UsageError
from ..plugins import load_function, spec_kind

PROMPT = """You are grading a model's answer against a reference answer.
Question: {question}
Reference answer: {answer}
Model response: {response}
Does the model's final answer agree with the reference answer (same meaning; equivalent numbers
and notations count as equal)? Reply with one digit: 1 if it agrees, 0 if it does not."""
TEMPERATURES = (0.0, 0.5, 1.0)


def default_cache() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "thinkpipe", "judge")


def _verdict(text: Any) -> float | None:
    if isinstance(text, (int, float)) and not isinstance(text, bool) and text in (0, 1):
        return float(text)
    s = str(text).strip().strip(".*`'\"")
    return float(s[0]) if s[:1] in ("0", "1") and (len(s) == 1 or not s[1].isdigit()) else None


class Judge:
    """`timeout`, `retries` and `backoff` are those of an endpoint judge's ChatEndpoint."""

    def __init__(self, target: str, model: str | None = None, cache_dir: str | None = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.5):
        self.target, self.model = target, model
        self._endpoint_options = {"timeout": timeout, "retries": retries, "backoff": backoff}
        self.name = target if model is None else f"{target}#{model}"
        self.calls = 0
        digest = hashlib.sha256(self.name.encode()).hexdigest()[:16]
        cache_dir = cache_dir or default_cache()
        try:
            os.makedirs(cache_dir, exist_ok=True)
        except OSError as e:
            from ..errors import OutputError
            raise OutputError(f"--judge-cache {cache_dir}: cannot create: {e.strerror}") from None
        self.cache_path = os.path.join(cache_dir, f"judge-{digest}.jsonl")
        self._cache: dict[str, float] = {}
        if os.path.exists(self.cache_path):
            with open(self.cache_path) as f:
                for line in f:
                    try:
                        row = json.loads(line)
                        self._cache[row["key"]] = row["verdict"]
                    except (ValueError, KeyError):
                        continue  # a torn last line from an interrupted run
        self._ask = self._backend()

    def _backend(self):
        kind = spec_kind(self.target)
        if kind == "url":
            return self._endpoint
        if kind == "folder":
            from ..models import load
            self._bundle = load(self.target)
            return self._local
        if kind == "function":
            fn = load_function(self.target, "--judge")
            return lambda record, output, prompt, temperature: fn(record, output)
        raise UsageError(f"--judge {self.target}: not a model folder, a URL or module:function")

    def key(self, record: dict, output: str) -> str:
        payload = [self.name, record.get("question"), record.get("answer"), output]
        return hashlib.sha256(json.dumps(payload, default=str).encode()).hexdigest()

    def decide(self, record: dict, output: str) -> float | None:
        key = self.key(record, output)
        if key in self._cache:
            return self._cache[key]
        prompt = PROMPT.format(question=record.get("question", ""), answer=record.get("answer"),
                               response=output)
        for temperature in TEMPERATURES:
            self.calls += 1
            verdict = _verdict(self._ask(record, output, prompt, temperature))
            if verdict is not None:
                self._cache[key] = verdict
                with open(self.cache_path, "a") as f:
                    f.write(json.dumps({"key": key, "verdict": verdict}) + "\n")
                return verdict
        return None

    def _local(self, record, output, prompt, temperature) -> str:
        from ..models import Sampling, generate
        sampling = Sampling(temperature=temperature, max_new_tokens=4)
        seeds = [int(self.key(record, output)[:8], 16)] if temperature > 0 else None
        messages = [{"role": "user", "content": prompt}]
        return generate(self._bundle, [messages], sampling, seeds=seeds)[0].text

    def _endpoint(self, record, output, prompt, temperature) -> str:
        from ..models import Sampling
        from ..models.served import ChatEndpoint
        if getattr(self, "_client", None) is None:
            self._client = ChatEndpoint(self.target, self.model, **self._endpoint_options)
        try:
            reply = self._client.complete([{"role": "user", "content": prompt}],
                                          Sampling(temperature=temperature, max_new_tokens=4))
        except ServiceError as e:
            raise ServiceError(f"judge {e}") from None
        return reply.text
