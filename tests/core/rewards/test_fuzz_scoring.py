"""Fuzzed scoring (issue 22): any model output gives a result, never an exception.

Properties, over hostile strings built from tags, answer phrases, numbers, letters, literals and
fences:
  - extract(), strip_reasoning(), number()/decimal(), letters() and parse_score() return values of
    their documented shape for any text;
  - score_record() gives a Scored with a status from STATUSES (score None or in [0, 1]) for every
    verifier in VERIFIERS and every validator in VALIDATORS, whatever the prediction; only a
    gold answer the verifier cannot use may raise, and then only NotScorable (a bad record);
  - every official scorer in COMPAT gives (score in [0, 1], extracted) for any prediction;
  - the format rewards (think_answer, vilasr_format, reflection) give a number in [0, 1].
The registries are enumerated, so a verifier, validator or official scorer added later is
covered without editing this file. (test_fast_paths.py checks that the fast paths read what the
reference readers read; this file checks only that nothing raises.)
"""
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from thinkpipe.core.rewards import (COMPAT, STATUSES, VALIDATORS, VERIFIERS, NotScorable, Scored,
                                    decimal, extract, letters, number, reflection, score_record,
                                    strip_reasoning, think_answer, vilasr_format)
from thinkpipe.core.rewards.thinking import parse_score
from thinkpipe.core.rewards.validators import check as validate
from tests.fuzzing import fuzz

FUZZ = fuzz(150)

FRAGMENTS = ["<think>", "</think>", "<answer>", "</answer>", "<ANSWER>", "</Think>", "<", ">",
             "\\boxed{", "\\box{", "{", "}", "The answer is ", "the final answer is", "answer: ",
             "Final Answer：", "anſwer is ", "Action: Answer", "A", "B", "(C)", "[D]", "Ｂ", "and",
             " or ", " ", "\n", "\t", "\x0b", "\u2028", "\x85", "1", "07", "2.5", "-3/4", "1,234",
             "40%", "1e999", "-1e-999", "−5", "٣", "+", ".", ",", "x", "İ", "é", "0" * 19,
             "9" * 320, "```json\n", "```", "[[1, 2], [2, 1]]", "[1, 2, 3, 4]", "None", "[", "]",
             "'a1'", "{'start': 'a1', 'end': 'a3', 'number': 2}", "(11 + 1) * (7 - 5) = 24",
             "x^2", "sqrt(2)", "\\frac{1}{2}", "(1, 2)", "=", "*", "/", "0", "nan", "inf", "[" * 40]
texts = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map("".join),
                  st.text(max_size=40))
GOLDS = {"multiple_choice": ["B", "A,C", ["A", "C"]],
         "numerical": ["3", "2.5", 7, -0.125, "1,234", "40%"],
         "regression": ["3", 2.5, "0", 0],
         "math": ["1/2", "x^2", "sqrt(2)", "3"],
         "sequence": ["A,B,C", ["1", "2"], "1 2 3"]}
OTHER_GOLDS = ["hello world", "B", "3", "", "x", 0, ["a"]]
OPTIONS = st.sampled_from([None, ["red", "blue", "green", "gray"], []])
FINISH = st.sampled_from([None, "stop", "length", "turn_tokens", 3])
REGRESSIONS = ["The answer is ", "answer:  ", "<think>x</think> the answer is \t"]


def _gold(name: str):
    return st.sampled_from(GOLDS.get(name, OTHER_GOLDS))


def _check_scored(s) -> None:
    assert isinstance(s, Scored) and s.status in STATUSES, s
    assert s.score is None or 0.0 <= s.score <= 1.0, s
    assert isinstance(s.fields(), dict)


@fuzz(100)
@given(texts)
@example("The answer is ")    # found by this test: an empty phrase raised IndexError
@example("answer: \x0b")
def test_extraction_reads_any_text(text):
    ext = extract(text)
    assert ext.method in ("answer_tag", "boxed", "phrase", "full_text", "none")
    assert ext.text is None or isinstance(ext.text, str)
    visible, cut = strip_reasoning(text)
    assert isinstance(visible, str) and isinstance(cut, bool)
    for last in (False, True):
        n = number(text, last)
        assert n is None or isinstance(n, float)
        assert decimal(text, last) is None or isinstance(decimal(text, last), Decimal)
    for n_options in (None, 2, 4):
        found = letters(text, n_options)
        assert found is None or all(isinstance(c, str) for c in found)
    score = parse_score(text)
    assert score is None or 0.0 <= score <= 1.0


@pytest.mark.parametrize("name", sorted(VERIFIERS))
def test_every_verifier_scores_any_prediction(name):
    @FUZZ
    @given(texts, _gold(name), OPTIONS, FINISH, st.sampled_from([None, 0.5, "1"]))
    @example(REGRESSIONS[0], GOLDS.get(name, OTHER_GOLDS)[0], None, None, None)
    def check(response, gold, options, finish, tolerance):
        record = {"response": response, "answer": gold, "question_type": name,
                  "options": options, "finish_reason": finish}
        if tolerance is not None:
            record["tolerance"] = tolerance
        _check_scored(score_record(record))
    check()


@FUZZ
@given(texts, st.one_of(texts, st.integers(), st.floats(), st.none(), st.booleans(),
                        st.lists(st.text(max_size=3), max_size=3)),
       st.sampled_from(sorted(VERIFIERS) + ["mc", "Numeric", "free-form", None, "", 7]))
def test_any_gold_is_scored_or_a_bad_record(response, gold, qtype):
    """Golds are data too: an unusable one is NotScorable (exit 65 in the tools), nothing else."""
    try:
        s = score_record({"response": response, "answer": gold, "question_type": qtype})
    except NotScorable:
        return
    _check_scored(s)


SPECIAL_INFO = [None, "", "nonsense", "[1, 2]", 7,
                {"base_matrix": [[None] * 4] * 4}, {"base_matrix": [[None] * 6] * 6},
                {"init_cards": [1, 5, 11, 7]},
                {"init_islands": [{"cord": "a1", "requirement": 2},
                                  {"cord": "a3", "requirement": 2}]},
                {"visible_skyscrapers": [[3, 2, 1], [3, 2, 1], [1, 2, None], [None, 2, 2]]},
                repr({"base_matrix": [[1, None], [None, 2]]}), {"base_matrix": "x"}]


# one name per validator (the short names, `sudoku_4`, ..., are the same functions)
UNIQUE_VALIDATORS = sorted({id(fn): name for name, fn in reversed(VALIDATORS.items())}.values())


@pytest.mark.parametrize("name", UNIQUE_VALIDATORS)
def test_every_validator_scores_any_prediction(name):
    @FUZZ
    @given(texts, st.sampled_from(["24", "[1, 2]", "x^2", "(1, 2)", "a", None, "", 3, [1]]),
           st.sampled_from(SPECIAL_INFO), st.booleans())
    def check(response, gold, info, official):
        record = {"function_id": name, "response": response, "answer": gold,
                  "special_info": info}
        _check_scored(score_record(record))
        result = validate(name, response, gold, info, official=official)
        assert result.ok in (None, True, False)
        assert COMPAT["mme_reasoning"](record)[0] in (0.0, 1.0)
    check()


@pytest.mark.parametrize("benchmark", sorted(COMPAT))
def test_every_official_scorer_reads_any_prediction(benchmark):
    @FUZZ
    @given(texts, st.sampled_from(["multiple_choice", "numerical", "regression", "exact", None]),
           OPTIONS)
    def check(response, qtype, options):
        gold = {"multiple_choice": "B", "numerical": "2.5", "regression": "3"}.get(qtype, "red")
        record = {"response": response, "answer": gold, "question_type": qtype,
                  "options": options}
        score, _ = COMPAT[benchmark](record)
        assert 0.0 <= score <= 1.0
    check()


@FUZZ
@given(st.lists(texts, max_size=4))
def test_format_rewards_of_any_turns(turns):
    for text in turns:
        assert 0.0 <= think_answer(text) <= 1.0
    assert 0.0 <= vilasr_format(turns) <= 1.0
    assert 0.0 <= reflection(turns) <= 1.0
    record = {"messages": [{"role": "assistant", "content": t} for t in turns],
              "answer": "B", "options": ["x", "y"]}
    _check_scored(score_record(record))
