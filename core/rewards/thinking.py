"""SophiaVL-R1's thinking reward: a model grades the reasoning of a whole response, 0 to 1.

    scorer = load_thinking_scorer("http://127.0.0.1:8000/v1", model_name="thinking-reward-model")
    scorer = load_thinking_scorer("models/trm-3b")          # a local VLM or causal LM (greedy)
    scorer = load_thinking_scorer("mypkg.trm:score")        # fn(record, response) -> float | None
    scorer.score([(record, response), ...]) -> [0.7, 0.0, ...]; scorer.delta() -> calls, failures, s

The grader sees RUBRIC (our wording of the paper's App. B criteria: reasoning only, not the final
answer; logical soundness, correct reasoning, error identification, language consistency,
redundancy; a score from 0 to 1 in steps of 0.1), "Question: ..." (the record's question with its
lettered options, or the text of its prompt turns without the system turn), "Reasoning process:
..." (the WHOLE response, <answer> included, as the released code sends it) and the answer format
line, plus the record's first image (`images[0]` or the first image part of `messages`) when the
grader can see images (a VLM folder, or an endpoint: a base64 data URL). A text-only model gets
the text alone. The paper's TRM (Qwen2.5-VL-3B SFT'd on 72B-graded pairs) was trained on the
paper's own prompt; pass `rubric=` to use other wording.

Paper vs released code (verl/workers/reward/custom.py): the paper describes the TRM; the code
POSTs to a vLLM server with temperature 0, a 60 s timeout and 10 retries (linear back-off) and
scores 0 on failure. We do the same (temperature 0, seed 0, 60 s) except that retries default to
3, with ChatEndpoint's jittered exponential back-off (core/backoff.py: 0.25-0.5 s, 0.5-1 s, ...
at most 8 s).

Failures never stop training: an unparseable reply, a ServiceError after the last retry (an
endpoint down or answering nonsense), an exception in a plugin, an unreadable image, or NaN all
score 0.0 and are counted in stats(); the first failure of each kind logs one warning on the
"thinkpipe.grpo" logger. A dead endpoint thus turns the thinking reward off (every R^t = 0) rather
than killing a long run; the trainer should log `failures` per step so it is seen. A local
model's own errors (out of memory, a broken folder) do propagate: they are no transient fault.

parse_score reads a reply by a cascade: the last \\boxed{x} (or \\box{x}), else the last
<answer>x</answer>, else the first bare number in [0, 1] (after the last </think> when there is
one), else the first number after </think>. A marked score (boxed, answer tag, after </think>)
is clipped to [0, 1]: <answer>1.5</answer> -> 1.0, <answer>-0.2</answer> -> 0.0. A bare number
outside [0, 1] is not taken for a score ("Score: 1.5" -> None, "Score: 7" -> None). "70%" reads
0.7 and "7/10" reads 0.7 (a grader that answers on another scale still means the fraction).
"""
from __future__ import annotations

import logging
import math
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..errors import ServiceError, UsageError
from ..models.chat import image_refs, media_list, options_text
from ..plugins import load_function, spec_kind
from ..tags import spans
from .bounds import tail

log = logging.getLogger("thinkpipe.grpo")

RUBRIC = """You will assess the reasoning process in a model's response to a question (an image \
may come with the question). Grade the quality of the reasoning itself; whether the final answer \
is right does not matter. Weigh these criteria:
1. Logical soundness: every step follows from the given information and the steps before it, \
without gaps or unjustified leaps.
2. Correct reasoning: the facts, calculations and readings of the image used along the way are \
accurate, and the approach fits the problem.
3. Error identification: mistakes made along the way are noticed and fixed, not carried forward.
4. Language consistency: the reasoning stays in one language and uses its terms consistently.
5. Redundancy: no needless repetition, going in circles or filler.
Give a single score between 0 and 1 in steps of 0.1 (0: no valid reasoning, 1: flawless \
reasoning). Output the score only, in the format below, with nothing else."""
ANSWER_FORMAT = "Your response format: <answer>your_score</answer>"
WORKERS = 8     # concurrent requests to an endpoint
SEED = 0

_NUMBER = re.compile(r"(?<![\w.])(?P<num>-?(?:\d+(?:\.\d+)?|\.\d+))"
                     r"(?:\s*/\s*(?P<den>\d+(?:\.\d+)?))?(?P<pct>\s*\\?%)?")
_BOXED = re.compile(r"\\box(?:ed)?\s*\{([^{}]*)\}")


def _answers(text: str) -> list[str]:
    """Every <answer>...</answer> block, any ASCII case (tags.spans: linear; the lazy regex
    rescanned to the end from every unclosed tag)."""
    return [text[a:b] for a, b in spans(text, "<answer>", "</answer>", fold=True)]


def _numbers(text: str):
    """The numbers in `text`, in order: 0.7, -2, 7/10 -> 0.7, 70% -> 0.7."""
    for m in _NUMBER.finditer(text):
        value, den = float(m["num"]), m["den"]
        if den is not None:
            if float(den) == 0:
                continue
            value /= float(den)
        elif m["pct"]:
            value /= 100
        yield value


def _clip(value: float) -> float | None:
    return None if math.isnan(value) else min(1.0, max(0.0, value))


def parse_score(text: str) -> float | None:
    """The score in a grader's reply (the cascade in the module docstring), or None."""
    if not isinstance(text, str):
        return None
    text = tail(text)[0]                        # bounded time on any reply (bounds.py)
    for found in (_BOXED.findall, _answers):
        for inner in reversed(found(text)):
            value = next(_numbers(inner), None)
            if value is not None:
                return _clip(value)
    _, think, rest = text.rpartition("</think>")
    bare = next((v for v in _numbers(rest if think else text) if 0.0 <= v <= 1.0), None)
    if bare is not None:
        return bare
    after = next(_numbers(rest), None) if think else None
    return None if after is None else _clip(after)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content
                       if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _prompt_turns(record: dict) -> list[dict]:
    for key in ("messages", "prompt"):
        turns = record.get(key)
        if isinstance(turns, list):
            turns = [m for m in turns if isinstance(m, dict)]
            while turns and turns[-1].get("role") == "assistant":
                turns = turns[:-1]                  # the record's own answer is no question
            return turns
    return []


def question_text(record: dict) -> str:
    """The question with its lettered options, else the text of the prompt turns (no system)."""
    question = record.get("question")
    if not isinstance(question, str):
        question = record.get("prompt") if isinstance(record.get("prompt"), str) else None
    if question is None:
        texts = [_text(m.get("content")) for m in _prompt_turns(record)
                 if m.get("role") != "system"]
        return "\n".join(t for t in texts if t).replace("<image>", "").strip()
    if record.get("options"):
        question += "\n" + options_text(record["options"])
    return question.replace("<image>", "").strip()


def first_image(record: dict) -> Any:
    """The record's first image reference: `images[0]`, else the first image part, else None."""
    images = media_list(record.get("images"))
    if images:
        return images[0]
    return next((ref for ref in image_refs(_prompt_turns(record)) if ref is not None), None)


def thinking_prompt(record: dict, response: str, *, image: bool = True,
                    rubric: str = RUBRIC) -> list[dict]:
    """One user turn: rubric, question, the whole response, the answer format; the record's first
    image as a part before the text (unless image=False or the record has none)."""
    text = (f"{rubric}\n\nQuestion: {question_text(record)}\n\n"
            f"Reasoning process: {response}\n\n{ANSWER_FORMAT}")
    ref = first_image(record) if image else None
    if ref is None:
        return [{"role": "user", "content": text}]
    return [{"role": "user", "content": [{"type": "image", "image": ref},
                                         {"type": "text", "text": text}]}]


def sft_record(record: dict, field: str = "score") -> dict:
    """A training example for a thinking reward model (`sft --as-thinking-reward FIELD`): the
    rubric prompt of the record's question and `response`, answered `<answer>score</answer>`
    with the record's FIELD (a dotted path such as rewards.thinking) rounded to SophiaVL's 0.1
    steps. ValueError when the record has no response or no score in [0, 1]."""
    from thinkpipe.core.records.stream import lookup
    from thinkpipe.core.rewards import prediction

    response, score = prediction(record), lookup(record, field)
    if not isinstance(response, str):
        raise ValueError("no `response` (or assistant turn) to grade")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 1:
        raise ValueError(f"`{field}` is {score!r}, not a score in [0, 1]")
    prompt = thinking_prompt({k: v for k, v in record.items() if k != "messages"}
                             if isinstance(record.get("question"), str) else record, response)
    out = {k: v for k, v in record.items() if k in ("id", "images")}
    return {**out, "messages": prompt + [{"role": "assistant",
                                          "content": f"<answer>{round(score * 10) / 10:.1f}</answer>"}]}


class ThinkingScorer:
    """Scores (record, response) pairs with a grader; see load_thinking_scorer and the module
    docstring. `calls`, `failures` and `seconds` add up over every score() call."""

    def __init__(self, name: str, kind: str, backend: Any, rubric: str = RUBRIC,
                 max_new_tokens: int = 16, batch_size: int = 8, workers: int = WORKERS):
        self.name, self.kind, self.backend, self.rubric = name, kind, backend, rubric
        self.max_new_tokens, self.batch_size, self.workers = max_new_tokens, batch_size, workers
        self.calls = self.failures = 0
        self.seconds = 0.0
        self._mark = (0, 0, 0.0)
        self._warned: set[str] = set()

    def score(self, items: list[tuple[dict, str]]) -> list[float]:
        """One score in [0, 1] per (record, response); a failure scores 0.0 and is counted."""
        items = list(items)
        if not items:
            return []
        start = time.perf_counter()
        ask = {"model": self._local, "endpoint": self._endpoint, "function": self._function}
        replies = ask[self.kind](items)
        scores = [self._read(reply) for reply in replies]
        self.calls += len(items)
        self.failures += sum(s is None for s in scores)
        self.seconds += time.perf_counter() - start
        return [0.0 if s is None else s for s in scores]

    def stats(self) -> dict:
        """Cumulative {"calls", "failures", "seconds"}."""
        return {"calls": self.calls, "failures": self.failures, "seconds": self.seconds}

    def delta(self) -> dict:
        """stats() since the last delta() (or reset_stats()): for per-step logging."""
        now = (self.calls, self.failures, self.seconds)
        out = dict(zip(("calls", "failures", "seconds"), (a - b for a, b in zip(now, self._mark))))
        self._mark = now
        return out

    def reset_stats(self) -> None:
        self.calls = self.failures = 0
        self.seconds = 0.0
        self._mark = (0, 0, 0.0)

    def _warn_once(self, kind: str, message: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning("thinking reward %s: %s; such failures score 0 and are counted, "
                        "training goes on", self.name, message)

    def _read(self, reply: Any) -> float | None:
        """A reply (text, a number, None or the exception it ended in) -> score or None."""
        if isinstance(reply, ServiceError):
            self._warn_once("service", str(reply))
            return None
        if isinstance(reply, BaseException):
            self._warn_once(type(reply).__name__, f"{type(reply).__name__}: {reply}")
            return None
        if reply is None:
            self._warn_once("none", "no score (None)")
            return None
        if isinstance(reply, (int, float)):
            score = _clip(float(reply))
        else:
            score = parse_score(str(reply))
        if score is None:
            self._warn_once("unparseable", f"a reply with no score: {str(reply)[:80]!r}")
        return score

    def _prompt(self, record: dict, response: str, image: bool = True) -> list[dict]:
        return thinking_prompt(record, response, image=image, rubric=self.rubric)

    def _local(self, items: list[tuple[dict, str]]) -> list[Any]:
        """Greedy replies of a local model, batch_size prompts at a time."""
        from ..models import Sampling, generate_rendered
        from ..models.chat import render

        bundle = self.backend
        replies: list[Any] = [None] * len(items)
        rendered = []
        for i, (record, response) in enumerate(items):
            try:
                messages = self._prompt(record, response, image="image" in bundle.media_kinds)
                rendered.append((i, render(bundle, messages)))
            except (ValueError, OSError) as e:       # an image that cannot be read
                replies[i] = e
        sampling = Sampling(temperature=0.0, max_new_tokens=self.max_new_tokens)
        for start in range(0, len(rendered), self.batch_size):
            chunk = rendered[start:start + self.batch_size]
            for (i, _), out in zip(chunk, generate_rendered(bundle, [p for _, p in chunk],
                                                            sampling)):
                replies[i] = out.text
        return replies

    def _endpoint(self, items: list[tuple[dict, str]]) -> list[Any]:
        """Replies of an OpenAI-compatible endpoint, `workers` requests at a time."""
        from ..models import Sampling

        sampling = Sampling(temperature=0.0, max_new_tokens=self.max_new_tokens)

        def ask(item):
            try:
                return self.backend.complete(self._prompt(*item), sampling, seed=SEED).text
            except Exception as e:                  # ServiceError, an unreadable image, ...
                return e

        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(items)))) as pool:
            return list(pool.map(ask, items))

    def _function(self, items: list[tuple[dict, str]]) -> list[Any]:
        """What fn(record, response) returns for each pair (a str reply is parsed)."""
        replies: list[Any] = []
        for record, response in items:
            try:
                replies.append(self.backend(record, response))
            except Exception as e:                   # a plugin's bug must not stop training
                replies.append(e)
        return replies


def load_thinking_scorer(spec: str, model_name: str | None = None, timeout: float = 60.0,
                         retries: int = 3, max_new_tokens: int = 16, batch_size: int = 8,
                         rubric: str = RUBRIC) -> ThinkingScorer:
    """A scorer from `--thinking-reward SPEC`: an http(s):// URL (OpenAI-compatible; model_name
    is the served model's name, the release serves "thinking-reward-model"), a local model
    folder, or module:function. UsageError for anything else."""
    option = "--thinking-reward"
    common = dict(rubric=rubric, max_new_tokens=max_new_tokens, batch_size=batch_size)
    kind = spec_kind(spec)
    if kind == "url":
        from ..models.served import ChatEndpoint
        client = ChatEndpoint(spec, model_name, timeout=timeout, retries=retries)
        name = spec if model_name is None else f"{spec}#{model_name}"
        return ThinkingScorer(name, "endpoint", client, **common)
    if kind == "folder":
        from ..models import load
        return ThinkingScorer(spec, "model", load(spec), **common)
    if kind == "function":
        fn: Callable = load_function(spec, option)
        return ThinkingScorer(spec, "function", fn, **common)
    raise UsageError(f"{option} {spec}: not a model folder, an http(s):// URL or module:function")
