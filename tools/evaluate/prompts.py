"""Prompt templates for `thinkpipe eval --model` (`--prompt-template`; every output record and the
report name the one used).

    plain         the record's own prompt: `messages` before the first assistant turn, else its
                  images, question and lettered options (core/drawing/rollout.prompt_for)
    think_answer  the same question, then an instruction to reason inside <think> </think> and
                  answer inside <answer> </answer>, with an answer-format line per question type
                  (the R1-style protocol Video-R1 and SophiaVL-R1 train and evaluate with;
                  thinkpipe's wording)
    vilasr        VILASR's drawing protocol: its system prompt and the image index after each
                  image (the default with --tools draw)
A record that brings `messages` keeps them under every template: they are its prompt.

Videos (`videos`, or video parts in `messages`) are decoded first (core/records/video.py): the
model sees `max_frames` frames sampled at `fps` (eval's --max-frames, --fps) as a sequence of
images, and `[video1]` in the question stands for those frames. Only the prompt changes; the
output record keeps its `videos`. A video that cannot be decoded makes the record a bad one.
"""
from __future__ import annotations

from thinkpipe.core.drawing.rollout import prompt_for
from thinkpipe.core.records.video import expand_videos
from thinkpipe.core.rewards import question_type

ANSWER_FORMAT = {
    "multiple_choice": "Give only the option letter (A, B, C, ...) inside the answer tags.",
    "numerical": "Give only the number (for example 42 or 3.14) inside the answer tags.",
    "regression": "Give only the number (for example 42 or 3.14) inside the answer tags.",
    "ocr": "Transcribe the text exactly inside the answer tags.",
}
THINK_ANSWER = ("First think the question through step by step inside <think> </think>, checking "
                "your reasoning as you go; then give your final answer inside <answer> </answer>. ")


def _think_answer(record: dict, system: str | None) -> list[dict]:
    if isinstance(record.get("messages"), list):
        return prompt_for(record, system)
    suffix = THINK_ANSWER + ANSWER_FORMAT.get(question_type(record), "Give your answer as text "
                                                                       "inside the answer tags.")
    prompt = prompt_for(record, system)
    last = prompt[-1]
    parts = list(last["content"]) if isinstance(last["content"], list) else \
        [{"type": "text", "text": last["content"]}]
    parts.append({"type": "text", "text": "\n" + suffix})
    return prompt[:-1] + [{**last, "content": parts}]


TEMPLATES = {
    "plain": lambda record, system: prompt_for(record, system),
    "think_answer": _think_answer,
    "vilasr": lambda record, system: prompt_for(record, system, drawing=True),
}


def build(record: dict, template: str, system: str | None = None, max_frames: int = 16,
          fps: float = 2.0) -> list[dict]:
    """The prompt messages of `record` under `template`, its videos decoded into frames
    (ValueError when it has no question or a video cannot be decoded)."""
    return TEMPLATES[template](expand_videos(record, max_frames, fps), system)
