"""Rationale records -> steps -> token ranges -> the student's training example at a stage.

A record is `{question, rationale, answer}`; a teacher's sample (`response`, or the last
assistant turn of `messages` as reject-sample writes them: its `<think>` text, with a closing
"the answer is" phrase or `<answer>` block cut off) or a GSM8K record (`answer` holding the
solution, `#### N` after it) are read too, in that order. GSM8K's calculator
annotations `<<48/2=24>>` are kept or stripped (`calculator`). Steps end at "." followed by
white space or the end (so 3.5 is not split), or at new lines; each step keeps its leading
white space, so the steps joined are the rationale exactly and character offsets line up.

The student sees the conversation the eval command later asks it: the question as the user
turn, `rationale + " Therefore, the answer is Y."` as the assistant's (the paper's zero-shot-CoT
template, whose last phrase `thinkpipe eval` extracts). Tokens are located through the
tokenizer's character offsets, as sft's are (core/models/tokens.py): a token belongs to the
step its first character falls in.

At stage t with c_i input steps (paper §3.4, Eq. 15): steps 1..c_i are context (no loss), the
tokens of steps c_i+1..n_i carry loss weight w_j (the token-weighting module's sigmoid; 1 when
unweighted), and the answer tail (with the end-of-turn marker) carries weight 1 — the answer
NLL the paper leaves out of Eq. 15 "for clarity".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

TAIL = " Therefore, the answer is {answer}."
_PERIOD = re.compile(r"(?<=\.)(?=\s|$)")
_CALCULATOR = re.compile(r"<<[^<>]*>>")
_ANSWER_PHRASE = re.compile(r"(?is)\s*(?:therefore,?\s*)?the (?:final )?answer is\b.*$")
_ANSWER_TAGS = re.compile(r"(?is)<answer>.*?</answer>")
_THINK = re.compile(r"(?is)<think>(.*?)</think>")


@dataclass(frozen=True)
class Rationale:
    id: str
    question: str
    steps: tuple[str, ...]       # joined, they are the rationale text exactly
    answer: str
    where: str


@dataclass(frozen=True)
class Encoded:
    """A rationale's conversation as tokens (indices into input_ids)."""
    input_ids: list[int]
    start: int                      # the first rationale token (the assistant content begins)
    steps: list[tuple[int, int]]    # [start, end) of each step, covering start..tail[0]
    tail: tuple[int, int]           # the answer phrase and the end-of-turn marker
    answer: tuple[int, int]         # the answer's own tokens inside the tail
    answer_text: str = ""

    @property
    def rationale_ids(self) -> list[int]:
        return self.input_ids[self.start:self.tail[0]]


def split_steps(text: str, by: str = "period") -> tuple[str, ...]:
    """Steps whose concatenation is `text` (period: after a "." that ends a sentence)."""
    if by == "newline":
        parts = re.split(r"(?<=\n)", text)
    elif by == "period":
        parts = _PERIOD.split(text)
    else:
        raise ValueError(f"unknown step split {by!r} (period or newline)")
    steps: list[str] = []
    for part in parts:
        if steps and not part.strip():
            steps[-1] += part                 # white space alone joins the step before
        elif part:
            steps.append(part)
    if steps and not steps[0].strip():
        steps = [steps[0] + steps[1]] + steps[2:] if len(steps) > 1 else []
    return tuple(steps)


def _teacher_text(record: dict) -> str | None:
    """A teacher's output: `response`, else the last assistant turn of `messages` (what
    reject-sample writes), without its <answer> block or closing "the answer is" phrase."""
    text = record.get("response")
    if not isinstance(text, str) and isinstance(record.get("messages"), list):
        turns = [m.get("content") for m in record["messages"]
                 if isinstance(m, dict) and m.get("role") == "assistant"]
        text = turns[-1] if turns and isinstance(turns[-1], str) else None
    if not isinstance(text, str):
        return None
    think = _THINK.search(text)
    text = think.group(1) if think else _ANSWER_TAGS.sub("", text)
    return _ANSWER_PHRASE.sub("", text)


def _rationale_text(record: dict) -> tuple[str, str]:
    """(rationale, answer) from a KPOD record, a teacher's sample or a GSM8K record."""
    answer = record.get("answer")
    gsm8k = isinstance(answer, str) and "####" in answer
    if gsm8k:
        solution, answer = answer.rsplit("####", 1)
    text = record["rationale"] if isinstance(record.get("rationale"), str) else \
        _teacher_text(record) or (solution if gsm8k else None)
    if text is None:
        raise ValueError("no `rationale` (nor a teacher's `response` or assistant turn, nor a "
                         "GSM8K `answer` with ####)")
    if answer is None or isinstance(answer, (list, dict)):
        raise ValueError("no `answer` (a string or number) to distil towards")
    return text, str(answer).strip()


def from_record(record: dict, where: str, rid: str, split: str = "period",
                calculator: str = "keep") -> Rationale:
    """A Rationale (ValueError says what is missing)."""
    if not isinstance(record.get("question"), str) or not record["question"].strip():
        raise ValueError("no `question` text")
    text, answer = _rationale_text(record)
    if calculator == "strip":
        text = _CALCULATOR.sub("", text)
    steps = split_steps(text.strip(), split)
    if not steps:
        raise ValueError("the rationale is empty")
    if not answer:
        raise ValueError("the answer is empty")
    return Rationale(rid, record["question"], steps, answer, where)


def messages(r: Rationale) -> list[dict]:
    return [{"role": "user", "content": r.question},
            {"role": "assistant", "content": "".join(r.steps) + TAIL.format(answer=r.answer)}]


def render(r: Rationale, tokenizer) -> tuple[str, int]:
    """The conversation's text and where the assistant content starts in it. The chat template
    when the tokenizer has one, else the paper's "Q: ... A: Let's think step by step" prompt."""
    content = messages(r)[1]["content"]
    if getattr(tokenizer, "chat_template", None):
        before = tokenizer.apply_chat_template(messages(r)[:1], tokenize=False,
                                               add_generation_prompt=True)
        text = tokenizer.apply_chat_template(messages(r), tokenize=False)
        if not text.startswith(before) or not text[len(before):].startswith(content):
            raise ValueError("the chat template does not render the assistant turn verbatim "
                             "after the prompt, so rationale tokens cannot be located")
        return text, len(before)
    before = f"Q: {r.question}\nA: Let's think step by step. "
    eos = tokenizer.eos_token or ""
    return before + content + eos, len(before)


def encode(r: Rationale, tokenizer) -> Encoded:
    """Tokens of the conversation and the token ranges of the steps, tail and answer."""
    text, begin = render(r, tokenizer)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    edges, pos = [], begin
    for step in r.steps:
        edges.append(pos)
        pos += len(step)
    tail_at = pos
    answer_at = tail_at + TAIL.index("{answer}")
    answer_end = answer_at + len(r.answer)
    first = lambda char: next((t for t, (s, e) in enumerate(offsets) if e > char), len(ids))  # noqa: E731
    start, tail0 = first(begin), first(tail_at)
    bounds = [first(c) for c in edges] + [tail0]
    steps = [(a, b) for a, b in zip(bounds, bounds[1:])]
    if start != bounds[0] or any(a >= b for a, b in steps):
        raise ValueError("a rationale step has no token of its own (the tokenizer merges it "
                         "into its neighbour)")
    end_of_content = tail_at + len(TAIL.format(answer=r.answer))
    tail_end = min(first(end_of_content) + 1, len(ids))   # and the end-of-turn marker
    return Encoded(list(ids), start, steps, (tail0, tail_end), (first(answer_at), first(answer_end)),
                   r.answer)


def stage_example(enc: Encoded, inputs: int, weights: list[float] | None = None) -> dict:
    """input_ids, labels and loss weights when the first `inputs` steps are given.

    weights: one per rationale token (len(enc.rationale_ids)); None means 1 everywhere.
    """
    n = len(enc.input_ids)
    labels, w = [-100] * n, [0.0] * n
    begin = enc.steps[inputs][0] if inputs < len(enc.steps) else enc.tail[0]
    for t in range(begin, enc.tail[0]):
        labels[t], w[t] = enc.input_ids[t], 1.0 if weights is None else float(weights[t - enc.start])
    for t in range(*enc.tail):
        labels[t], w[t] = enc.input_ids[t], 1.0
    return {"input_ids": enc.input_ids, "labels": labels, "weights": w}
