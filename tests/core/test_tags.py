"""Linear-time tag scanning gives exactly the lazy regexes' answers, without their quadratic cost."""
import re
import time

from hypothesis import given, settings, strategies as st

from thinkpipe.core.rewards import think_answer, vilasr_format
from thinkpipe.core.tags import ascii_lower, first_block, last_block, remove_blocks, without_blocks

PIECES = st.lists(st.sampled_from(["<think>", "</think>", "<answer>", "</answer>", "<THINK>",
                                   "Action:", " ", "\n", "x", "B"]), max_size=14).map("".join)
THINK_ANSWER = re.compile(r"\s*<think>.*?</think>\s*<answer>.*?</answer>\s*", re.S)


@settings(max_examples=400, deadline=None)
@given(PIECES)
def test_same_matches_as_the_regexes(text):
    m = re.search(r"<think>(.*?)</think>", text, re.S)
    assert first_block(text, "<think>", "</think>") == (m.group(1) if m else None)
    found = re.findall(r"<answer>(.*?)</answer>", text, re.S | re.I)
    assert last_block(text, "<answer>", "</answer>", fold=True) == (found[-1] if found else None)
    assert remove_blocks(text, "<think>", "</think>", fold=True) == \
        re.sub(r"<think>.*?</think>", " ", text, flags=re.S | re.I)
    assert think_answer(text) == float(THINK_ANSWER.fullmatch(text) is not None)
    low = ascii_lower(text)                      # the fast path (one opening tag) and the scan
    assert without_blocks(text, low, "<think>", "</think>")[0] == \
        re.sub(r"<think>.*?</think>", " ", text, flags=re.S | re.I)
    assert last_block(text, "<answer>", "</answer>", hay=low) == (found[-1] if found else None)


def test_format_checks_are_linear_on_degenerate_turns():
    start = time.perf_counter()
    for text in ("<think>" * 40000, "<answer>" * 40000, "<think></think>" + " " * 100000):
        assert think_answer(text) == 0.0
        assert vilasr_format([text]) == 0.0
    assert time.perf_counter() - start < 3.0
