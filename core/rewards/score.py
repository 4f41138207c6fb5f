"""Scoring one record: extract, verify, and say exactly what happened.

Every item gets a `status`:
    correct       the verifier gave full marks
    incorrect     the answer was read and is (partly) wrong; `score` holds partial credit
    unparseable   no answer could be read from the output (counts as 0)
    truncated     the output was cut off before its answer (counts as 0, reported apart)
    judge_failed  the evaluator could not decide — rules failed and the judge failed too, or
                  the record has no gold answer: no score, excluded from means and reported,
                  never silently counted as wrong
A record with no prediction at all scores as unparseable (the model gave nothing to read).
and `extracted` (what was compared) with `method` (how it was found).

The prediction is `response` when the record has one, else the last assistant turn of
`messages`; `prediction_from` says which was scored. An output that was cut off
(`finish_reason` length, turn_tokens or total_tokens; `end_reason`, the name older
reject-sample and grpo files used, is read too) and has no answer marker (<answer>,
\\boxed{}, "the answer is") is `truncated`, never scored from whatever its text ends with. A
prediction that cannot be read (no number, `1e999`) is `unparseable` and counts in n; only an
unusable gold answer makes a bad record (NotScorable).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .bounds import tail
from .extract import extract, number_token
from .formats import assistant_turns, message_turns
from .validators import VALIDATORS, needs_gold
from .validators import check as validate
from .verifiers import VERIFIERS, BadGold, Unparseable, question_type

STATUSES = ("correct", "incorrect", "unparseable", "truncated", "judge_failed", "unscorable")
# finish reasons of an output cut off before it ended on its own (generation, drawing loop)
CUT_OFF = ("length", "turn_tokens", "total_tokens")


class NotScorable(ValueError):
    """The record lacks what scoring needs (a prediction, a gold answer): a bad record."""


@dataclass
class Scored:
    score: float | None
    status: str
    extracted: Any
    method: str
    verifier: str
    detail: str | None = None
    source: str | None = None   # response | messages: where the prediction came from
    window: list | None = None  # [start, length]: only the prediction's tail was read (bounds.py)

    def fields(self) -> dict:
        out = {"score": self.score, "status": self.status, "extracted": self.extracted,
               "extract_method": self.method, "verifier": self.verifier,
               "prediction_from": self.source}
        if self.detail:
            out["score_detail"] = self.detail
        if self.window:
            out["score_window"] = self.window
        return out


def prediction(record: dict) -> str | None:
    """The output to score: `response`, else the last assistant turn of `messages`."""
    turns = assistant_turns(record)
    return turns[-1] if turns else None


def finish_reason(record: dict) -> str | None:
    """Why the output ended: `finish_reason` (OpenAI/vLLM's name), else the older `end_reason`."""
    reason = record.get("finish_reason", record.get("end_reason"))
    return reason if isinstance(reason, str) else None


def _failed(ext, finish_reason: str | None, verifier: str, why: str) -> Scored:
    cut = ext.truncated or finish_reason in CUT_OFF
    return Scored(0.0, "truncated" if cut else "unparseable", ext.text, ext.method, verifier, why)


def _prediction(record: dict) -> tuple[str | None, str | None]:
    """(prediction, where it came from): prediction() and prediction_source() in one look."""
    response = record.get("response")
    if isinstance(response, str):
        return response, "response"
    turns = message_turns(record)
    return (turns[-1], "messages") if turns else (None, None)


def score_record(record: dict, judge=None) -> Scored:
    """Score one record carrying a prediction and a gold `answer` (rules first, judge last)."""
    output, source = _prediction(record)
    window = None
    if output is not None:
        output, window = tail(output)          # bounded time on any output (bounds.py)
    scored = _score(record, output, judge)
    scored.source, scored.window = source, window
    return scored


def _score(record: dict, output: str | None, judge) -> Scored:
    validator = record.get("function_id") or record.get("validator")
    if validator in VALIDATORS:
        return score_validated(record, validator, output)
    if record.get("answer") is None:
        return Scored(None, "judge_failed", None, "none", "none", "no gold `answer` to score against")
    if output is None:
        return Scored(0.0, "unparseable", None, "none", "none",
                      "no prediction (`response` or an assistant turn in `messages`)")
    gold, ext, finish = record["answer"], extract(output), finish_reason(record)
    qtype = question_type(record)
    name = qtype if qtype in VERIFIERS else "exact"
    if ext.method == "full_text" and finish in CUT_OFF:   # cut off before any answer marker
        return Scored(0.0, "truncated", None, ext.method, name, f"cut off ({finish}) before an answer")
    verifier = VERIFIERS[name]
    if ext.text is None:
        return _ask_judge(judge, record, output, ext, name) or _failed(ext, finish, name, "no answer")
    text = ext.text
    if ext.method == "full_text" and name in ("numerical", "regression"):
        last = number_token(text, last=True)  # no answer marker: the final number answers
        text = text if last is None else last
    try:
        value = verifier(text, gold, record)
    except BadGold as e:
        raise NotScorable(str(e)) from None
    except Unparseable as e:
        return _ask_judge(judge, record, output, ext, name) or _failed(ext, finish, name, str(e))
    except (ValueError, ArithmeticError, TypeError, RecursionError, MemoryError) as e:
        # the prediction broke the verifier (a huge exponent, a pathological expression): it
        # cannot be read, which is the model's failure, not the record's
        why = f"cannot read the answer: {type(e).__name__}: {str(e)[:80]}"
        return _ask_judge(judge, record, output, ext, name) or _failed(ext, finish, name, why)
    return Scored(value, "correct" if value >= 1.0 else "incorrect", text, ext.method, name)


def score_validated(record: dict, name: str, output: str | None,
                    official: bool = False) -> Scored:
    """An MME-Reasoning item checked by its `function_id` validator (core/rewards/validators.py):
    any valid solution is correct; puzzles need no gold; an item whose givens cannot be read is
    `unscorable`, never a stopped run. `output`: the record's prediction (score_record's)."""
    gold = record.get("answer")
    if output is None:
        return Scored(0.0, "unparseable", None, "none", name,
                      "no prediction (`response` or an assistant turn in `messages`)")
    if needs_gold(name) and gold in (None, ""):
        return Scored(None, "unscorable", None, "none", name, f"{name} needs a gold `answer`")
    ext, finish = extract(output), finish_reason(record)
    if ext.method == "full_text" and finish in CUT_OFF:
        return Scored(0.0, "truncated", None, ext.method, name, f"cut off ({finish}) before an answer")
    result = validate(name, output, gold, record.get("special_info"), ext.text, official)
    if result.ok is None:
        return Scored(None, "unscorable", result.text, ext.method, name, result.detail)
    if result.text is None:
        return _failed(ext, finish, name, result.detail or "no answer found")
    return Scored(float(result.ok), "correct" if result.ok else "incorrect", result.text,
                  ext.method, name, result.detail)


def _ask_judge(judge, record, output, ext, name) -> Scored | None:
    if judge is None:
        return None
    verdict = judge.decide(record, output)
    if verdict is None:
        return Scored(None, "judge_failed", ext.text, ext.method, f"judge:{judge.name}",
                      "the judge gave no usable verdict")
    return Scored(verdict, "correct" if verdict >= 1 else "incorrect", ext.text,
                  f"{ext.method}+judge", f"judge:{judge.name}")
