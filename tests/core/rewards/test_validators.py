"""MME-Reasoning validators: the official layouts, strict rules, official rules (--compat official)
and the defects a comparison with function4eval.py found (issue 14)."""
import pytest

from thinkpipe.core.rewards import COMPAT, score_record
from thinkpipe.core.rewards.matching import (expression, match_answer, match_coordinate,
                                             multiple_match, points24)
from thinkpipe.core.rewards.puzzles import hashi, skyscraper, sudoku
from thinkpipe.core.rewards.validators import check, structured

SKY = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
# official layout: [top, left, right, bottom], None where a side has no clue
SKY_INFO = {"base_matrix": [[1, None, None], [None] * 3, [None] * 3],
            "visible_skyscrapers": [[3, 2, 1], [3, 2, 1], [1, 2, None], [None, 2, 2]]}
ISLANDS = [{"cord": "a1", "requirement": 2}, {"cord": "a3", "requirement": 3},
           {"cord": "c3", "requirement": 1}]
BRIDGES = [{"start": "a1", "end": "a3", "number": 2}, {"start": "a3", "end": "c3", "number": 1}]


def record(fn, response, answer=None, info=None):
    return {"function_id": fn, "answer": answer, "special_info": repr(info) if info else None,
            "response": response}


def test_official_skyscraper_and_hashi_layouts_are_read():
    assert skyscraper(SKY, None, SKY_INFO)
    assert not skyscraper(SKY, None, {**SKY_INFO, "visible_skyscrapers": [[1, None, None]] + [[]] * 3})
    assert hashi(BRIDGES, None, {"init_islands": ISLANDS})
    assert hashi(BRIDGES, None, {"init_islands": ISLANDS}, official=True)
    rec = record("calculate_answer_function_skyscraper", f"<answer>{SKY}</answer>", None, SKY_INFO)
    assert score_record(rec).status == "correct"          # gold null: a puzzle needs none


def test_unreadable_givens_are_unscorable_never_a_stopped_run():
    rec = record("calculate_answer_function_hashi", f"<answer>{BRIDGES}</answer>", None,
                 {"init_islands": "nonsense"})
    s = score_record(rec)
    assert s.status == "unscorable" and s.score is None and "init_islands" in s.detail
    rec = record("calculate_answer_function_skyscraper", f"<answer>{SKY}</answer>", None,
                 {"visible_skyscrapers": 7})
    assert score_record(rec).status == "unscorable"
    assert COMPAT["mme_reasoning"](rec)[0] == 0.0          # official: a failed check is wrong


@pytest.mark.parametrize("fn,response,info", [
    ("calculate_answer_function_sudoku_4", str(SKY[:1] * 4), {"base_matrix": [[None] * 4] * 4}),
    ("judge_24points_function", "(11 + 1) * (7 - 5) = 24", {"init_cards": [1, 5, 11, 7]}),
    ("calculate_answer_function_yinyang", str([[0] * 6] * 6), {"base_matrix": [[None] * 6] * 6}),
])
def test_validators_without_gold_score_a_null_answer(fn, response, info):
    assert score_record(record(fn, f"<answer>{response}</answer>", None, info)).status in (
        "correct", "incorrect")


def test_hashi_strict_rules_and_the_official_ones():
    info = {"init_islands": ISLANDS}
    upper = [{**b, "start": b["start"].upper()} for b in BRIDGES]
    assert hashi(upper, None, info) and not hashi(upper, None, info, official=True)
    zero = BRIDGES + [{"start": "a1", "end": "c3", "number": 0}]
    assert not hashi(zero, None, info)                     # a1-c3 is not orthogonal anyway
    zero = BRIDGES + [{"start": "a3", "end": "c3", "number": 0}]
    assert hashi(zero, None, info)                         # a bridge of 0 is no bridge
    split = [BRIDGES[0], {**BRIDGES[1]}, {"start": "a1", "end": "a3", "number": 1}]
    split[0] = {**BRIDGES[0], "number": 1}
    assert hashi(split, None, info)                        # a double bridge as two entries
    assert not hashi(split, None, info, official=True)     # official: it crosses itself
    over = {"init_islands": [{"cord": "a1", "requirement": 1}, {"cord": "a2", "requirement": 0},
                             {"cord": "a3", "requirement": 1}]}
    jump = [{"start": "a1", "end": "a3", "number": 1}]
    assert not hashi(jump, None, over) and hashi(jump, None, over, official=True)
    apart = {"init_islands": [{"cord": c, "requirement": 1} for c in ("a1", "a2", "c1", "c2")]}
    two = [{"start": "a1", "end": "a2", "number": 1}, {"start": "c1", "end": "c2", "number": 1}]
    assert not hashi(two, None, apart) and hashi(two, None, apart, official=True)


def test_multiple_match_coordinate_and_match_answer_follow_the_official_gold_layouts():
    assert multiple_match({"id": [2, 1]}, [[1, 2], [3]], {})
    assert multiple_match({"x": 3}, [1, 3], {})
    assert not multiple_match({"x": 4}, [1, 3], {})
    assert match_coordinate([{"row": 1, "column": 2}], {"row": 1, "column": 2}, {})
    assert match_coordinate([{"row": 1, "column": 2}], {"row": 1, "column": 2}, {}, official=True)
    assert not match_coordinate([{"row": 1, "column": 23}], [{"row": 12, "column": 3}], {})
    assert match_answer({"A": 5.0}, {"A": 5}, {}) and not match_answer({"A": "5"}, {"A": 5}, {})
    assert match_answer({"A": ["y", "x"], "B": 1}, {"A": ["x", "y"]}, {})


def test_sudoku_strict_refuses_strings_and_fractions_official_does_not_check_values():
    grid = [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]
    info = {"base_matrix": [[1, None, None, None]] + [[None] * 4] * 3}
    assert sudoku(grid, None, info)
    words = [[str(v) for v in row] for row in grid]
    words[0][0] = 1
    assert not sudoku(words, None, info) and sudoku(words, None, info, official=True)
    half = [row[:] for row in grid]
    half[3][3] = 2.5
    assert not sudoku(half, None, info)
    big = [[v + 4 for v in row] for row in grid]
    blank = {"base_matrix": [[None] * 4] * 4}
    assert not sudoku(big, None, blank) and sudoku(big, None, blank, official=True)
    assert sudoku(grid, None, {})                            # no givens: any solution
    with pytest.raises(KeyError):                            # official: special_info["base_matrix"]
        sudoku(grid, None, {}, official=True)


def test_expression_needs_the_formula_not_its_value():
    gold = ["3*4 + 2 = 14"]
    assert not expression({"equation": "10 + 4 = 14"}, gold, {})
    assert not expression({"equation": "10 + 4 = 14"}, gold, {}, official=True)
    assert expression({"equation": "2 + 4*3 = 14"}, gold, {})          # commutativity, any depth
    assert not expression({"equation": "2 + 4*3 = 14"}, gold, {}, official=True)
    assert expression({"equation": "2 + 3*4 = 14"}, gold, {}, official=True)


def test_24_points_unary_minus_fractions_and_cards():
    cards = {"init_cards": [4, 1, 5, 6]}
    assert points24("4 / (1 - 5/6) = 24", None, cards)                  # exact
    assert not points24("4 / (1 - 5/6) = 24", None, cards, official=True)  # float rounding
    neg = {"init_cards": [1, 5, 5, 5]}
    assert points24("5 * 5 - 1", None, {"init_cards": [5, 5, 1]})
    assert points24("(5 - 1/5) * 5", None, neg)
    assert points24("-4 * -6", None, {"init_cards": [4, 6]})            # unary minus allowed
    assert points24("-4 * -6", None, {"init_cards": [4, 6]}, official=True)


def test_compat_official_runs_the_validators_not_string_comparison():
    info = {"init_cards": [1, 5, 11, 7]}
    rec = record("judge_24points_function", "<answer>(11 + 1) * (7 - 5) = 24</answer>", None, info)
    assert COMPAT["mme_reasoning"](rec)[0] == 1.0
    other = [[2, 1, 4, 3], [4, 3, 2, 1], [1, 2, 3, 4], [3, 4, 1, 2]]    # valid, not the gold
    rec = record("calculate_answer_function_sudoku_4", f"<answer>{other}</answer>",
                 str([[1, 2, 3, 4]] * 4), {"base_matrix": [[None] * 4] * 4})
    assert COMPAT["mme_reasoning"](rec)[0] == 1.0 and score_record(rec).status == "correct"


def test_structured_answer_is_read_from_the_tag_or_the_last_fenced_block():
    assert structured("blah ```json\n[1]\n``` then ```json\n[2]\n```", None) == "[2]"
    assert structured("<answer>```json\n{\"A\": 1}\n```</answer>", None) == '{"A": 1}'
    assert structured("<answer> [3] </answer>", None) == "[3]"
    assert check("match_answer_function", "{'A': 5}", "{'A': 5}", None, "{'A': 5}").ok


def test_choice_items_with_numeric_labels_are_read():
    def status(response, gold):
        return score_record({"question_type": "multiple_choice", "answer": gold,
                             "response": response}).status
    assert status("The answer is 44.", "44") == "correct"
    assert status("3.5 is not it, 44 is", "44") == "correct"
    assert status("The answer is 4.", "44") == "incorrect"
    assert status("Answer: 44, 2", "2, 44") == "correct"
    assert status("2 or 4, then 44", "2, 44") == "incorrect"
    assert status("<answer>2, 44</answer>", "44") == "incorrect"


def test_official_mode_follows_function4eval_where_it_is_odd():
    """Cases a generated comparison with function4eval.py found (issue 14's follow-up)."""
    assert match_answer({}, {"A": None}, {}, official=True)             # .get() gives None
    assert not match_answer({}, {"A": None}, {})
    assert not check("match_answer_function", "{'A': [[1], [2]]}", "{'A': [[1], [2]]}", None,
                     official=True).ok                                     # set() of lists raises
    assert check("match_answer_function", "{'A': [[1], [2]]}", "{'A': [[2], [1]]}", None).ok
    assert multiple_match({"x": "1"}, "12", {}, official=True)            # a substring test
    assert not multiple_match({"x": "1"}, "12", {})
    info = {"init_islands": [{"cord": "b1", "requirement": 2}, {"cord": "b3", "requirement": 2}]}
    odd = [{"start": "b1", "end": "b3", "number": -1}, {"start": "b1", "end": "b3", "number": 3}]
    assert not hashi(odd, None, info)
    assert not check("calculate_answer_function_hashi", repr(odd), None, info, official=True).ok
    spaced = [{"start": " b1", "end": "b3", "number": 2}]
    assert hashi(spaced, None, info) and not hashi(spaced, None, info, official=True)
    sky = {**SKY_INFO, "visible_skyscrapers": [[0, None, None], [], [], []]}
    assert skyscraper(SKY, None, sky) and not skyscraper(SKY, None, sky, official=True)
    eleven = {"A": 2, "B": 3, "C": 8, "D": 8, "E": 8, "F": 3, "G": 5, "X0": 1, "X1": 7}
    assert check("calculate_answer_function_11", repr(eleven), None, None, official=True).ok
    assert not check("calculate_answer_function_11", repr(eleven), None, None).ok
    assert expression({"equation": "2*2*3"}, ["2*3*3"], {}, official=True)   # a set of strings
    assert not expression({"equation": "2*2*3"}, ["2*3*3"], {})
    assert not expression({"equation": "1 - 3"}, ["y**/", "1 - 3"], {}, official=True)
    assert expression({"equation": "1 - 3"}, ["y**/", "1 - 3"], {})
