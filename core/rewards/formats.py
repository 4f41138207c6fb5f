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

THINK_ANSWER = re.compile(r"\s*<think>.*?</think>\s*<answer>.*?</answer>\s*", re.S)
TURN_HEAD = re.compile(r"\s*<think>.*?</think>\s*Action:", re.S)


def think_answer(output: str) -> float:
    return float(isinstance(output, str) and THINK_ANSWER.fullmatch(output) is not None)


def assistant_turns(record: dict) -> list[str]:
    """Assistant turns of `messages` (text parts joined), else [`response`]."""
    messages = record.get("messages")
    if isinstance(messages, list):
        turns = []
        for m in messages:
            if isinstance(m, dict) and m.get("role") == "assistant":
                c = m.get("content")
                turns.append(c if isinstance(c, str) else "".join(
                    p.get("text", "") for p in c or [] if isinstance(p, dict)))
        if turns:
            return turns
    response = record.get("response")
    return [response] if isinstance(response, str) else []


def vilasr_format(turns: list[str]) -> float:
    if not turns:
        return 0.0
    for i, text in enumerate(turns):
        last = i == len(turns) - 1
        if not TURN_HEAD.match(text):
            return 0.0
        has_answer = "<answer>" in text and "</answer>" in text
        if has_answer != last:
            return 0.0
        if parse_turn(text, "vilasr").errors:
            return 0.0
    return 1.0


def reflection(turns: list[str]) -> float:
    return float(has_reflection(turns))
