"""Degenerate outputs score in bounded, linear time (issue 22, part 1).

Every reader of a model's text — score_record for each question type, the official scorers, the
thinking scorer's parser, the format and reflection rewards, the drawing-op parser in both
dialects — meets each hostile pattern: under 50 ms with a status at a megabyte (the 64 KiB
window, bounds.py), and time growing linearly below the window (10× the input → ≤ 15× the time).
"""
import time

import pytest

from thinkpipe.core.drawing import has_reflection, parse_turn
from thinkpipe.core.rewards import score_record
from thinkpipe.core.rewards.bounds import WINDOW
from thinkpipe.core.rewards.compat import COMPAT
from thinkpipe.core.rewards.formats import think_answer, vilasr_format
from thinkpipe.core.rewards.thinking import parse_score


def _repeat(unit: str):
    return lambda n: unit * (n // len(unit))


PATTERNS = {
    "unclosed think": _repeat("<think>"),
    "unclosed answer": _repeat("<answer>"),
    "unclosed boxed": _repeat("\\boxed{"),
    "unclosed tool call": _repeat("<tool_call>"),
    "one character": _repeat("a"),
    "nested brackets": _repeat("["),
    "nested braces": _repeat("{"),
    "a long list": lambda n: "<answer>[" + "1," * (n // 2) + "]</answer>",
    "digit runs with commas": _repeat("9" * 40 + ","),
    "fenced blocks": _repeat("```json\n[[[\n"),
    "turn heads": _repeat("<think></think> Action: draw\n"),
    "words": _repeat("the cat sat on "),
}
TYPES = ("multiple_choice", "numerical", "regression", "ocr", "free_form", "math", "sequence")
LONG_GOLD = " ".join(f"w{i % 37} the cat" for i in range(70))      # a 210-word reference


def _record(output, qtype, gold=None):
    gold = gold or ("B" if qtype == "multiple_choice" else "3.5")
    return {"response": output, "answer": gold, "question_type": qtype,
            "options": ["a", "b", "c", "d"]}


def _readers():
    """name -> a function of the output text: every reader of a model's text."""
    out = {f"score {q}": (lambda o, q=q: score_record(_record(o, q))) for q in TYPES}
    out |= {f"score {q}, long gold": (lambda o, q=q: score_record(_record(o, q, LONG_GOLD)))
            for q in ("ocr", "free_form")}
    out |= {f"official {name}": (lambda o, f=f: f(_record(o, "numerical")))
            for name, f in COMPAT.items()}
    out |= {"thinking parse_score": parse_score, "think_answer": think_answer,
            "vilasr_format": lambda o: vilasr_format([o, o]),
            "reflection": lambda o: has_reflection([o, o]),
            "parse_turn vilasr": lambda o: parse_turn(o, "vilasr"),
            "parse_turn tool_call": lambda o: parse_turn(o, "tool_call")}
    return out


READERS = _readers()


def _best(fn, arg, calls=1, repeats=3) -> float:
    """The least time of `repeats` rounds of `calls` calls."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn(arg)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.fixture(scope="module", autouse=True)
def _warm():
    score_record(_record("<answer>1</answer>", "math"))     # math-verify's first-call set-up


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_megabyte_of_each_pattern_scores_in_under_50_ms_with_a_status(pattern):
    output = PATTERNS[pattern](1_000_000)
    for qtype, gold in [(q, None) for q in TYPES] + [("ocr", LONG_GOLD), ("free_form", LONG_GOLD)]:
        scored = score_record(_record(output, qtype, gold))
        assert scored.status in ("correct", "incorrect", "unparseable", "truncated"), (qtype, scored)
        assert scored.fields()["score_window"] == [scored.window[0], len(output)]
        took = _best(lambda o: score_record(_record(o, qtype, gold)), output)
        assert took < 0.05, (qtype, took)


@pytest.mark.parametrize("pattern", PATTERNS)
def test_time_grows_linearly_below_the_window(pattern):
    small, large = PATTERNS[pattern](WINDOW // 13), PATTERNS[pattern](WINDOW * 10 // 13)
    assert len(large) < WINDOW
    slow = {}
    for name, read in READERS.items():
        for _ in range(3):              # a quadratic reader fails every time; a busy CPU once
            ten_small, large_once = _best(read, small, calls=10), _best(read, large)  # equal work
            if large_once <= 1.5 * ten_small + 0.001:     # 10× the input → ≤ 15× the time
                break
        else:
            slow[name] = (round(ten_small * 1e2, 3), round(large_once * 1e3, 3))  # ms per call
    assert not slow, slow
