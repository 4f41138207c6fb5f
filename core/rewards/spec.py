"""Reward specs, the same for every tool (`--reward SPEC`, repeatable):

    accuracy        the record's answer checked by its question type (score.py); 0 when unread
    format          <think>...</think><answer>...</answer> shape of the output
    vilasr_format   VILASR's multi-turn shape (formats.py)
    reflection      a drawing revised under its label
    vilasr          VILASR's RL reward: 0.5 accuracy + 0.5 format when accuracy > 0, else 0
                    (accuracy by its own rules: exact option letter, strict MRA for numbers)
    module:function a Python function given the whole record; returns a float, a dict of named
                    float components, or None (the sample is skipped)
    http(s)://...   POST {"record": ...} as JSON; the reply is a number, {"reward": x},
                    {"rewards": {...}} or null; inline media bytes are sent as their paths only.
                    30 s timeout and 3 tries, with jittered exponential back-off between them
                    (core/backoff.py) on a refused connection, a timeout, an HTTP error, a body
                    cut short or one that is not JSON; then a ServiceError (exit 69) names the
                    URL. A JSON reply of another shape is a ServiceError at once.

load_reward(spec) returns a function record -> {component: float} or None; an endpoint's has
`remote = True`: only those are safe to call from threads (math-verify's timer is a SIGALRM,
which off the main thread fails, so a math answer would score 0).
"""
from __future__ import annotations

import json
import time
import urllib.request
from typing import Any, Callable

from ..backoff import TRANSIENT, delay
from ..errors import ServiceError, UsageError
from ..plugins import load_function
from .compat import vilasr_accuracy
from .formats import assistant_turns, reflection, think_answer, vilasr_format
from .score import NotScorable, score_record

RewardFn = Callable[[dict], "dict[str, float] | None"]


def _accuracy(record: dict) -> float:
    scored = score_record(record)
    return scored.score or 0.0


def _last(record: dict) -> str:
    turns = assistant_turns(record)
    return turns[-1] if turns else ""


def _vilasr(record: dict) -> float:
    acc = vilasr_accuracy(record)
    return 0.5 * acc + 0.5 * vilasr_format(assistant_turns(record)) if acc > 0 else 0.0


NEEDS_ANSWER = {"accuracy", "vilasr"}      # built-ins that compare with a gold `answer`
BUILTINS: dict[str, Callable[[dict], float]] = {
    "accuracy": _accuracy,
    "format": lambda r: think_answer(_last(r)),
    "vilasr_format": lambda r: vilasr_format(assistant_turns(r)),
    "reflection": lambda r: reflection(assistant_turns(r)),
    "vilasr": _vilasr,
}


def _normalise(name: str, value: Any) -> dict[str, float] | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        raise TypeError(f"reward {name} returned {type(value).__name__}; want a number, a dict "
                        "of numbers or None")
    if isinstance(value, dict):
        return {f"{name}.{k}" if k != name else k: float(v) for k, v in value.items()}
    return {name: float(value)}


def _python(spec: str) -> RewardFn:
    fn, attr = load_function(spec, "--reward"), spec.partition(":")[2]
    return lambda record: _normalise(attr, fn(record))


def _without_bytes(value: Any) -> Any:
    if isinstance(value, dict):
        if value.keys() == {"path", "bytes"}:
            return value["path"]
        return {k: _without_bytes(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_bytes(v) for v in value]
    return value


def http_reward(url: str, timeout: float = 30.0, tries: int = 3, backoff: float = 0.5) -> RewardFn:
    """The reward function of an http(s) spec: `tries` POSTs at most, each within `timeout`
    seconds, with delay(attempt, backoff) between them."""
    def call(record: dict) -> dict[str, float] | None:
        body = json.dumps({"record": _without_bytes(record)}, default=str).encode()
        error = None
        for attempt in range(tries):
            request = urllib.request.Request(url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    reply = json.loads(response.read() or b"null")
                break
            except (*TRANSIENT, ValueError) as e:
                error = f"{type(e).__name__}: {e}"
                if attempt < tries - 1:
                    time.sleep(delay(attempt, backoff))
        else:
            raise ServiceError(f"reward endpoint {url} failed {tries} times: {error}")
        if isinstance(reply, dict) and "rewards" in reply:
            reply = reply["rewards"]
        elif isinstance(reply, dict) and "reward" in reply:
            reply = reply["reward"]
        try:
            return _normalise("http", reply)
        except TypeError:
            raise ServiceError(f"reward endpoint {url} replied {str(reply)[:80]!r}") from None
    call.remote = True        # what a caller may run in threads (tools/grpo/collect.py)
    return call


def load_reward(spec: str) -> RewardFn:
    spec = spec.strip()
    if spec in BUILTINS:
        fn = BUILTINS[spec]
        return lambda record: {spec: fn(record)}
    if spec.startswith(("http://", "https://")):
        return http_reward(spec)
    if ":" in spec:
        return _python(spec)
    raise UsageError(f"unknown reward {spec!r}: use one of {', '.join(BUILTINS)}, "
                     "module:function or an http(s):// URL")


__all__ = ["load_reward", "http_reward", "BUILTINS", "NEEDS_ANSWER", "RewardFn", "NotScorable"]
