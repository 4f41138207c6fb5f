"""Format rewards and reflection: is the output shaped the way the method demands?

    think_answer    1 if the whole output is <think>...</think> then <answer>...</answer>
                    (Video-R1's fullmatch; only whitespace allowed around and between)
    vilasr_format   1 if every assistant turn starts with a think block followed by `Action:`,
                    only the last turn holds <answer>...</answer>, and every drawing block parses
                    into valid operations (VILASR's gcot format check)
    reflection      1 if a drawing label is redrawn with a different shape (boxes and lines;
                    core.drawing.reflection)
"""
from __future__ import annotations

import re

from ..drawing import has_reflection, parse_turn

THINK_THEN_ANSWER = re.compile(r"</think>\s*<answer>")
THINK_THEN_ACTION = re.compile(r"</think>\s*Action:")


def think_answer(output: str) -> float:
    r"""1 when `output` fullmatches \s*<think>.*?</think>\s*<answer>.*?</answer>\s* (DOTALL),
    decided in linear time: it opens with <think>, ends with </answer>, and some </think> is
    followed (after whitespace) by an <answer> that opens before that final </answer>."""
    if not isinstance(output, str):
        return 0.0
    body = output.strip()
    if not (body.startswith("<think>") and body.endswith("</answer>")):
        return 0.0
    lead = len(output) - len(output.lstrip())
    m = THINK_THEN_ANSWER.search(output, lead + len("<think>"))
    return float(m is not None and m.end() <= lead + len(body) - len("</answer>"))


def turn_head(text: str) -> bool:
    r"""`text` starts with \s*<think>.*?</think>\s*Action: (linear time)."""
    start = len(text) - len(text.lstrip())
    return text.startswith("<think>", start) and \
        THINK_THEN_ACTION.search(text, start + len("<think>")) is not None


def _text(content) -> str:
    return content if isinstance(content, str) else "".join(
        p.get("text", "") for p in content or [] if isinstance(p, dict))


def message_turns(record: dict) -> list[str]:
    """The assistant turns of `messages` (text parts joined)."""
    messages = record.get("messages")
    if not isinstance(messages, list):
        return []
    return [_text(m.get("content")) for m in messages
            if isinstance(m, dict) and m.get("role") == "assistant"]


def prediction_source(record: dict) -> str | None:
    """Which field holds the prediction: `response` first (DESIGN.md), then `messages`."""
    if isinstance(record.get("response"), str):
        return "response"
    return "messages" if message_turns(record) else None


def assistant_turns(record: dict) -> list[str]:
    """The turns to score: [`response`] when the record has one, else the assistant turns of
    `messages` (a synth-draw record carries its gold trace in `messages`; a `response` added to
    it is what is being scored)."""
    if prediction_source(record) == "response":
        return [record["response"]]
    return message_turns(record)


def vilasr_format(turns: list[str]) -> float:
    if not turns:
        return 0.0
    for i, text in enumerate(turns):
        last = i == len(turns) - 1
        if not isinstance(text, str) or not turn_head(text):
            return 0.0
        has_answer = "<answer>" in text and "</answer>" in text
        if has_answer != last:
            return 0.0
        if parse_turn(text, "vilasr").errors:
            return 0.0
    return 1.0


def reflection(turns: list[str]) -> float:
    return float(has_reflection(turns))
