"""The drawing environment: executes an assistant turn's drawings and returns the new images.

    env = DrawingEnv([question_image], DrawConfig(max_turns=10))
    step = env.step(assistant_text)          # parse, execute, observe
    step.observation                         # user-turn content parts: new images + their text
    step.done, step.reason                   # why the trajectory ended, if it did

Semantics (VILASR, `verl/workers/rollout/.../vllm_rollout_spmd_video.py` and `eval/infer.py`):
operations are grouped by image index in order of first mention; every image keeps a
label -> operation state; drawing on image k merges the new operations into k's state (a label
already there is replaced: that is how a model revises a drawing) and appends the rendering as a
new image with the next index, which carries the merged state.

Departure, with both available (DrawConfig.redraw_from):
  "base"   (default) the merged state is drawn on the original image k descends from, so a
           replaced drawing disappears — what "replace" means, and what the paper describes;
  "pixels" the reference code's behaviour: the merged state is drawn over image k's pixels,
           so a replaced drawing stays visible underneath the new one.

Endings (Step.reason): answer, max_turns, max_images, no_op (a turn with neither drawings nor an
answer), bad_op (a malformed operation), bad_index (an image that does not exist), turn_tokens,
total_tokens. With on_error="observe", bad_op and bad_index become an error observation and the
trajectory goes on. No input makes step() raise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from . import prompts
from .dialect import Turn, parse_turn
from .ops import Op
from .render import render

REASONS = ("answer", "max_turns", "max_images", "no_op", "bad_op", "bad_index", "turn_tokens",
           "total_tokens")


@dataclass(frozen=True)
class DrawConfig:
    """The drawing environment's limits and dialect.

    max_turns         assistant turns, the answer turn included
    max_images        images in the conversation, inputs included
    max_turn_tokens   a turn over this many tokens ends the trajectory (None: no limit)
    max_total_tokens  so do all turns together over this many
    dialect           vilasr | tool_call | auto
    on_error          a drawing that does not parse: end | observe (the error is shown)
    redraw_from       base (a replaced drawing is erased) | pixels (VILASR's code: drawn over)
    continue_text     the user turn after a drawing; final_text: the one when drawing must stop
    """
    max_turns: int = 10
    max_images: int = 42
    max_turn_tokens: int | None = None
    max_total_tokens: int | None = None
    dialect: str = "auto"
    on_error: str = "end"
    redraw_from: str = "base"
    continue_text: str = prompts.CONTINUE
    final_text: str = prompts.FINAL


@dataclass
class Step:
    turn: Turn
    done: bool = False
    reason: str | None = None
    error: str | None = None
    observation: list[dict] | None = None   # content parts of the next user turn
    new_images: list[int] = field(default_factory=list)  # 1-based indices


class DrawingEnv:
    def __init__(self, images: list[Image.Image], config: DrawConfig = DrawConfig()):
        self.config = config
        self.images: list[Image.Image] = list(images)
        self.base: list[int] = list(range(len(images)))          # image each one descends from
        self.states: list[dict[str, Op]] = [{} for _ in images]  # label -> op, per image
        self.turns = self.tokens = 0
        self.done, self.reason = False, None

    def index_text(self, k: int) -> str:
        w, h = self.images[k - 1].size
        return prompts.IMAGE_INDEX.format(index=k, width=w, height=h)

    @property
    def last_turn_next(self) -> bool:
        """Is the next assistant turn the last one allowed (turns or images exhausted)?"""
        return self.turns + 1 >= self.config.max_turns or \
            len(self.images) >= self.config.max_images

    def _end(self, step: Step, reason: str, error: str | None = None) -> Step:
        self.done, self.reason = True, reason
        step.done, step.reason, step.error = True, reason, error
        return step

    def step(self, text: str, tokens: int | None = None) -> Step:
        """Advance by one assistant turn."""
        turn = parse_turn(text, self.config.dialect)
        step = Step(turn)
        if self.done:
            return self._end(step, self.reason or "answer", "the trajectory has already ended")
        self.turns += 1
        self.tokens += tokens or 0
        cfg = self.config
        if tokens is not None and cfg.max_turn_tokens and tokens >= cfg.max_turn_tokens:
            return self._end(step, "turn_tokens")
        if cfg.max_total_tokens and self.tokens >= cfg.max_total_tokens:
            return self._end(step, "total_tokens")
        if turn.answer is not None:
            return self._end(step, "answer")
        if turn.errors or not turn.ops:
            reason = "bad_op" if turn.errors else "no_op"
            error = "; ".join(turn.errors) or "no drawing and no answer in this turn"
            return self._fail(step, reason, error)
        bad = sorted({op.index for op in turn.ops if op.index > len(self.images)})
        if bad:
            return self._fail(step, "bad_index", f"image {bad[0]} does not exist (there are "
                              f"{len(self.images)})")
        targets = list(dict.fromkeys(op.index for op in turn.ops))
        if len(self.images) + len(targets) > cfg.max_images:
            return self._end(step, "max_images", f"more than {cfg.max_images} images")
        for k in targets:
            self._draw(k, [op for op in turn.ops if op.index == k])
            step.new_images.append(len(self.images))
        if self.turns >= cfg.max_turns:
            return self._end(step, "max_turns")
        step.observation = self._observe(step.new_images)
        return step

    def _fail(self, step: Step, reason: str, error: str) -> Step:
        if self.config.on_error == "observe" and self.turns < self.config.max_turns:
            step.error = error
            step.observation = [{"type": "text", "text": prompts.ERROR.format(error=error)}]
            return step
        return self._end(step, reason, error)

    def _draw(self, k: int, ops: list[Op]) -> None:
        state = dict(self.states[k - 1])
        for op in ops:
            state[op.label] = op          # a label already there keeps its place, new drawing
        source = self.images[self.base[k - 1]] if self.config.redraw_from == "base" \
            else self.images[k - 1]
        self.images.append(render(source, list(state.values())))
        self.base.append(self.base[k - 1])
        self.states.append(state)

    def _observe(self, new: list[int]) -> list[dict]:
        parts: list[dict] = []
        for k in new:
            parts += [{"type": "image", "image": self.images[k - 1]},
                      {"type": "text", "text": self.index_text(k)}]
        tail = self.config.final_text if self.last_turn_next else self.config.continue_text
        parts[-1] = {"type": "text", "text": parts[-1]["text"] + " " + tail}
        return parts
