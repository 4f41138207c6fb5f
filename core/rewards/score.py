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
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import orjson

from .extract import extract, number_token
from .formats import assistant_turns
from .puzzles import VALIDATORS
from .verifiers import VERIFIERS, Unparseable, question_type

STATUSES = ("correct", "incorrect", "unparseable", "truncated", "judge_failed")


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

    def fields(self) -> dict:
        out = {"score": self.score, "status": self.status, "extracted": self.extracted,
               "extract_method": self.method, "verifier": self.verifier}
        if self.detail:
            out["score_detail"] = self.detail
        return out


def prediction(record: dict) -> str | None:
    """The output to score: `response`, else the last assistant turn of `messages`."""
    turns = assistant_turns(record)
    return turns[-1] if turns else None


def _literal(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text) if len(text) < 100_000 else text
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _info(record: dict) -> dict:
    info = record.get("special_info") or {}
    return _literal(info) if isinstance(info, str) else info


def _failed(ext, finish_reason: str | None, verifier: str, why: str) -> Scored:
    cut = ext.truncated or finish_reason == "length"
    return Scored(0.0, "truncated" if cut else "unparseable", ext.text, ext.method, verifier, why)


def score_record(record: dict, judge=None) -> Scored:
    """Score one record carrying a prediction and a gold `answer` (rules first, judge last)."""
    output = prediction(record)
    if record.get("answer") is None:
        return Scored(None, "judge_failed", None, "none", "none", "no gold `answer` to score against")
    if output is None:
        return Scored(0.0, "unparseable", None, "none", "none",
                      "no prediction (`response` or an assistant turn in `messages`)")
    gold = record["answer"]
    ext = extract(output)
    finish = record.get("finish_reason")
    validator = record.get("function_id") or record.get("validator")
    if validator in VALIDATORS:
        if ext.text is None:
            return _failed(ext, finish, validator, "no answer found")
        ok = VALIDATORS[validator](_literal(ext.text), _literal(gold) if isinstance(gold, str)
                                   else gold, _info(record))
        return Scored(float(ok), "correct" if ok else "incorrect", ext.text, ext.method, validator)
    qtype = question_type(record)
    verifier = VERIFIERS.get(qtype, VERIFIERS["exact"])
    name = qtype if qtype in VERIFIERS else "exact"
    if ext.text is None:
        return _ask_judge(judge, record, output, ext, name) or _failed(ext, finish, name, "no answer")
    text = ext.text
    if ext.method == "full_text" and name in ("numerical", "regression"):
        last = number_token(text, last=True)  # no answer marker: the final number answers
        text = text if last is None else last
    try:
        value = verifier(text, gold, record)
    except Unparseable as e:
        return _ask_judge(judge, record, output, ext, name) or _failed(ext, finish, name, str(e))
    return Scored(value, "correct" if value >= 1.0 else "incorrect", text, ext.method, name)


def _ask_judge(judge, record, output, ext, name) -> Scored | None:
    if judge is None:
        return None
    verdict = judge.decide(record, output)
    if verdict is None:
        return Scored(None, "judge_failed", ext.text, ext.method, f"judge:{judge.name}",
                      "the judge gave no usable verdict")
    return Scored(verdict, "correct" if verdict >= 1 else "incorrect", ext.text,
                  f"{ext.method}+judge", f"judge:{judge.name}")
