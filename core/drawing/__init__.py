"""The drawing environment (VILASR): parse drawing turns, execute them, observe new images.

    from thinkpipe.core.drawing import DrawingEnv, DrawConfig, parse_turn, format_turn
    env = DrawingEnv([image])
    step = env.step('<think>...</think> Action: Object Mapper\\n```json\\n[{"index": 1, '
                    '"bbox_2d": [10, 10, 80, 60], "label": "ball"}]\\n```')
    step.observation  # [{"type": "image", "image": <PIL>}, {"type": "text", "text": "The index..."}]
"""
from .dialect import Turn, format_turn, parse_turn
from .env import REASONS, DrawConfig, DrawingEnv, Step
from .ops import Box, Line, Op, OpError, parse_block
from .reflection import has_reflection, revisions
from .render import BOX_COLOURS, render

__all__ = ["Turn", "format_turn", "parse_turn", "REASONS", "DrawConfig", "DrawingEnv", "Step",
           "Box", "Line", "Op", "OpError", "parse_block", "has_reflection", "revisions",
           "BOX_COLOURS", "render"]
