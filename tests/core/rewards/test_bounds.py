"""Scoring stays bounded on degenerate outputs (core/rewards/bounds.py)."""
import time

import pytest

from thinkpipe.core.rewards import score_record
from thinkpipe.core.rewards.bounds import WINDOW, tail
from thinkpipe.core.rewards.compat import COMPAT
from thinkpipe.core.rewards.thinking import parse_score

HOSTILE = {
    "unclosed think": "<think>" * 20000,
    "unclosed answer": "<answer>" * 20000,
    "unclosed boxed": "\\boxed{" * 20000,
    "1 MB of one character": "a" * 1_000_000,
    "nested brackets": "[" * 200_000,
    "200k-element list": "<answer>[" + ",".join(["1"] * 200_000) + "]</answer>",
    "digits with commas": "1," * 200_000,
}
TYPES = ("multiple_choice", "numerical", "regression", "ocr", "free_form", "math", "sequence")


def _record(output, qtype):
    return {"response": output, "answer": "B" if qtype == "multiple_choice" else "3.5",
            "question_type": qtype, "options": ["a", "b", "c", "d"]}


@pytest.mark.parametrize("name", HOSTILE)
def test_every_hostile_output_gets_a_status_quickly(name):
    output = HOSTILE[name]
    score_record(_record("<answer>1</answer>", "math"))     # math-verify's first-call set-up
    for qtype in TYPES:
        start = time.perf_counter()
        scored = score_record(_record(output, qtype))
        took = time.perf_counter() - start
        assert scored.status in ("incorrect", "unparseable", "truncated"), (qtype, scored)
        assert took < 0.5, (qtype, took)      # a generous CI bound; the bench states < 50 ms
        if len(output) > WINDOW:
            assert scored.fields()["score_window"][1] == len(output)
    for official in COMPAT.values():
        official(_record(output, "numerical"))
    parse_score(output)


def test_the_window_keeps_what_extraction_needs():
    think = "<think>" + "x" * 200_000 + "<answer>A</answer>"     # never closed: cut off
    assert score_record(_record(think, "multiple_choice")).status == "truncated"
    closed = "<think>" + "x" * 200_000 + "</think><answer>B</answer>"
    scored = score_record(_record(closed, "multiple_choice"))
    assert scored.status == "correct" and scored.window == [len(closed) - WINDOW, len(closed)]
    assert "score_window" not in score_record(_record("<answer>B</answer>", "multiple_choice")).fields()
    text, (start, _) = tail("y" * 97 + "<think>" + "z" * (WINDOW - 4))   # a tag across the cut
    assert text.startswith("<think>z") and start == 97


def test_scoring_time_grows_linearly():
    def cost(n):
        output = "<answer>" * n
        start = time.perf_counter()
        for _ in range(3):
            score_record(_record(output, "numerical"))
        return time.perf_counter() - start
    assert cost(8000) < 15 * cost(800) + 0.01
