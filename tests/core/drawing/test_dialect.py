"""Parsing drawing turns: valid, Python-literal, malformed and hostile input never raises."""
import pytest

from thinkpipe.core.drawing import Box, Line, format_turn, parse_turn

BOX = '{"index": 1, "bbox_2d": [10, 20, 30, 40], "label": "ball"}'


def vilasr(block: str, action="Object Mapper") -> str:
    return f"<think>look</think> Action: {action}\n```json\n{block}\n```"


def test_vilasr_turn_with_box_and_line():
    t = parse_turn(vilasr(f'[{BOX}, {{"index": 2, "start_point_2d": [0, 0], '
                          f'"end_point_2d": [5, 5.5], "label": "p"}}]'))
    assert t.think == "look" and t.action == "Object Mapper" and not t.errors
    assert t.ops == [Box(1, (10, 20, 30, 40), "ball"), Line(2, (0, 0), (5, 5.5), "p")]


def test_python_literal_blocks_parse_without_eval():
    t = parse_turn(vilasr("[{'index': 1, 'bbox_2d': (10, 20, 30, 40), 'label': 'ball'}]"))
    assert t.ops == [Box(1, (10, 20, 30, 40), "ball")]
    t = parse_turn(vilasr("[__import__('os').system('echo pwned')]"))
    assert t.ops == [] and t.errors


def test_several_blocks_unclosed_block_and_answer():
    text = f"<think>a</think> Action: Object Mapper\n```json\n[{BOX}]\n```\nmore\n```json\n[{BOX}]"
    assert len(parse_turn(text).ops) == 2
    t = parse_turn("<think>done</think> Action: Answer\n<answer> B </answer>")
    assert t.answer == "B" and t.action == "Answer" and t.ops == []


def test_unknown_dicts_are_ignored_like_the_reference():
    t = parse_turn(vilasr(f'[{BOX}, {{"index": 1, "point_2d": [1, 2]}}]'))
    assert len(t.ops) == 1 and t.ignored == 1 and not t.errors


@pytest.mark.parametrize("block, message", [
    ('[{"bbox_2d": [1, 2, 3, 4], "label": "x"}]', "no index"),
    ('[{"index": 1, "bbox_2d": [1, 2, 3], "label": "x"}]', "list of 4"),
    ('[{"index": 1, "bbox_2d": [1, 2, 3, "4"], "label": "x"}]', "number"),
    ('[{"index": 1.5, "bbox_2d": [1, 2, 3, 4], "label": "x"}]', "whole number"),
    ('[{"index": 1, "bbox_2d": [1e999, 2, 3, 4], "label": "x"}]', "finite"),
    ('[{"index": 1, "bbox_2d": [NaN, 2, 3, 4], "label": "x"}]', "neither JSON"),
    ('[{"index": 1, "bbox_2d": [' + "9" * 5000 + ', 2, 3, 4], "label": "x"}]', ""),
    ("[" * 100_000 + "]" * 100_000, ""),
    ('["' + "x" * 10_000_000 + '"]', "too large"),
    ("[1, 2", "neither JSON"),
    ("[true]", "object"),
])
def test_malformed_and_hostile_blocks_become_errors(block, message):
    t = parse_turn(vilasr(block))
    assert t.ops == [] and t.errors and message in t.errors[0]


def test_tool_call_dialect_maps_to_the_same_ops():
    text = ('<think>x</think> <tool_call>{"name": "draw_bbox", "arguments": ' + BOX +
            '}</tool_call><tool_call>{"name": "draw_line", "arguments": {"index": 1, '
            '"start_point_2d": [1, 2], "end_point_2d": [3, 4], "label": "l"}}</tool_call>')
    t = parse_turn(text)
    assert t.dialect == "tool_call" and t.ops == [Box(1, (10, 20, 30, 40), "ball"),
                                                  Line(1, (1, 2), (3, 4), "l")]
    bad = parse_turn('<tool_call>{"name": "draw_line", "arguments": ' + BOX + '}</tool_call>')
    assert bad.ops == [] and "box" not in bad.errors[0] or "line" in bad.errors[0]
    assert parse_turn('<tool_call>{"name": "rm", "arguments": {}}</tool_call>').errors


@pytest.mark.parametrize("dialect", ["vilasr", "tool_call"])
def test_format_then_parse_round_trips(dialect):
    ops = [Box(2, (1, 2, 3, 4), "a"), Line(2, (0, 0), (9, 9), "b")]
    text = format_turn("why", "Path Tracer", ops, dialect=dialect)
    assert parse_turn(text).ops == ops and parse_turn(text).think == "why"


def test_non_text_input():
    assert parse_turn(None).errors


def test_at_most_max_blocks_are_parsed_in_a_turn():
    from thinkpipe.core.drawing.dialect import MAX_BLOCKS
    box = '{"index": 1, "bbox_2d": [0, 0, 2, 2], "label": "a"}'
    fenced = "<think>t</think> Action: Object Mapper\n" + f"```json\n[{box}]\n```\n" * (MAX_BLOCKS + 5)
    turn = parse_turn(fenced, "vilasr")
    assert len(turn.ops) == MAX_BLOCKS and any("more than" in e for e in turn.errors)
    calls = '<tool_call>{"name": "draw_bbox", "arguments": ' + box + "}</tool_call>"
    turn = parse_turn("<think>t</think> Action: draw\n" + calls * (MAX_BLOCKS + 1), "tool_call")
    assert len(turn.ops) == MAX_BLOCKS and any("more than" in e for e in turn.errors)
    assert parse_turn(calls * MAX_BLOCKS, "tool_call").errors == []
    unclosed = parse_turn("<tool_call>" + calls.removeprefix("<tool_call>").removesuffix("</tool_call>"))
    assert len(unclosed.ops) == 1 and unclosed.dialect == "tool_call"
