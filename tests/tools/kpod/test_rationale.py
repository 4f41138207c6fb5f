"""Rationale records -> steps -> token ranges -> the loss mask of a stage."""
import pytest

from thinkpipe.tools.kpod.rationale import encode, from_record, split_steps, stage_example


@pytest.fixture(scope="module")
def tok(tiny_models):
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(tiny_models["llama"])


def test_steps_split_at_sentence_ends_not_decimals_and_join_back():
    text = "He pays 2.5 dollars. Then 3 more.  So 5.5 in all."
    steps = split_steps(text)
    assert steps == ("He pays 2.5 dollars.", " Then 3 more.", "  So 5.5 in all.")
    assert "".join(steps) == text
    assert split_steps("a\nb\n\nc", "newline") == ("a\n", "b\n\n", "c")


def test_gsm8k_answers_calculator_annotations_and_teacher_responses():
    gsm = {"question": "q?", "answer": "She has 2*3=<<2*3=6>>6.\nSo 6+1=<<6+1=7>>7.\n#### 7"}
    kept = from_record(gsm, "f:1", "a")
    stripped = from_record(gsm, "f:1", "a", split="newline", calculator="strip")
    assert kept.answer == stripped.answer == "7"
    assert "<<" in "".join(kept.steps) and "<<" not in "".join(stripped.steps)
    assert stripped.steps == ("She has 2*3=6.\n", "So 6+1=7.")
    teacher = {"question": "q?", "answer": 4,
               "response": "<think>2 and 2. That is 4.</think><answer>4</answer>"}
    assert from_record(teacher, "f:2", "b").steps == ("2 and 2.", " That is 4.")
    plain = {"question": "q?", "answer": "4", "response": "2 + 2 = 4. The answer is 4."}
    assert from_record(plain, "f:3", "c").steps == ("2 + 2 = 4.",)


@pytest.mark.parametrize("record, says", [
    ({"rationale": "a.", "answer": "1"}, "question"),
    ({"question": "q", "answer": "1"}, "rationale"),
    ({"question": "q", "rationale": "a."}, "answer"),
    ({"question": "q", "rationale": "   ", "answer": "1"}, "empty"),
])
def test_unusable_records_say_what_is_missing(record, says):
    with pytest.raises(ValueError, match=says):
        from_record(record, "f:1", "x")


def test_token_ranges_cover_the_steps_tail_and_answer(tok):
    r = from_record({"question": "Tom has 3 apples?", "rationale": "Tom has 3. He buys 2 more, "
                     "3 + 2 = 5.", "answer": "5"}, "f:1", "a")
    e = encode(r, tok)
    assert e.steps[0][0] == e.start and e.steps[-1][1] == e.tail[0]
    assert all(a < b == c for (a, b), (c, _) in zip(e.steps, e.steps[1:]))
    assert [tok.decode(e.input_ids[a:b]) for a, b in e.steps] == list(r.steps)
    assert tok.decode(e.input_ids[slice(*e.answer)]).strip() == "5"
    assert tok.decode(e.input_ids[slice(*e.tail)]) == " Therefore, the answer is 5.<|im_end|>"
    assert "Tom has 3 apples?" in tok.decode(e.input_ids[:e.start])


@pytest.mark.parametrize("inputs", [0, 1, 2, 3])
def test_the_loss_mask_covers_exactly_the_scheduled_steps_and_the_tail(tok, inputs):
    r = from_record({"question": "q?", "rationale": "One is 1. Two is 2. Three is 3.",
                     "answer": "3"}, "f:1", "a")
    e = encode(r, tok)
    w = [0.1 * (j + 1) for j in range(len(e.rationale_ids))]
    ex = stage_example(e, inputs, w)
    labelled = {t for t, label in enumerate(ex["labels"]) if label != -100}
    generated = set(range(e.steps[inputs][0] if inputs < 3 else e.tail[0], e.tail[1]))
    assert labelled == generated
    assert all(ex["labels"][t] == e.input_ids[t] for t in labelled)
    for t in labelled:           # rationale tokens carry w_j, the tail carries 1
        assert ex["weights"][t] == pytest.approx(w[t - e.start] if t < e.tail[0] else 1.0)
    assert all(ex["weights"][t] == 0 for t in range(len(e.input_ids)) if t not in labelled)


def test_a_reject_sample_record_distils_the_teachers_turn_not_the_stored_solution():
    record = {"question": "q?", "answer": "Stored solution. #### 7",
              "messages": [{"role": "user", "content": "q?"},
                           {"role": "assistant", "content": "<think>3 and 4. So 7.</think>"
                                                            "<answer>7</answer>"}]}
    r = from_record(record, "f:1", "a")
    assert r.steps == ("3 and 4.", " So 7.") and r.answer == "7"
