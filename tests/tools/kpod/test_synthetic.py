"""KPOD synthetic arithmetic: seeded, correct chains, fillers at their rate, exact token roles."""
import re

import pytest

from thinkpipe.tools.kpod import synthetic
from thinkpipe.tools.kpod.synthetic import FILLERS, arithmetic, token_roles

EQUATION = re.compile(r"(\d+) ([+\-*]) (\d+) = (\d+)\.$")
FILLER_WORDS = {w for f in FILLERS for w in f.split()}


def steps_of(rationale: str) -> list[str]:
    """The "."-terminated steps of a rationale, each with its "."."""
    steps = re.findall(r"[^.]+\.", rationale)
    assert "".join(steps).replace(" ", "") == rationale.replace(" ", "")
    return [s.strip() for s in steps]


def words(text: str) -> set[str]:
    return {p.lower() for p in re.findall(r"[A-Za-z']+", text)}


def test_same_seed_same_records_and_different_seeds_differ():
    assert list(arithmetic(50, seed=7)) == list(arithmetic(50, seed=7))
    assert list(arithmetic(50, seed=7)) != list(arithmetic(50, seed=8))
    assert list(arithmetic(10, seed=7)) == list(arithmetic(50, seed=7))[:10]


def test_record_fields():
    records = list(arithmetic(5, seed=3))
    assert [r["id"] for r in records] == [f"arith-3-{n}" for n in range(5)]
    for r in records:
        assert set(r) == {"id", "question", "rationale", "answer", "question_type", "steps"}
        assert r["question_type"] == "numerical" and isinstance(r["steps"], int)
        assert r["answer"] == str(int(r["answer"]))
        assert r["question"].endswith("?")


@pytest.mark.parametrize("filler_rate", [0.0, 0.5, 1.0])
def test_answer_is_the_evaluated_chain(filler_rate):
    ops = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
    for r in arithmetic(300, seed=1, filler_rate=filler_rate):
        start = int(re.match(r"\w+ has (\d+) ", r["question"]).group(1))
        previous, said = start, []
        for step in steps_of(r["rationale"]):
            found = EQUATION.search(step)
            assert found, step
            a, op, b, c = int(found[1]), found[2], int(found[3]), int(found[4])
            assert len(re.findall(r"\d+", step)) == 3 and len(re.findall(r"[+\-*=]", step)) == 2
            assert a == previous and c == ops[op](a, b)
            assert 0 <= c <= 500 and (2 <= b <= 4 if op == "*" else 1 <= b <= 20)
            said.append((op, b))
            previous = c
        assert str(previous) == r["answer"]
        assert said == asked(r["question"])


def asked(question: str) -> list[tuple[str, int]]:
    """The (op, b) of each operation sentence of a question, read back from its words."""
    factors = {v: k for k, v in synthetic.FACTOR_ASK.items()}
    out = []
    for sentence in question.split(". ")[1:]:
        verb = next((w for w in sentence.split() if w in factors), None)
        if verb:
            out.append(("*", factors[verb]))
        elif "How many" not in sentence:
            number = int(re.search(r"\d+", sentence).group())
            out.append(("+" if " more" in sentence else "-", number))
    return out


@pytest.mark.parametrize("lo,hi", [(2, 4), (1, 1), (3, 6), (5, 5)])
def test_step_count_in_range_and_matches_the_rationale(lo, hi):
    seen = set()
    for r in arithmetic(200, seed=2, min_steps=lo, max_steps=hi):
        assert lo <= r["steps"] <= hi
        assert len(steps_of(r["rationale"])) == r["steps"] == r["rationale"].count(".")
        assert r["question"].count(".") == r["steps"] + 1  # the start, one sentence per operation
        seen.add(r["steps"])
    assert seen == set(range(lo, hi + 1))


def filler_steps(records) -> tuple[int, int]:
    """(steps holding a filler, all steps)."""
    with_filler = total = 0
    for r in records:
        for step in steps_of(r["rationale"]):
            total += 1
            with_filler += any(role == "filler" for _, role in token_roles(step))
    return with_filler, total


def test_fillers_appear_at_their_rate():
    assert filler_steps(arithmetic(200, seed=4, filler_rate=0.0))[0] == 0
    hit, total = filler_steps(arithmetic(200, seed=4, filler_rate=1.0))
    assert hit == total
    for rate in (0.2, 0.5):
        hit, total = filler_steps(arithmetic(500, seed=4, filler_rate=rate))
        assert abs(hit / total - rate) < 0.05, (rate, hit / total)


def test_fillers_are_whole_phrases_one_to_three_per_step_outside_the_equation():
    prose = {p.format(verb=v) for op, ps in synthetic.SAY.items() for p in ps
             for v in (synthetic.FACTOR_SAY.values() if op == "*" else [""])}
    longest = sum(sorted((len(f.split()) for f in FILLERS), reverse=True)[:3])
    for r in arithmetic(300, seed=5, filler_rate=1.0):
        for step in steps_of(r["rationale"]):
            roles = token_roles(step)
            kept = [p for p, role in roles if role != "filler"]
            fillers = [p for p, role in roles if role == "filler"]
            assert 1 <= len(fillers) <= longest
            assert " ".join(kept[:-6]) in prose  # what is left is one prose template ...
            assert [role for _, role in roles[-6:]] == ["digit", "operator", "digit", "operator",
                                                        "digit", "other"]  # ... then a OP b = c.


def test_filler_words_never_occur_outside_fillers():
    texts = [r["question"] + " " + r["rationale"] for r in arithmetic(500, seed=6, filler_rate=0.0)]
    assert not FILLER_WORDS & set().union(*map(words, texts))
    templates = [n for n, _ in synthetic.NAMES] + [p for _, p in synthetic.NAMES]
    templates += [*synthetic.OBJECTS, *synthetic.CONNECTIVES, *synthetic.FACTOR_ASK.values(),
                  *synthetic.FACTOR_SAY.values(), "has", "how", "many", "does", "have", "now"]
    templates += [t for ts in (*synthetic.ASK.values(), *synthetic.SAY.values()) for t in ts]
    assert not FILLER_WORDS & set().union(*map(words, templates))
    for r in arithmetic(300, seed=6, filler_rate=1.0):
        assert not FILLER_WORDS & words(r["question"])
        for piece, role in token_roles(r["rationale"]):
            assert (role == "filler") == (piece.lower() in FILLER_WORDS), piece


def test_fillers_hold_no_digits_or_operators():
    for f in FILLERS:
        assert re.fullmatch(r"[a-z]+( [a-z]+)*", f), f
        assert all(role == "filler" for _, role in token_roles(f))


def test_token_roles_on_a_hand_example():
    text = "So we can say 3 + 4 = 7. we know that 7 * 2 = 14. of course well 14 - 1 = 13. so we gave 2."
    assert token_roles(text) == [
        ("So", "filler"), ("we", "filler"), ("can", "filler"), ("say", "filler"),
        ("3", "digit"), ("+", "operator"), ("4", "digit"), ("=", "operator"), ("7", "digit"), (".", "other"),
        ("we", "filler"), ("know", "filler"), ("that", "filler"),
        ("7", "digit"), ("*", "operator"), ("2", "digit"), ("=", "operator"), ("14", "digit"), (".", "other"),
        ("of", "filler"), ("course", "filler"), ("well", "filler"),
        ("14", "digit"), ("-", "operator"), ("1", "digit"), ("=", "operator"), ("13", "digit"), (".", "other"),
        ("so", "other"), ("we", "other"), ("gave", "other"), ("2", "digit"), (".", "other"),
    ]


def test_adjacent_phrases_are_each_matched_whole():
    roles = token_roles("so we can say we know that just then 5 + 1 = 6.")
    assert [r for _, r in roles[:9]] == ["filler"] * 9
    assert token_roles("course of") == [("course", "other"), ("of", "other")]


@pytest.mark.parametrize("kwargs", [dict(count=-1), dict(count=1, min_steps=0), dict(count=1, min_steps=3, max_steps=2),
                                    dict(count=1, filler_rate=1.5), dict(count=1, filler_rate=-0.1)])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        arithmetic(**kwargs)  # at the call, before any record is asked for
