"""Multiple choice: gold as option text, concatenated multi-select golds, hedges never correct."""
import pytest

from thinkpipe.core.rewards import gold_letters, letters, score_record

ANIMALS = ["cat", "dog", "bird", "fish"]
ABCD = list("wxyz")


def status(record):
    return score_record({"question_type": "multiple_choice", **record}).status


@pytest.mark.parametrize("record", [
    {"options": ANIMALS, "answer": "dog", "response": "dog"},
    {"options": ANIMALS, "answer": "dog", "response": "<answer>B</answer>"},
    {"options": ANIMALS, "answer": "B", "response": "<answer>Dog.</answer>"},
    {"options": ["Yes", "No"], "answer": "Yes", "response": "Yes"},
    {"options": ABCD, "answer": "AC", "response": "AC"},
    {"options": ABCD, "answer": "AC", "response": "<answer>A, C</answer>"},
    {"options": ABCD, "answer": "A, C", "response": "(A) and (C)"},
    {"options": ABCD, "answer": ["C", "A"], "response": "<answer>[A, C]</answer>"},
    {"options": ABCD, "answer": "B", "response": "(b)"},
    {"options": ABCD, "answer": "B", "response": "<answer>b</answer>"},
    {"options": ABCD, "answer": "B", "response": "Ｂ"},
    {"options": ABCD, "answer": "B", "response": "（B）"},
    {"options": ABCD, "answer": "B", "response": "B. A red one"},
    {"options": ["a cat", "a dog"], "answer": "B", "response": "B. a dog"},
])
def test_read_as_correct(record):
    assert status(record) == "correct"


@pytest.mark.parametrize("response", [
    "(A) is wrong, (B) is right",
    "A. No wait, it is B.",
    "<answer>(A) or (B)</answer>",
    "<answer>A or B</answer>",
    "AB",
    "(A) and (C)",
])
def test_an_answer_naming_several_options_is_never_correct_for_one_gold(response):
    assert status({"options": ABCD, "answer": "A", "response": response}) == "unparseable"


def test_multi_select_reads_sets_and_refuses_hedges():
    base = {"options": ABCD, "answer": "A, C"}
    assert status({**base, "response": "(A) is right and (C) is right"}) == "correct"
    assert status({**base, "response": "(A) and (B)"}) == "incorrect"
    assert status({**base, "response": "(A) or (C)"}) == "unparseable"
    assert status({**base, "response": "A"}) == "incorrect"


def test_gold_letters():
    assert gold_letters("dog", ANIMALS) == ["B"]
    assert gold_letters("AC", ABCD) == ["A", "C"]
    assert gold_letters(["fish", "A"], ANIMALS) == ["A", "D"]
    assert gold_letters("['A', 'C']", ABCD) == ["A", "C"]
    assert gold_letters("horse", ANIMALS) is None
    assert letters("dog", 4, ANIMALS) == ["B"] and letters("the dog", 4, ANIMALS) is None


def test_a_gold_that_is_no_option_is_a_bad_record_but_free_labels_compare_as_sets():
    from thinkpipe.core.rewards import NotScorable
    with pytest.raises(NotScorable, match="neither option letters nor the text"):
        score_record({"options": ANIMALS, "answer": "horse", "response": "A"})
    # MME-Reasoning choice items with numeric labels and no `options` field
    assert status({"answer": "2, 44", "response": "<answer>44,2</answer>"}) == "correct"
