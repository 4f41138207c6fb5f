"""Samples: where they come from (a rollout, or a record's `responses`) and how they are judged."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thinkpipe.core.drawing.rollout import prompt_for
from thinkpipe.core.records import media
from thinkpipe.core.rewards import (finish_reason, reflection, score_record, think_answer,
                                    vilasr_format)


@dataclass
class Sample:
    k: int
    messages: list[dict]          # prompt + sampled turns (new images as PIL objects)
    prompt_len: int
    seed: int | None = None
    finish_reason: str | None = None   # stop | eos | length | answer | turn_tokens | ...
    status: str = ""
    score: float | None = None
    extracted: Any = None
    format: float = 0.0
    reflection: float = 0.0
    rewards: dict = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    accepted: bool = False

    @property
    def turns(self) -> int:
        return sum(1 for m in self.messages[self.prompt_len:] if m.get("role") == "assistant")

    @property
    def reward(self) -> float:
        return sum(self.rewards.values())

    def assistant_texts(self) -> list[str]:
        return [_text(m["content"]) for m in self.messages[self.prompt_len:]
                if m.get("role") == "assistant"]


def _text(content) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text", "") for p in content or [] if isinstance(p, dict))


def carried_responses(record: dict):
    """The samples a record carries: `responses`, else one `response` (a grpo rollout, an eval
    output) — with its assistant `turns` as one multi-turn sample when a rollout has them."""
    if isinstance(record.get("responses"), list):
        return record["responses"]
    response = record.get("response")
    if not isinstance(response, str):
        return None
    turns = record.get("turns")
    if isinstance(turns, list) and len(turns) > 1 and all(isinstance(t, str) for t in turns) \
            and turns[-1] == response:
        return [[{"role": "assistant", "content": t} for t in turns]]
    return [response]


def samples_from_record(record: dict, where: str) -> list[Sample]:
    """Samples a record already carries in `responses` (or `response`): strings (one assistant
    turn each) or message lists (the turns after the prompt, or a whole conversation with its
    prompt)."""
    responses = carried_responses(record)
    if responses is None:
        raise ValueError("no `responses` to filter (give --model to sample)")
    try:
        prompt = prompt_for(record)
    except ValueError:        # no question: the samples are judged on their own
        prompt = []
    seeds = record.get("seeds") if isinstance(record.get("seeds"), list) else \
        [record["seed"]] if "responses" not in record and "seed" in record else []
    single = "responses" not in record     # one carried `response`: its finish_reason is its own
    reason = finish_reason(record) if single else None
    out = []
    for k, resp in enumerate(responses):
        if isinstance(resp, str):
            messages, n = prompt + [{"role": "assistant", "content": resp}], len(prompt)
        elif isinstance(resp, list) and all(isinstance(m, dict) for m in resp):
            whole = any(m.get("role") in ("system", "user") for m in resp[:1])
            messages = resp if whole else prompt + resp
            n = next((i for i, m in enumerate(messages) if m.get("role") == "assistant"),
                     len(messages)) if whole else len(prompt)
        else:
            raise ValueError(f"responses[{k}] is neither text nor a list of messages")
        out.append(Sample(k, messages, n, seeds[k] if k < len(seeds) else None, reason))
    return out


def from_trajectory(traj, k: int, prompt_len: int) -> Sample:
    return Sample(k, traj.messages, prompt_len, traj.seed, traj.reason)


def judge_sample(sample: Sample, record: dict, config, reward_fns) -> None:
    """Score a sample: correctness (core.rewards), format, reflection, --reward components."""
    drawing = config.rollout.tools == "draw" or any(
        "Action:" in t for t in sample.assistant_texts())
    view = {k: v for k, v in record.items()
            if k not in ("responses", "response", "seeds", "finish_reason", "end_reason")}
    view["messages"] = sample.messages
    if sample.finish_reason is not None:      # a cut-off sample is truncated, not scored
        view["finish_reason"] = sample.finish_reason
    scored = score_record(view)
    sample.status, sample.score, sample.extracted = scored.status, scored.score, scored.extracted
    texts = sample.assistant_texts()
    sample.format = vilasr_format(texts) if drawing else think_answer(texts[-1] if texts else "")
    sample.reflection = reflection(texts)
    for fn in reward_fns or ():
        components = fn(view)
        if components:
            sample.rewards.update(components)


def _png_ref(image, name: str) -> dict:
    return {"path": name, "bytes": media.png_bytes(image, compress_level=1)}


def _encode(messages: list[dict], sid: str) -> list[dict]:
    """PIL images rendered during the rollout -> inline PNG references."""
    out, n = [], 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            parts = []
            for p in content:
                if isinstance(p, dict) and p.get("type") == "image" and hasattr(p.get("image"), "save"):
                    n += 1
                    p = {"type": "image", "image": _png_ref(p["image"], f"{sid}-{n}.png")}
                parts.append(p)
            m = {**m, "content": parts}
        out.append(m)
    return out


def to_record(sample: Sample, record: dict, rid: str) -> dict:
    """The output record: the source record's fields, the sampled conversation, the judgement."""
    sid = f"{rid}-s{sample.k}"
    base = {k: v for k, v in record.items() if k not in ("responses", "response", "seeds", "id")}
    out = {"id": sid, "source_id": rid, **base, "messages": _encode(sample.messages, sid),
           "sample": sample.k, "seed": sample.seed, "num_turns": sample.turns,
           "finish_reason": sample.finish_reason, "status": sample.status, "score": sample.score,
           "extracted": sample.extracted, "format": sample.format,
           "reflection": sample.reflection, "rewards": sample.rewards}
    if not sample.accepted:
        out["rejected_for"] = sample.failed
    return out
