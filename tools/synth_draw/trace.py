"""From a Task to a verified conversation: the scripted turns are written out in the dialect,
executed by core/drawing's environment (which renders every observation image), and checked.

Checks (a failure is a TraceError — a bug in the generator, never a skipped record):
- every drawing turn executes and the trajectory ends with the answer turn;
- the answer parsed back from the last turn is the gold answer, and the independent solver
  (solvers.py) reaches the same answer;
- at least 3 assistant turns; the reflection flag agrees with core/drawing's detector;
- mazes: every traced line starts and ends within half a cell of a cell centre (the check
  VILASR applied to its cold-start mazes), and the final path runs from S to G.
"""
from __future__ import annotations

from dataclasses import replace

from thinkpipe.core.drawing import DrawConfig, DrawingEnv, Line, format_turn, has_reflection
from thinkpipe.core.drawing import prompts
from thinkpipe.core.models.chat import options_text

from . import solvers
from .task import Task, TraceError

INSTRUCTIONS = {
    "multiple_choice": "Answer with the letter of the correct option.",
    "numerical": "Answer with a number.",
    "sequence": "Answer with the moves separated by commas.",
}


def question_text(task: Task, env: DrawingEnv) -> str:
    text = f"{env.index_text(1)} {task.question}"
    if task.options:
        text += "\n" + options_text(task.options)
    return text + "\n" + INSTRUCTIONS[task.question_type]


def run(task: Task, dialect: str = "vilasr") -> tuple[list[dict], DrawingEnv]:
    """The full conversation (images as PIL objects) and the environment after the answer."""
    # the limits of a default rollout (reject-sample, grpo): the trace sees the observations a
    # sampled trajectory would see, "continue" rather than "answer now" before its last turn
    env = DrawingEnv([task.image], DrawConfig(max_turns=max(10, len(task.turns) + 1),
                                              max_images=64, dialect=dialect))
    system = prompts.SYSTEM_TOOL_CALL if dialect == "tool_call" else prompts.SYSTEM_VILASR
    messages = [{"role": "system", "content": system},
                {"role": "user", "content": [{"type": "image", "image": task.image},
                                             {"type": "text", "text": question_text(task, env)}]}]
    for turn in task.turns:
        latest = len(env.images)
        text = format_turn(turn.think, turn.action, [replace(op, index=latest) for op in turn.ops],
                           dialect=dialect)
        step = env.step(text)
        if step.done:
            raise TraceError(f"{task.kind}: trace ended early ({step.reason}: {step.error})")
        messages += [{"role": "assistant", "content": text},
                     {"role": "user", "content": step.observation}]
    final = format_turn(task.final_think, "Answer", answer=task.answer)
    step = env.step(final)
    messages.append({"role": "assistant", "content": final})
    if step.reason != "answer" or step.turn.answer != task.answer:
        raise TraceError(f"{task.kind}: the last turn does not give the answer ({step.reason})")
    verify(task, messages, env)
    return messages, env


def verify(task: Task, messages: list[dict], env: DrawingEnv) -> None:
    turns = [m["content"] for m in messages if m["role"] == "assistant"]
    if len(turns) < 3:
        raise TraceError(f"{task.kind}: {len(turns)} assistant turns, want at least 3")
    if has_reflection(turns) != task.reflection:
        raise TraceError(f"{task.kind}: reflection flag {task.reflection} but the detector says "
                         f"{not task.reflection}")
    solvers.check(task)
    if task.kind == "maze":
        _verify_maze_path(task, env)


def _verify_maze_path(task: Task, env: DrawingEnv) -> None:
    from .maze import Layout
    layout = Layout(task.image.size[0], task.meta["grid_size"])
    n = layout.n
    centres = {layout.centre((r, c)): (r, c) for r in range(n) for c in range(n)}
    half = min(layout.cell) / 2
    lines = [op for op in env.states[-1].values() if isinstance(op, Line)]
    for op in lines:
        for x, y in (op.start, op.end):
            if min(abs(x - cx) + abs(y - cy) for cx, cy in centres) > half:
                raise TraceError(f"maze: {op.label} ends off the cell centres at ({x}, {y})")
    if task.meta["reachable"]:
        cells = [centres[tuple(map(round, lines[0].start))]] + \
            [centres[tuple(map(round, op.end))] for op in lines]
        if cells[0] != tuple(task.meta["start"]) or cells[-1] != tuple(task.meta["goal"]):
            raise TraceError("maze: the final traced path does not run from S to G")
