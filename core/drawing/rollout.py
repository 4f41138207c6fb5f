"""Sampling whole trajectories from a model: single-turn, or the multi-turn drawing loop.

    trajectories = rollout(bundle, prompts, RolloutConfig(tools="draw", max_turns=10), seeds)

Every active trajectory is advanced one assistant turn per round, all of them in one batched
generation call (left-padded, per-sample seeds), so a round costs one decode of the longest
turn rather than one per trajectory. With tools="draw" each turn goes through the drawing
environment (env.py): its new images come back as the next user turn and the trajectory ends
for the environment's reasons (answer, no_op, bad_op, max_turns, turn_tokens, ...). Without
tools a trajectory is one completion, ending with the generation's reason (stop, eos, length).

Seeds: turn t of a trajectory with seed s samples with seed s * 1009 + t, so a trajectory is
reproducible from the one seed recorded with it, whatever else shares its batch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..models.chat import prompt_messages, record_messages
from ..records.media import open_image
from . import prompts as texts
from .env import DrawConfig, DrawingEnv


@dataclass(frozen=True)
class RolloutConfig:
    """How trajectories are sampled.

    tools             None (one completion) | "draw" (the multi-turn drawing loop)
    max_turns         assistant turns of a drawing trajectory, the answer turn included
    max_images        images in a drawing conversation, the inputs included
    max_turn_tokens   tokens per assistant turn
    max_total_tokens  tokens over all assistant turns
    temperature       0 decodes greedily; top_p, top_k: nucleus and top-k (0: off)
    batch_size        trajectories advanced together in one generation call
    dialect           how turns draw: vilasr | tool_call | auto (from the text)
    on_error          a turn whose drawing does not parse: end the trajectory | observe the error
    decoder           who decodes: hf | loop | static (core/models/decoding.py; media: hf)
    """
    tools: str | None = None
    max_turns: int = 10
    max_images: int = 42
    max_turn_tokens: int = 1024
    max_total_tokens: int = 8192
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    batch_size: int = 16
    dialect: str = "auto"
    on_error: str = "end"
    decoder: str = "hf"


@dataclass
class Trajectory:
    messages: list[dict]              # the prompt, then assistant/user turns (images as PIL)
    seed: int
    env: DrawingEnv | None = None
    turns: int = 0
    tokens: int = 0
    done: bool = False
    reason: str | None = None
    completion_tokens: list[int] = field(default_factory=list)
    turn_ids: list[list[int]] = field(default_factory=list)  # each turn's tokens, as sampled

    @property
    def response(self) -> str:
        """The last assistant turn's text."""
        for m in reversed(self.messages):
            if m["role"] == "assistant":
                return m["content"]
        return ""


def _with_image_indices(messages: list[dict]) -> list[dict]:
    """VILASR introduces every input image by its index and size; add that after each image."""
    out, k = [], 0
    for m in messages:
        content = m.get("content")
        if m.get("role") != "user" or not isinstance(content, list):
            out.append(m)
            continue
        parts = []
        for part in content:
            parts.append(part)
            if isinstance(part, dict) and part.get("type") == "image":
                k += 1
                w, h = open_image(part["image"]).size
                parts.append({"type": "text", "text": texts.IMAGE_INDEX.format(
                    index=k, width=w, height=h) + " "})
        out.append({**m, "content": parts})
    return out


def prompt_for(record: dict, system: str | None = None, drawing: bool = False) -> list[dict]:
    """The conversation to sample from: `messages` before the first assistant turn, else a
    prompt built from question/options/images (with VILASR's system prompt and image indices
    when drawing)."""
    messages = record_messages(record)
    if isinstance(messages, list) and messages:
        first = next((i for i, m in enumerate(messages) if m.get("role") == "assistant"),
                     len(messages))
        prompt = list(messages[:first])
        if system and (not prompt or prompt[0].get("role") != "system"):
            prompt.insert(0, {"role": "system", "content": system})
        return prompt
    system = system or (texts.SYSTEM_VILASR if drawing else None)
    prompt = prompt_messages(record, system)
    return _with_image_indices(prompt) if drawing else prompt


def _images(messages: list[dict]) -> list:
    refs = [p["image"] for m in messages if isinstance(m.get("content"), list)
            for p in m["content"] if isinstance(p, dict) and p.get("type") == "image"]
    return [open_image(r) for r in refs]


def start(prompt: list[dict], seed: int, config: RolloutConfig) -> Trajectory:
    env = None
    if config.tools == "draw":
        env = DrawingEnv(_images(prompt), DrawConfig(
            max_turns=config.max_turns, max_images=config.max_images,
            max_total_tokens=config.max_total_tokens,  # per-turn cut-offs: _advance
            dialect=config.dialect, on_error=config.on_error))
    return Trajectory(list(prompt), seed, env)


def _advance(t: Trajectory, completion, config: RolloutConfig) -> None:
    t.turns += 1
    t.tokens += len(completion.token_ids)
    t.completion_tokens.append(len(completion.token_ids))
    t.turn_ids.append(completion.sampled_ids)
    t.messages.append({"role": "assistant", "content": completion.text})
    if t.env is None:
        t.done, t.reason = True, completion.finish_reason
        return
    if completion.finish_reason == "length":  # cut off mid-turn: the reference ends here too
        t.env.step(completion.text, tokens=len(completion.token_ids))
        t.done, t.reason = True, "turn_tokens"
        return
    step = t.env.step(completion.text, tokens=len(completion.token_ids))
    if step.done:
        t.done, t.reason = True, step.reason
    elif step.observation is not None:
        t.messages.append({"role": "user", "content": step.observation})


def rollout(bundle, prompts: list[list[dict]], config: RolloutConfig,
            seeds: list[int]) -> list[Trajectory]:
    """One trajectory per prompt (repeat a prompt to sample it several times)."""
    from ..models import Sampling, generate_rendered, render

    trajs = [start(p, s, config) for p, s in zip(prompts, seeds)]
    first_turn: dict[int, tuple] = {}   # a prompt sampled G times is rendered once
    origin = {id(t): id(p) for t, p in zip(trajs, prompts)}
    while True:
        active = [t for t in trajs if not t.done]
        if not active:
            return trajs
        for i in range(0, len(active), config.batch_size):
            chunk = active[i:i + config.batch_size]
            # the same budget for every row (a row's sample must not depend on its batch); the
            # environment ends trajectories over their total budget
            sampling = Sampling(max_new_tokens=config.max_turn_tokens, temperature=config.temperature,
                                top_p=config.top_p, top_k=config.top_k,
                                stop=("</answer>",) if config.tools else (), include_stop=True,
                                decoder=config.decoder)
            seeds_now = [t.seed * 1009 + t.turns for t in chunk] if config.temperature > 0 else None
            rendered = []
            for t in chunk:
                if t.turns == 0:
                    key = origin[id(t)]
                    if key not in first_turn:
                        first_turn[key] = render(bundle, t.messages)
                    rendered.append(first_turn[key])
                else:
                    rendered.append(render(bundle, t.messages))
            outs = generate_rendered(bundle, rendered, sampling, seeds_now)
            for t, out in zip(chunk, outs):
                _advance(t, out, config)
