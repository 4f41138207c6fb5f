"""MME-Reasoning validators, format rewards, reward specs and compat rules."""
import pytest

from thinkpipe.core.rewards import load_reward, score_record, think_answer, vilasr_format
from thinkpipe.core.rewards.compat import av_odyssey_parse, vilasr, vsibench
from thinkpipe.core.rewards.matching import expression, points24
from thinkpipe.core.rewards.puzzles import hashi, skyscraper, sudoku, yinyang

SUDOKU = [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]


def test_sudoku_accepts_any_valid_solution_keeping_the_givens():
    assert sudoku(SUDOKU, None, {"base_matrix": [[1, 0, 0, 0]] + [[0] * 4] * 3})
    assert not sudoku(SUDOKU, None, {"base_matrix": [[2, 0, 0, 0]] + [[0] * 4] * 3})
    bad = [row[:] for row in SUDOKU]
    bad[0][0], bad[0][1] = 2, 1
    assert not sudoku(bad, None, {})
    six = [[1, 2, 3, 4, 5, 6], [4, 5, 6, 1, 2, 3], [2, 3, 1, 5, 6, 4],
           [5, 6, 4, 2, 3, 1], [3, 1, 2, 6, 4, 5], [6, 4, 5, 3, 1, 2]]
    assert sudoku(six, None, {}, n=6)


def test_24_points_checks_value_and_cards():
    info = {"init_cards": ["A", "5", "J", "7"]}
    assert points24("(11 + 1) * (7 - 5) = 24", None, info)
    assert points24("(J + A) * (7 - 5)", None, info)          # face cards, no right side
    assert not points24("(11 - 7) * 5 + 1 = 24", None, info)  # uses the cards, makes 21
    assert not points24("(11 + 1) * 2 = 24", None, info)      # 24, but not the given cards
    assert not points24("__import__('os')", None, info)


def test_expression_is_structural_up_to_commutativity():
    assert not expression({"equation": "x*(x+1) = 0"}, ["x**2 + x = 0"], {})   # same value only
    assert expression("x + y = 3", ["y + x = 3"], {})
    assert expression({"equation": "x + y = 3"}, ["y + x = 3"], {}, official=True)


def test_skyscraper_yinyang_hashi():
    grid = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
    assert skyscraper(grid, None, {"visible_skyscrapers": {"left": [3, 2, 1], "top": [3, 2, 1]}})
    assert not skyscraper(grid, None, {"visible_skyscrapers": {"left": [1, 2, 1]}})
    yy = [[0] * 6, [0, 1, 1, 1, 1, 0], [0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0],
          [0, 1, 1, 1, 1, 0], [0] * 6]
    assert not yinyang(yy, None, {})                       # the inner white block is cut off
    stripes = [[0, 0, 0, 0, 0, 0]] + [[0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 1]] * 2 + [[1] * 6]
    assert yinyang(stripes, None, {})                      # combs of each colour: valid
    blocky = [row[:] for row in stripes]
    blocky[1][1] = blocky[2][1] = 0                        # a 2x2 block of 0s (rows 1-2, cols 0-1)
    assert not yinyang(blocky, None, {})
    assert not yinyang(stripes, None, {"base_matrix": [[1] + [None] * 5] + [[None] * 6] * 5})
    islands = {"a1": 2, "a3": 3, "c3": 1}
    good = [{"start": "a1", "end": "a3", "number": 2}, {"start": "a3", "end": "c3", "number": 1}]
    assert hashi(good, None, {"init_islands": islands})
    assert not hashi(good[:1], None, {"init_islands": islands})


def test_rule_based_records_score_through_function_id():
    rec = {"function_id": "calculate_answer_function_sudoku_4", "answer": "",
           "special_info": "{'base_matrix': [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]}",
           "response": f"<answer>{SUDOKU}</answer>"}
    assert score_record(rec).status == "correct"


def test_format_rewards():
    assert think_answer("<think>a</think> <answer>b</answer>") == 1
    assert think_answer("x <think>a</think><answer>b</answer>") == 0
    ok = ['<think>a</think> Action: Object Mapper\n```json\n[{"index": 1, "bbox_2d": [1,2,3,4], "label": "x"}]\n```',
          "<think>b</think> Action: Answer\n<answer>A</answer>"]
    assert vilasr_format(ok) == 1
    assert vilasr_format([ok[1], ok[1]]) == 0                 # answer before the last turn
    assert vilasr_format([ok[0].replace('"index": 1, ', ""), ok[1]]) == 0   # a bad drawing


def test_reward_specs(tmp_path, monkeypatch):
    rec = {"response": "<think>x</think><answer>B</answer>", "answer": "B", "options": ["p", "q"]}
    assert load_reward("accuracy")(rec) == {"accuracy": 1.0}
    assert load_reward("format")(rec) == {"format": 1.0}
    (tmp_path / "myreward.py").write_text("def fn(r):\n    return {'a': 1, 'b': 0.5}\n")
    monkeypatch.chdir(tmp_path)
    assert load_reward("myreward:fn")(rec) == {"fn.a": 1.0, "fn.b": 0.5}
    from thinkpipe.core.errors import ServiceError, UsageError
    with pytest.raises(UsageError):
        load_reward("nonsense")
    with pytest.raises(ServiceError, match="failed"):
        import thinkpipe.core.rewards.spec as spec
        monkeypatch.setattr(spec.time, "sleep", lambda s: None)
        load_reward("http://127.0.0.1:9/reward")(rec)


def test_av_odyssey_reads_answer_b_as_a_as_the_official_parser_does():
    assert av_odyssey_parse("Answer: B") == "A"
    assert av_odyssey_parse("b") == "A"            # nothing recognised: defaults to A
    assert av_odyssey_parse("(C)") == "C"


def test_vilasr_and_vsibench_official_rules():
    rec = {"question_type": "multiple_choice", "answer": "B", "response": "<answer>b) the box</answer>"}
    assert vilasr(rec)[0] == 1.0
    num = {"question_type": "numerical", "answer": "3", "response": "<answer>3.0</answer>"}
    assert vilasr(num)[0] == 0.0                   # decimal point disagreement
    assert vsibench({"question_type": "regression", "answer": 2.0, "response": "2.1 meters"})[0] == 1.0
