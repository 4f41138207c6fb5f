"""A served model: an OpenAI-compatible chat endpoint (vLLM, SGLang, llama.cpp's server, TGI and
the hosted APIs all speak it).

    endpoint = ChatEndpoint("http://127.0.0.1:8000/v1", model="qwen2.5-vl-7b")
    out = endpoint.complete(messages, Sampling(temperature=0, max_new_tokens=256), seed=7)
    out.text, out.finish_reason

Messages are DESIGN.md chat turns: image parts go as base64 `data:` URLs (`image_url`), audio
parts as `input_audio` (base64 WAV). Each request has a timeout and is retried with exponential
back-off and jitter (core/backoff.py: 0.25-0.5 s, 0.5-1 s, 1-2 s, ... at most 8 s) on a
connection error, a timeout, a 408, 429 or 5xx status, a body cut short, or a reply that is not
the chat-completion JSON; after the last try a ServiceError (exit 69) names the URL and what
failed. The key comes from OPENAI_API_KEY when it is set.
"""
from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from ..backoff import TRANSIENT, delay
from ..errors import ServiceError
from ..records import media


@dataclass
class Reply:
    text: str
    finish_reason: str | None     # stop | length | ... as the server says


def _part(part) -> dict:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "image":
        data = media.load_bytes(part["image"]) if not hasattr(part["image"], "save") else \
            media.png_bytes(part["image"])
        mime = "image/" + media.extension(data, media.ref_path(part["image"])).lstrip(".") \
            .replace("jpg", "jpeg")
        return {"type": "image_url",
                "image_url": {"url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}}
    if kind == "audio":
        data = media.load_bytes(part["audio"])
        fmt = media.extension(data, media.ref_path(part["audio"])).lstrip(".") or "wav"
        return {"type": "input_audio",
                "input_audio": {"data": base64.b64encode(data).decode(), "format": fmt}}
    if kind == "text":
        return {"type": "text", "text": part.get("text", "")}
    raise ValueError(f"a {kind!r} part cannot be sent to a chat endpoint")


def wire_messages(messages: list[dict]) -> list[dict]:
    """DESIGN.md turns -> OpenAI chat messages (text content stays a string)."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = [_part(p) for p in content]
        out.append({"role": m["role"], "content": content})
    return out


class ChatEndpoint:
    """`retries` tries at most, each within `timeout` seconds, with delay(attempt, backoff)
    seconds between them (core/backoff.py)."""

    def __init__(self, url: str, model: str | None = None, timeout: float = 120.0,
                 retries: int = 4, backoff: float = 0.5):
        base = url.rstrip("/")
        self.url = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model, self.timeout, self.retries = model, timeout, max(1, retries)
        self.backoff = backoff

    def _post(self, body: bytes) -> dict:
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = f"Bearer {os.environ['OPENAI_API_KEY']}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())

    def request(self, payload: dict) -> dict:
        """POST a chat-completion request; the reply's first choice, after the retries."""
        body, error = json.dumps({"model": self.model or "default", **payload}).encode(), None
        for attempt in range(self.retries):
            try:
                reply = self._post(body)
                choice = reply["choices"][0]
                if not isinstance(choice["message"].get("content") or "", str):
                    raise TypeError("content is not text")
                return choice
            except urllib.error.HTTPError as e:
                error = f"HTTP {e.code}"
                if e.code not in (408, 429) and e.code < 500:
                    break                                   # a 4xx other than these: no retry
            except TRANSIENT as e:
                error = f"{type(e).__name__}: {getattr(e, 'reason', e)}"
            except (ValueError, KeyError, IndexError, TypeError) as e:
                error = f"a reply that is not a chat completion ({type(e).__name__})"
            if attempt < self.retries - 1:
                time.sleep(delay(attempt, self.backoff))
        raise ServiceError(f"{self.url}: {error} after {self.retries} tries")

    def complete(self, messages: list[dict], sampling, seed: int | None = None) -> Reply:
        payload = {"messages": wire_messages(messages), "max_tokens": sampling.max_new_tokens,
                   "temperature": sampling.temperature, "top_p": sampling.top_p}
        if sampling.stop:
            payload["stop"] = list(sampling.stop)
        if seed is not None:
            payload["seed"] = seed
        choice = self.request(payload)
        return Reply(choice["message"].get("content") or "", choice.get("finish_reason"))
