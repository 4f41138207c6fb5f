"""Fuzzed drawing turns (issue 22): parse_turn reads any text and never raises.

Properties:
  - parse_turn(any string, any dialect) returns a Turn: its ops are Box/Line values with an image
    index in [1, 10000], finite coordinates within ±MAX_COORD and a label of at most 200
    characters; every problem is a message in Turn.errors (parse_turn's documented contract:
    OpError never escapes it, and nothing else is raised);
  - parse_block(any string) is a value or an OpError, and to_ops(any value) is (ops, ignored) or
    an OpError — the documented error type of ops.py, never another exception;
  - the ops read back from format_turn(ops) are the ops written, in both dialects.
Texts mix fences, tool calls, JSON and Python literals (huge and hexadecimal integers, NaN,
deep nesting) with random characters.
"""
import json
import math

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from thinkpipe.core.drawing import Box, Line, format_turn, parse_turn
from thinkpipe.core.drawing.ops import MAX_COORD, OpError, parse_block, to_ops
from tests.fuzzing import fuzz

FUZZ = fuzz(200)

HUGE = "0x" + "f" * 4000       # a Python literal of ~4800 decimal digits: str() refuses it
FRAGMENTS = ["<think>", "</think>", " Action: ", "Object Mapper", "Path Tracer", "Answer", "\n",
             "```json\n", "```json", "```", "\n```\n", "<tool_call>", "</tool_call>",
             "<answer>", "</answer>", "{", "}", "[", "]", ",", ":", '"index"', "'index'", "1",
             "0", "-1", "1.5", "1e400", "NaN", "Infinity", "None", "True", HUGE, "9" * 30,
             '"bbox_2d"', "'bbox_2d'", '"start_point_2d"', '"end_point_2d"', '"label"', '"x"',
             '"name"', '"draw_bbox"', '"draw_line"', '"arguments"', "(", ")", " ", "\r\n", "é"]
texts = st.one_of(st.lists(st.sampled_from(FRAGMENTS), max_size=30).map("".join), st.text())

numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(), st.sampled_from([HUGE]),
                    st.booleans(), st.none(), st.text(max_size=3))
points = st.lists(numbers, max_size=5)
ops_dicts = st.fixed_dictionaries({}, optional={
    "index": numbers, "bbox_2d": points, "start_point_2d": points, "end_point_2d": points,
    "label": st.one_of(numbers, st.text(max_size=300), st.lists(st.integers(), max_size=2))})


def _literal(value) -> str:
    """A Python literal of `value` (repr), with HUGE spliced in raw where it stands as a string."""
    return repr(value).replace(repr(HUGE), HUGE)


blocks = st.one_of(st.lists(ops_dicts, max_size=4), ops_dicts).map(_literal)


def _check_turn(turn) -> None:
    assert all(isinstance(e, str) for e in turn.errors)
    for op in turn.ops:
        assert isinstance(op, (Box, Line)) and 1 <= op.index <= 10_000
        coords = op.bbox if isinstance(op, Box) else op.start + op.end
        assert all(math.isfinite(v) and abs(v) <= MAX_COORD for v in coords)
        assert isinstance(op.label, str) and len(op.label) <= 200


@FUZZ
@given(texts, st.sampled_from(["auto", "vilasr", "tool_call"]))
@example("```json\n{'index': 1, 'bbox_2d': [1, 2, 3, 4], 'label': %s}\n```" % HUGE, "auto")
@example("```json\n{'index': %s, 'bbox_2d': [1, 2, 3, 4]}\n```" % HUGE, "auto")
def test_any_text_parses_to_a_turn(text, dialect):
    _check_turn(parse_turn(text, dialect))


@FUZZ
@given(blocks, st.sampled_from(["Object Mapper", "Path Tracer"]))
def test_any_operation_block_parses_to_ops_or_errors(block, action):
    turn = parse_turn(f"<think>t</think> Action: {action}\n```json\n{block}\n```")
    _check_turn(turn)
    calls = "".join(f'<tool_call>{{"name": "draw_bbox", "arguments": {arg}}}</tool_call>'
                    for arg in (block, block.replace("'", '"')))
    _check_turn(parse_turn(calls, "tool_call"))


@FUZZ
@given(st.one_of(texts, blocks))
def test_parse_block_and_to_ops_raise_only_op_error(text):
    try:
        value = parse_block(text)
        ops, ignored = to_ops(value)
    except OpError:
        return
    assert ignored >= 0 and all(isinstance(op, (Box, Line)) for op in ops)


coords = st.integers(-5000, 5000) | st.floats(-5000, 5000, allow_nan=False).map(
    lambda v: round(v, 3))
box_ops = st.builds(lambda i, b, s: Box(i, tuple(float(v) for v in b), s), st.integers(1, 9),
                    st.tuples(coords, coords, coords, coords), st.text(max_size=20))
line_ops = st.builds(lambda i, a, b, s: Line(i, tuple(map(float, a)), tuple(map(float, b)), s),
                     st.integers(1, 9), st.tuples(coords, coords), st.tuples(coords, coords),
                     st.text(max_size=20))


@pytest.mark.parametrize("dialect", ["vilasr", "tool_call"])
def test_written_ops_read_back(dialect):
    @fuzz(100)
    @given(st.lists(box_ops | line_ops, min_size=1, max_size=5))
    def check(ops):
        turn = parse_turn(format_turn("t", "Object Mapper", ops, dialect=dialect))
        assert turn.errors == [] and turn.ops == ops, (turn, json.dumps([o.to_dict() for o in ops]))
    check()
