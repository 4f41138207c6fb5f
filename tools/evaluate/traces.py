"""What a drawing trajectory is besides right or wrong: VILASR's format and reflection.

For a record answered through the drawing loop (`prompt_template` vilasr, as `eval --tools
draw` writes it) eval adds two 0/1 fields, and the summary their rates with 95% intervals:

    format      every turn is <think>...</think> then one well-formed action, the last one
                Action: Answer with <answer>...</answer> (core.rewards.vilasr_format, the
                reward reject-sample --require format checks)
    reflection  a drawing revised under its label: a box or line drawn again with the same
                label, VILASR's reflection criterion (core.rewards.reflection)

The turns scored are the generated ones (`turns`), never the gold trace a synth-draw record
carries in `messages`: a random model must not inherit the gold trace's format rate.
"""
from __future__ import annotations

from thinkpipe.core.rewards import assistant_turns, reflection, vilasr_format

RATES = ("format", "reflection")


def trace_fields(record: dict) -> dict:
    """{"format": 0/1, "reflection": 0/1} for a drawing trajectory, else {}."""
    if record.get("prompt_template") != "vilasr":
        return {}
    turns = record.get("turns")
    if not isinstance(turns, list):
        turns = assistant_turns(record)
    return {"format": vilasr_format(turns), "reflection": reflection(turns)}
