"""Reading an assistant turn: its think block, its action, its drawing operations, its answer.

Two dialects map onto the same operations:

  vilasr     <think>...</think> Action: Object Mapper|Path Tracer|Answer, then the operations
             as a list in a fenced block (a line "```json" ... a line "```"), or for the last
             turn <answer>...</answer>. Several blocks may appear; an unclosed block runs to the
             end of the turn.
  tool_call  <tool_call>{"name": "draw_bbox"|"draw_line", "arguments": {...}}</tool_call>, one
             per operation, the arguments being the fields of a box or a line.

`parse_turn` never raises: problems are listed in Turn.errors. A turn is read in time linear in
its length, and at most MAX_BLOCKS drawing blocks or tool calls of it are parsed (a collapsing
policy writing a megabyte of "```json" lines cost 0.9 s a turn); more is an error of the turn.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..tags import first_block
from .ops import Box, Line, Op, OpError, parse_block, to_op, to_ops

MAX_BLOCKS = 64        # drawing blocks (or tool calls) parsed in one turn
ACTION = re.compile(r"</think>\s*Action:\s*([^\n]*)")
FENCE = re.compile(r"^[ \t]*```json[ \t]*\r?$", re.M)
CLOSE = re.compile(r"^[ \t]*```", re.M)
OPEN_CALL, CLOSE_CALL = "<tool_call>", "</tool_call>"
TOOLS = {"draw_bbox": "bbox", "draw_line": "line"}


@dataclass
class Turn:
    think: str | None = None
    action: str | None = None
    ops: list[Op] = field(default_factory=list)
    answer: str | None = None
    errors: list[str] = field(default_factory=list)
    ignored: int = 0  # dicts that were neither a box nor a line
    dialect: str = "vilasr"


def _json_blocks(text: str) -> list[str]:
    """The fenced blocks' contents, at most MAX_BLOCKS + 1 of them."""
    blocks, pos = [], 0
    while len(blocks) <= MAX_BLOCKS and (m := FENCE.search(text, pos)):
        end = CLOSE.search(text, m.end())
        blocks.append(text[m.end():end.start() if end else len(text)])
        pos = end.end() if end else len(text)
    return blocks


def _tool_calls(text: str) -> list[str]:
    """What each <tool_call> holds, up to its </tool_call> or the end; at most MAX_BLOCKS + 1."""
    calls, pos = [], 0
    while len(calls) <= MAX_BLOCKS and (start := text.find(OPEN_CALL, pos)) >= 0:
        start += len(OPEN_CALL)
        end = text.find(CLOSE_CALL, start)
        calls.append(text[start:end] if end >= 0 else text[start:])
        pos = end + len(CLOSE_CALL) if end >= 0 else len(text)
    return calls


def _too_many(blocks: list, turn: Turn, what: str) -> list:
    if len(blocks) > MAX_BLOCKS:
        turn.errors.append(f"more than {MAX_BLOCKS} {what} in one turn; the rest are not read")
    return blocks[:MAX_BLOCKS]


def _vilasr_ops(text: str, turn: Turn) -> None:
    for block in _too_many(_json_blocks(text), turn, "drawing blocks"):
        try:
            ops, ignored = to_ops(parse_block(block))
            turn.ops += ops
            turn.ignored += ignored
        except OpError as e:
            turn.errors.append(str(e))


def _tool_call_ops(text: str, turn: Turn) -> None:
    for raw in _too_many(_tool_calls(text), turn, "tool calls"):
        try:
            call = parse_block(raw)
            if not isinstance(call, dict) or call.get("name") not in TOOLS:
                raise OpError("a tool call must name draw_bbox or draw_line")
            args = call.get("arguments")
            if not isinstance(args, dict):
                raise OpError("a tool call needs an arguments object")
            op = to_op(args)
            want = Box if TOOLS[call["name"]] == "bbox" else Line
            if not isinstance(op, want):
                raise OpError(f"{call['name']} arguments do not describe a "
                              f"{'box' if want is Box else 'line'}")
            turn.ops.append(op)
        except OpError as e:
            turn.errors.append(str(e))


def parse_turn(text: str, dialect: str = "auto") -> Turn:
    """Parse one assistant turn in `vilasr`, `tool_call` or `auto` (by the text) dialect."""
    if not isinstance(text, str):
        return Turn(errors=["turn is not text"])
    if dialect == "auto":
        dialect = "tool_call" if OPEN_CALL in text else "vilasr"
    turn = Turn(dialect=dialect)
    if (think := first_block(text, "<think>", "</think>")) is not None:   # linear: core/tags.py
        turn.think = think.strip()
    if m := ACTION.search(text):
        turn.action = m.group(1).strip()
    if (answer := first_block(text, "<answer>", "</answer>")) is not None:
        turn.answer = answer.strip()
    (_tool_call_ops if dialect == "tool_call" else _vilasr_ops)(text, turn)
    return turn


def format_turn(think: str, action: str, ops: list[Op] | None = None, answer: str | None = None,
                dialect: str = "vilasr") -> str:
    """An assistant turn in a dialect (what synth-draw writes and parse_turn reads back)."""
    import json
    head = f"<think>{think}</think>"
    if answer is not None:
        return f"{head} Action: Answer\n<answer>{answer}</answer>"
    if dialect == "tool_call":    # "<" escaped: a label holding "</tool_call>" cannot end a call
        calls = "\n".join(
            "<tool_call>" + json.dumps({"name": "draw_bbox" if isinstance(op, Box) else "draw_line",
                                        "arguments": op.to_dict()}).replace("<", "\\u003c")
            + "</tool_call>" for op in ops)
        return f"{head} Action: {action}\n{calls}"
    return f"{head} Action: {action}\n```json\n{json.dumps([op.to_dict() for op in ops])}\n```"
