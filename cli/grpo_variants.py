"""grpo's reward-variant options (Trust-GRPO, T-GRPO, format gate, length bonus): the flags,
and the ShapingConfig they make (tools/grpo/variants.py)."""
from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer

from .options import frame_options

VARIANTS, FRAMES = "Reward variants (Trust-GRPO, T-GRPO)", "Frames"


class Trust(str, Enum):
    paper = "paper"
    released = "released"


FormatGate = Annotated[bool, typer.Option(
    "--format-gate", rich_help_panel=VARIANTS,
    help="Outcome reward 0 unless the response is <think>...</think><answer>...</answer> "
         "(SophiaVL-R1).")]
ThinkingReward = Annotated[Optional[str], typer.Option(
    "--thinking-reward", metavar="PATH|URL|MODULE:FN", rich_help_panel=VARIANTS,
    help="Trust-GRPO: score each response's reasoning in [0, 1] with this model folder, "
         "OpenAI-compatible endpoint or function.")]
ThinkingModel = Annotated[Optional[str], typer.Option(
    "--thinking-model", metavar="NAME", rich_help_panel=VARIANTS,
    help="The model name sent to a --thinking-reward URL.")]
TrustVariant = Annotated[Trust, typer.Option(
    "--trust", rich_help_panel=VARIANTS,
    help="paper: gamma over all responses; released: SophiaVL's code (man grpo, TRUST-GRPO).")]
ThinkAlpha = Annotated[float, typer.Option("--think-alpha", min=0.0, rich_help_panel=VARIANTS,
                                           help="alpha, the thinking reward's weight.")]
AnnealSteps = Annotated[Optional[int], typer.Option(
    "--anneal-steps", metavar="T", min=1, rich_help_panel=VARIANTS,
    help="T in alpha exp(-step/T) (default: the run's total steps).")]
CorrectThreshold = Annotated[float, typer.Option(
    "--correct-threshold", rich_help_panel=VARIANTS,
    help="Outcome at which a response counts as correct for gamma.")]
ScoreThreshold = Annotated[float, typer.Option(
    "--score-threshold", rich_help_panel=VARIANTS,
    help="--trust released: outcomes below this get no thinking reward.")]
Temporal = Annotated[bool, typer.Option(
    "--temporal", rich_help_panel=VARIANTS,
    help="T-GRPO: also sample responses to shuffled frames; bonus when order helps.")]
ShuffledFraction = Annotated[float, typer.Option(
    "--shuffled-fraction", rich_help_panel=VARIANTS,
    help="Shuffled-frame responses per group, as a fraction of --num-generations.")]
TemporalRatio = Annotated[float, typer.Option(
    "--temporal-ratio", min=0.0, rich_help_panel=VARIANTS,
    help="mu in p >= mu p~ (0.8 reproduces Video-R1's code).")]
TemporalAlpha = Annotated[float, typer.Option("--temporal-alpha", min=0.0,
                                              rich_help_panel=VARIANTS)]
LengthBonus = Annotated[float, typer.Option(
    "--length-bonus", min=0.0, rich_help_panel=VARIANTS,
    help="Video-R1's length reward for correct responses in --length-range (0: off).")]
LengthRange = Annotated[str, typer.Option("--length-range", metavar="MIN,MAX",
                                          rich_help_panel=VARIANTS)]
MaxFrames, Fps = frame_options(FRAMES)


def shaping_config(p: dict):
    """ShapingConfig from the parsed options (ctx.params)."""
    from thinkpipe.tools.grpo import ShapingConfig
    try:
        low, high = (int(x) for x in p["length_range"].split(","))
    except ValueError:
        raise ValueError("--length-range is MIN,MAX tokens, e.g. 320,512") from None
    return ShapingConfig(
        format_gate=p["format_gate"], thinking_reward=p["thinking_reward"],
        thinking_model=p["thinking_model"], trust=p["trust"].value, think_alpha=p["think_alpha"],
        anneal_steps=p["anneal_steps"], correct_threshold=p["correct_threshold"],
        score_threshold=p["score_threshold"], temporal=p["temporal"],
        shuffled_fraction=p["shuffled_fraction"], temporal_ratio=p["temporal_ratio"],
        temporal_alpha=p["temporal_alpha"], length_bonus=p["length_bonus"],
        length_range=(low, high))
