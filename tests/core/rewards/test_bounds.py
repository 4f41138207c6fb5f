"""The scoring window (core/rewards/bounds.py); its timing on hostile outputs: test_hostile.py."""

from thinkpipe.core.rewards import score_record
from thinkpipe.core.rewards.bounds import WINDOW, tail

def _record(output, qtype):
    return {"response": output, "answer": "B" if qtype == "multiple_choice" else "3.5",
            "question_type": qtype, "options": ["a", "b", "c", "d"]}

def test_the_window_keeps_what_extraction_needs():
    think = "<think>" + "x" * 200_000 + "<answer>A</answer>"     # never closed: cut off
    assert score_record(_record(think, "multiple_choice")).status == "truncated"
    closed = "<think>" + "x" * 200_000 + "</think><answer>B</answer>"
    scored = score_record(_record(closed, "multiple_choice"))
    assert scored.status == "correct" and scored.window == [len(closed) - WINDOW, len(closed)]
    assert "score_window" not in score_record(_record("<answer>B</answer>", "multiple_choice")).fields()
    text, (start, _) = tail("y" * 97 + "<think>" + "z" * (WINDOW - 4))   # a tag across the cut
    assert text.startswith("<think>z") and start == 97
