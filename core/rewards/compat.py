"""Official scoring rules, quirks included (`thinkpipe eval --compat official`).

thinkpipe's default (`strict`) scoring fixes these; reproducing a published number needs them.
Each function takes the record (prediction in `response` or the last assistant turn) and
returns (score, extracted). Sources are the repositories named in each docstring.

    av_odyssey     MMMU's option parser as modified by AV-Odyssey: any capital option letter
                   anywhere counts, ties go to the earliest letter, nothing found gives "A" — so
                   "Answer: B" is scored as A (AV-Odyssey `evaluation.py`, lmms-eval av_odyssey)
    deaftest       the same parser (DeafTest is scored by AV-Odyssey's evaluation.py)
    vilasr         ViLaSR `eval/evaluate.py`: first <answer> else the text; multiple choice by
                   first character; numerical equal to 2 decimals *and* agreeing on having a
                   decimal point; regression MRA with <= and |y| + 1e-8
    vilasr_reward  ViLaSR's RL accuracy (`gcot.py`): exact letter; MRA with strict < for numbers
    video_r1       Video-R1 RL rewards: numerical also demands the same decimal-point presence;
                   regression 1 - min(1, |y^-y|/(|y|+1e-9))
    vsibench       VSI-Bench: first whitespace token, trailing period dropped; letters compared
                   case-insensitively; numbers by MRA (<=)
    mme_reasoning  choice items: comma-split strings compared as sets, case-sensitive (so the
                   extraction prompt's own "[A, C]" form never matches); `function_id` items
                   by function4eval.py's validators (validators.py, official=True): a failed
                   check scores 0
"""
from __future__ import annotations

from typing import Any, Callable

from ..tags import first_block
from .bounds import tail
from .extract import number
from .formats import assistant_turns
from .validators import VALIDATORS
from .validators import check as validate
from .verifiers import gold_letters, question_type

LETTERS = "ABCDEFGHIJ"


def _output(record: dict) -> str:
    """The prediction, its last bounds.WINDOW characters when longer (bounded time)."""
    turns = assistant_turns(record)
    return tail(turns[-1])[0] if turns else ""


def _first_answer_block(text: str) -> str:
    r"""The official `re.search(r"<answer>\s*(.*?)\s*</answer>", text, re.S)` group, else the
    text: the first block, whitespace-stripped (\s and str.strip() agree), found by str.find
    (the lazy regex rescans to the end from every unclosed `<answer>`: quadratic)."""
    block = first_block(text, "<answer>", "</answer>")
    return text if block is None else block.strip()


def av_odyssey_parse(response: str, n_options: int = 4, options: list | None = None) -> str:
    choices = LETTERS[:n_options]
    text = " " + response.strip(",.!?;:'") + " "
    candidates = [c for c in choices if c in text]
    if not candidates:
        candidates = [c for c in choices if f" {c} " in text]
    if not candidates and options and len(text.split()) > 5:
        candidates = [c for c, opt in zip(choices, options) if str(opt).lower() in text.lower()]
    if not candidates:
        return "A"
    if len(candidates) == 1:
        return candidates[0]
    positions = [text.rfind(f"({c})") for c in candidates]
    return candidates[positions.index(max(positions))]


def av_odyssey(record: dict) -> tuple[float, Any]:
    options = record.get("options") or []
    pred = av_odyssey_parse(_output(record), len(options) or 4, options)
    return float([pred] == gold_letters(record["answer"], options or None)), pred


def _decimal_agreement(a: str, b: str) -> bool:
    return (("." in a) or ("," in a)) == (("." in b) or ("," in b))


def _two_decimals(pred: str, gold: Any, check_point: bool) -> float:
    g = str(gold)
    try:
        x, y = float(pred.replace(",", "")), float(g.replace(",", ""))
    except ValueError:
        return 0.0
    if check_point and not _decimal_agreement(pred, g):
        return 0.0
    return float(round(x, 2) == round(y, 2))


def _mra_eps(pred: float, gold: float, strict: bool, eps: float = 1e-8) -> float:
    err = abs(pred - gold) / (abs(gold) + eps)
    thresholds = [0.5 + 0.05 * k for k in range(10)]
    return sum((err < 1 - t) if strict else (err <= 1 - t) for t in thresholds) / 10


def vilasr(record: dict) -> tuple[float, Any]:
    text, qtype = _first_answer_block(_output(record)), question_type(record)
    if qtype == "multiple_choice":
        first = text.strip()[:1].upper()
        return float(first == str(record["answer"]).strip()[:1].upper()), first
    if qtype == "numerical":
        return _two_decimals(text.strip(), record["answer"], check_point=True), text.strip()
    if qtype == "regression":
        got = number(text)
        return (0.0 if got is None else _mra_eps(got, float(record["answer"]), strict=False)), got
    return float(text.strip() == str(record["answer"]).strip()), text.strip()


def vilasr_accuracy(record: dict) -> float:
    """ViLaSR's RL accuracy term (gcot_compute_score)."""
    text, qtype = _first_answer_block(_output(record)).strip(), question_type(record)
    if qtype == "multiple_choice":
        return float(text == str(record["answer"]).strip())
    if qtype in ("numerical", "regression"):
        got, want = number(text), number(str(record["answer"]))
        return 0.0 if got is None or want is None else _mra_eps(got, want, strict=True)
    return 0.0


def video_r1(record: dict) -> tuple[float, Any]:
    text, qtype = _first_answer_block(_output(record)).strip(), question_type(record)
    if qtype == "numerical":
        return _two_decimals(text, record["answer"], check_point=True), text
    if qtype == "regression":
        got, want = number(text), number(str(record["answer"]))
        if got is None or want is None:
            return 0.0, text
        return 1.0 - min(1.0, abs(got - want) / (abs(want) + 1e-9)), got
    if qtype == "multiple_choice":
        return float(text == str(record["answer"]).strip()), text
    return float(text.lower() == str(record["answer"]).strip().lower()), text


def vsibench(record: dict) -> tuple[float, Any]:
    words = _output(record).strip().split()
    token = words[0].rstrip(".") if words else ""
    if question_type(record) == "multiple_choice":
        return float(token.lower() == str(record["answer"]).strip().lower()), token
    try:
        return _mra_eps(float(token), float(record["answer"]), strict=False, eps=0.0), token
    except (ValueError, ZeroDivisionError):
        return 0.0, token


def mme_reasoning(record: dict) -> tuple[float, Any]:
    name = record.get("function_id")
    if name in VALIDATORS:      # function4eval.py's rules; a check that fails to run scores 0
        result = validate(name, _output(record), record.get("answer"), record.get("special_info"),
                          official=True)
        return float(bool(result.ok)), result.text
    text = _first_answer_block(_output(record)).strip()
    gold = record["answer"]
    gold = ",".join(map(str, gold)) if isinstance(gold, list) else str(gold)
    split = lambda s: {p.strip() for p in s.split(",")}  # noqa: E731
    return float(split(text) == split(gold)), text


COMPAT: dict[str, Callable[[dict], tuple[float, Any]]] = {
    "av_odyssey": av_odyssey, "deaftest": av_odyssey, "vilasr": vilasr, "video_r1": video_r1, "vsibench": vsibench,
    "mme_reasoning": mme_reasoning,
}
