"""A few hundred hostile, mixed records for scoring: every verifier, every status, the extraction
paths and their edge cases (reasoning blocks nested, repeated or never closed; full-width and
Unicode digits; ſ and K that match `answer` only case-insensitively; integers
beyond 64 bits; list-valued groups; difficulty curves; drawing trajectories).

`records()` is deterministic; `lines()` is the same as JSONL bytes, plus (with `bad=True`)
lines a reader must refuse or skip: blank lines, an array, broken JSON, a bad gold answer.
Tests hold the fast paths (--workers, the optimised extraction) to the reference ones on it.
"""
from __future__ import annotations

import json
import random

SKY = [[1, 2, 3], [2, 3, 1], [3, 1, 2]]
SKY_INFO = {"base_matrix": [[1, None, None], [None] * 3, [None] * 3],
            "visible_skyscrapers": [[3, 2, 1], [3, 2, 1], [1, 2, None], [None, 2, 2]]}
SUDOKU = [[1, 2, 3, 4], [3, 4, 1, 2], [2, 1, 4, 3], [4, 3, 2, 1]]
ISLANDS = [{"cord": "a1", "requirement": 2}, {"cord": "a3", "requirement": 3},
           {"cord": "c3", "requirement": 1}]
BRIDGES = [{"start": "a1", "end": "a3", "number": 2}, {"start": "a3", "end": "c3", "number": 1}]

MC_RESPONSES = [
    "<answer>{a}</answer>", "<think>maybe A</think><answer>{a}</answer>", "({l})", "Ｂ", "（C）",
    "Option {a}", "**{a}**", "A, C", "(A) and (C)", "B. the red one", "(A) is wrong, (B) is right",
    "A. No wait, it is B.", "(A) or (B)", "I think {a}", "The answer is ({a}).", "answer: {l}",
    "After checking each choice, {a}", "ANSWER IS {a}", "The anſwer is {a}", "The \u212aey answer: {a}",
    "\\boxed{{{a}}}", "\\fbox{{{a}}} then \\boxed{{{a}", "<think>a<think>b</think>c</think><answer>{a}</answer>",
    "<think>never closed <answer>{a}</answer>", "<answer>{a}", "reasoning</think>{a}", "", "   ",
    "<THINK>x</THINK><Answer>{a}</Answer>", "İ think it is {a}", "red", "BLUE.", "green and gray",
    "<answer>\n{a}\n</answer> extra <answer>{b}</answer>", "AC", "{a}{b}", "[{a}, {b}]",
    "Final answer: {a}\nmore lines", "the final answer is {a}\u2028x", "é accent {a}", "Ｔｈｅ ａｎｓｗｅｒ ｉｓ {a}",
]
NUM_RESPONSES = [
    "<answer>{v}</answer>", "{v}", "about {v} apples", "<think>7</think>{v}", "1,234.5", "-3/4",
    "2.5e3", "40%", "1e999", "−5", "٣", "no number here", "0.125", "1.005", "12 then {v}",
    "\\boxed{{{v}}}", "The answer is {v}.", "<answer>{v}", "3 / 4", ".5", "+7", "1,23", "{v}{v}",
    "99999999999999999999999", "<think>" * 5 + "{v}", "the answer is −{v}",
]


def _mc(rng: random.Random, i: int) -> dict:
    n = rng.randint(2, 6)
    options = ["red", "blue", "green", "gray", "dog", "blue"][:n]
    letters = "ABCDEF"[:n]
    a, b = rng.choice(letters), rng.choice(letters)
    gold = rng.choice([a, a.lower(), options[0], [a, b], a + b if a < b else a, f"({a})"])
    rec = {"id": str(i), "question": f"Which {i}?", "options": options, "answer": gold,
           "response": rng.choice(MC_RESPONSES).format(a=a, b=b, l=a.lower()),
           "task": rng.choice(["mc", "mc2", ["mc", "multi"]])}
    if rng.random() < 0.2:
        rec["question_type"] = rng.choice(["multiple choice", "MC", "choice", "multi_choice"])
    return rec


def _num(rng: random.Random, i: int) -> dict:
    gold = rng.choice([rng.randint(0, 500), rng.random() * 100, str(rng.randint(-50, 50)),
                       "1,234.5", "0.13", "3/4", "40%", 0, 10 ** 20 + 1])
    v = rng.choice([gold, rng.randint(0, 500), 0.125, "1.01"])
    rec = {"id": str(i), "question": f"How many {i}?", "answer": gold,
           "question_type": rng.choice(["numerical", "numeric", "regression", None]),
           "response": rng.choice(NUM_RESPONSES).format(v=v), "task": "num"}
    if rng.random() < 0.15:
        rec["tolerance"] = rng.choice([0.5, "1", 0])
    return rec


def _other(rng: random.Random, i: int) -> dict:
    kind = rng.choice(["ocr", "ocr_exp", "free_form", "sequence", "exact", "math", "text"])
    gold = {"sequence": rng.choice([["up", "left"], "up, left"]), "math": rng.choice(["1/2", "x^2",
            "\\frac{1}{2}", "3"])}.get(kind, rng.choice(["the cat sat", "Café noir", "up left"]))
    response = rng.choice(["<answer>{g}</answer>", "{g}.", "the dog sat", "<answer></answer>",
                           "UP -> LEFT", "0.5", "$\\frac{{1}}{{2}}$", "x**2", "café  noir"])
    return {"id": str(i), "question_type": kind, "answer": gold, "task": kind,
            "response": response.format(g=gold if isinstance(gold, str) else ", ".join(gold))}


def _validated(rng: random.Random, i: int) -> dict:
    fn, answer, gold, info = rng.choice([
        ("calculate_answer_function_skyscraper", SKY, None, SKY_INFO),
        ("calculate_answer_function_skyscraper", SKY[::-1], None, SKY_INFO),
        ("calculate_answer_function_sudoku_4", SUDOKU, None, {"base_matrix": [[1] + [None] * 3] * 4}),
        ("calculate_answer_function_hashi", BRIDGES, None, {"init_islands": ISLANDS}),
        ("calculate_answer_function_hashi", BRIDGES, None, {"init_islands": "nonsense"}),
        ("judge_24points_function", "(11 + 1) * (7 - 5) = 24", None, {"init_cards": [1, 5, 11, 7]}),
        ("compare_expression_function", "x + 1", "1 + x", None),
        ("match_answer_function", {"A": 5.0}, {"A": 5}, None),
        ("match_answer_function", {"A": 5.0}, None, None),
        ("calculate_answer_function_3", [1, 2, 3], None, None)])
    text = rng.choice(["<answer>{}</answer>", "```json\n{}\n```", "{}", "<think>x</think>"])
    rec = {"id": str(i), "function_id": fn, "answer": None if gold is None else repr(gold),
           "special_info": repr(info) if info else None, "response": text.format(answer),
           "capability": ["calculation", "pattern analysis"][: rng.randint(1, 2)], "task": "mme"}
    return rec


def _extras(rng: random.Random, rec: dict, i: int) -> dict:
    """Fields that change the summary or the writer: curves, rates, models, cut-off outputs."""
    roll = rng.random()
    if roll < 0.1:
        rec.update(difficulty=rng.choice([1, 2, 2.5, True, "hard"]), difficulty_unit="dB")
    elif roll < 0.15:
        rec.update(prompt_template="vilasr", turns=[
            "<think>look</think>Action: Answer <answer>A</answer>"] if rng.random() < 0.5 else 3)
    elif roll < 0.2:
        rec.update(model=rng.choice(["m1", "m2"]), model_fingerprint=rng.choice(["f1", "f2", None]))
    elif roll < 0.28:
        rec[rng.choice(["finish_reason", "end_reason"])] = rng.choice(["length", "stop", 3])
    elif roll < 0.33:
        rec["big"] = 2 ** 70 + i                   # beyond 64 bits: the exact re-parse
    elif roll < 0.36:
        rec.pop("response", None)
        rec["messages"] = [{"role": "user", "content": "q"},
                           {"role": "assistant", "content": [{"type": "text", "text": "<answer>B</answer>"}]}]
    elif roll < 0.38:
        rec["answer"] = None                       # no gold: judge_failed
    elif roll < 0.40:
        rec["id"] = "dup"                          # repeated ids (the baseline's pairing)
    elif roll < 0.42:
        rec.pop("id")
    return rec


def records(n: int = 400, seed: int = 0) -> list[dict]:
    """`n` mixed records, the same for the same seed."""
    rng = random.Random(seed)
    makers = [_mc, _mc, _num, _num, _other, _validated]
    return [_extras(rng, rng.choice(makers)(rng, i), i) for i in range(n)]


def lines(n: int = 400, seed: int = 0, bad: bool = False) -> bytes:
    """records() as JSONL (some with a byte-order mark, spacing, no final newline); with `bad`,
    lines a reader must refuse: blank, an array, broken JSON, a gold answer no verifier reads."""
    out = []
    for i, rec in enumerate(records(n, seed)):
        text = json.dumps(rec, ensure_ascii=i % 3 == 0)
        out.append(text if i % 7 else text.replace(", ", ",  "))
        if bad and i % 97 == 50:
            out.append(rng_bad(i))
        if i % 113 == 5:
            out.append("")
    data = "\n".join(out).encode("utf-8", "surrogatepass")
    return b"\xef\xbb\xbf" + data if seed % 2 else data


def rng_bad(i: int) -> str:
    return ["[1, 2]", '{"id": "x", "response": ', '{"answer": "five", "question_type": '
            '"numerical", "response": "<answer>5</answer>"}', "42"][i % 4]
