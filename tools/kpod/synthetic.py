"""Synthetic multi-step arithmetic word problems whose keypoints are known, for KPOD tests.

KPOD (keypoint-based progressive CoT distillation) learns a weight per rationale token so that
the student imitates the tokens that matter. The paper's Fig. 2 shows the learned weights
favouring numbers and operators over filler words; on real data that is only visible by eye.
Here every rationale is built from known parts, so `token_roles` labels each word piece as a
digit, an operator, a filler or other, and a test can check the ranking outright:

    from thinkpipe.tools.kpod.synthetic import arithmetic, token_roles
    for record in arithmetic(1000, seed=0, filler_rate=0.5):
        roles = token_roles(record["rationale"])  # [("multiplying", "other"), ("10", "digit"), ...]

    distill-kpod --make 200 --seed 3 > arith.jsonl

A record (DESIGN.md fields) looks like:

    {"id": "arith-0-0", "question_type": "numerical", "steps": 3, "answer": "44",
     "question": "Lily has 10 apples. She triples what she has. Later, she gives away 19.
                  After this, she quadruples what she has. How many apples does she have now?",
     "rationale": "multiplying gives 10 * 3 = 30. what is obviously left is 30 - 19 = 11.
                   quadrupling gives 11 * 4 = 44."}

Choices:
- every rationale step is one sentence ending in "." and holding exactly one `a OP b = c`, at
  its end; the start quantity is not restated on its own: step 1's `a` is the start quantity
  from the question and each later `a` is the previous `c`. So a record of n steps has exactly
  3n numbers and 2n operator tokens in its rationale, and its last `c` is the answer.
- the fresh operand `b` is 1..20 for + and -, 2..4 for *; the start is 2..20; a result never
  goes below 0 or above 500 (an operation that would is not drawn).
- a step gets fillers with probability `filler_rate`, then 1-3 distinct phrases from FILLERS,
  each inserted whole at a random word boundary of the step's prose (never inside `a OP b = c`).
- the rationale is lower case and holds no name or object, so its word vocabulary is tiny.
- no word of any filler phrase occurs in the questions or the rest of the rationale (a test
  checks it), so the "filler" role is exact; `token_roles` matches whole phrases, so "we" alone
  (outside "so we can say" / "we know that") is "other".
- one random.Random(seed) drives the whole stream: the first k records of a count-n run equal
  a count-k run's.
"""
from __future__ import annotations

import random
import re
from typing import Iterator

FILLERS: tuple[str, ...] = (
    "just", "simply", "basically", "so we can say", "well", "clearly", "of course",
    "we know that", "then", "obviously", "actually",
)

NAMES: tuple[tuple[str, str], ...] = (
    ("Mia", "she"), ("Leo", "he"), ("Ava", "she"), ("Omar", "he"), ("Zoe", "she"),
    ("Noah", "he"), ("Lily", "she"), ("Ben", "he"),
)
OBJECTS: tuple[str, ...] = ("apples", "marbles", "stickers", "coins", "books", "pencils", "cards", "shells")
CONNECTIVES: tuple[str, ...] = ("Next", "Later", "After this", "Afterwards")
# question clauses per operation ({b}: the operand; {p}: the pronoun)
ASK: dict[str, tuple[str, ...]] = {
    "+": ("buys {b} more", "finds {b} more", "gets {b} more"),
    "-": ("gives away {b}", "loses {b}", "sells {b}"),
    "*": ("{verb} what {p} has",),
}
# rationale prose per operation, placed before `a OP b = c` ({verb}: doubling, tripling, ...)
SAY: dict[str, tuple[str, ...]] = {
    "+": ("adding them gives", "the new total is", "in all there are"),
    "-": ("removing them leaves", "what is left is", "taking away gives"),
    "*": ("{verb} gives", "multiplying gives"),
}
FACTOR_ASK = {2: "doubles", 3: "triples", 4: "quadruples"}
FACTOR_SAY = {2: "doubling", 3: "tripling", 4: "quadrupling"}
OPERAND_MAX, RESULT_MAX = 20, 500

_PIECE = re.compile(r"\d+|[+\-*=]|[A-Za-z']+|\.|\S")
_FILLER_WORDS = tuple(tuple(f.split()) for f in sorted(FILLERS, key=lambda f: -len(f.split())))


def _draw_operation(rng: random.Random, current: int) -> tuple[str, int]:
    """(op, b) keeping the result within 0..RESULT_MAX."""
    allowed = []
    if current < RESULT_MAX:
        allowed.append("+")
    if current >= 1:
        allowed.append("-")
    if current >= 1 and current * 2 <= RESULT_MAX:
        allowed.append("*")
    op = rng.choice(allowed)
    if op == "+":
        return op, rng.randint(1, min(OPERAND_MAX, RESULT_MAX - current))
    if op == "-":
        return op, rng.randint(1, min(OPERAND_MAX, current))
    return op, rng.choice([f for f in FACTOR_ASK if current * f <= RESULT_MAX])


def _apply(op: str, a: int, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _with_fillers(rng: random.Random, prose: list[str], filler_rate: float) -> list[str]:
    """`prose` words with 1-3 whole filler phrases at random word boundaries, or as it is."""
    if rng.random() >= filler_rate:
        return list(prose)
    slots: list[list[str]] = [[] for _ in range(len(prose) + 1)]
    for phrase in rng.sample(FILLERS, rng.randint(1, 3)):
        slots[rng.randrange(len(slots))].append(phrase)
    words: list[str] = []
    for i, inserted in enumerate(slots):
        words.extend(inserted)
        if i < len(prose):
            words.append(prose[i])
    return words


def _problem(rng: random.Random, steps: int, filler_rate: float) -> tuple[str, str, int]:
    """(question, rationale, answer) for one problem of `steps` operations."""
    name, pronoun = rng.choice(NAMES)
    objects = rng.choice(OBJECTS)
    current = rng.randint(2, OPERAND_MAX)
    sentences = [f"{name} has {current} {objects}."]
    said = []
    for i in range(steps):
        op, b = _draw_operation(rng, current)
        clause = rng.choice(ASK[op]).format(b=b, p=pronoun, verb=FACTOR_ASK.get(b, ""))
        lead = f"{rng.choice(CONNECTIVES)}, {pronoun}" if i else pronoun.capitalize()
        sentences.append(f"{lead} {clause}.")
        prose = rng.choice(SAY[op]).format(verb=FACTOR_SAY.get(b, "")).split()
        result = _apply(op, current, b)
        words = _with_fillers(rng, prose, filler_rate)
        said.append(" ".join(words + [f"{current} {op} {b} = {result}."]))
        current = result
    sentences.append(f"How many {objects} does {pronoun} have now?")
    return " ".join(sentences), " ".join(said), current


def arithmetic(count: int, seed: int = 0, min_steps: int = 2, max_steps: int = 4,
               filler_rate: float = 0.5) -> Iterator[dict]:
    """`count` records {id, question, rationale, answer, question_type, steps}, seeded.

    The number of steps is uniform in [min_steps, max_steps]; each rationale step gets filler
    phrases with probability `filler_rate`. ValueError on a negative count, steps outside
    1 <= min_steps <= max_steps, or a rate outside [0, 1], raised at the call, not at the first
    record.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if not 1 <= min_steps <= max_steps:
        raise ValueError(f"need 1 <= min_steps <= max_steps, got {min_steps}..{max_steps}")
    if not 0.0 <= filler_rate <= 1.0:
        raise ValueError(f"filler_rate must be in [0, 1], got {filler_rate}")
    return _records(count, seed, min_steps, max_steps, filler_rate)


def _records(count: int, seed: int, min_steps: int, max_steps: int, filler_rate: float) -> Iterator[dict]:
    rng = random.Random(seed)
    for n in range(count):
        steps = rng.randint(min_steps, max_steps)
        question, rationale, answer = _problem(rng, steps, filler_rate)
        yield {"id": f"arith-{seed}-{n}", "question": question, "rationale": rationale,
               "answer": str(answer), "question_type": "numerical", "steps": steps}


def token_roles(text: str) -> list[tuple[str, str]]:
    """Word pieces of `text` (numbers, + - * =, words, ".", any other single character), each
    with its role: "digit", "operator", "filler" (a word of a whole FILLERS phrase, matched
    case-insensitively, longest phrase first) or "other".
    """
    pieces = _PIECE.findall(text)
    roles = ["digit" if p.isdigit() else "operator" if p in "+-*=" else "other" for p in pieces]
    i = 0
    while i < len(pieces):
        match = next((ws for ws in _FILLER_WORDS
                      if tuple(p.lower() for p in pieces[i:i + len(ws)]) == ws), None)
        if match is None:
            i += 1
            continue
        roles[i:i + len(match)] = ["filler"] * len(match)
        i += len(match)
    return list(zip(pieces, roles))
