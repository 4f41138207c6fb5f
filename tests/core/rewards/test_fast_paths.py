"""The fast paths of extraction and the verifiers (issue 21) give what the reference paths give.

The reference functions below are the readers as they were before the fast paths (regexes and
tags.py scans for every text, every number token parsed, no single-letter or whole-number
shortcut); hostile strings built from tag fragments, odd digits and case-folding letters must
read the same through both.
"""
import importlib
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from thinkpipe.core.rewards import choices, verifiers
from thinkpipe.core.tags import ascii_lower, last_block, without_blocks

ex = importlib.import_module("thinkpipe.core.rewards.extract")    # the package exports extract()

# -- the reference readers ------------------------------------------------------------------


def ref_visible(output):
    if "<" not in output:
        return output, "", False
    text, low = without_blocks(output, ascii_lower(output), "<think>", "</think>")
    if (close := low.rfind("</think>")) >= 0:
        text, low = text[close + 8:], low[close + 8:]
    if (opened := low.find("<think>")) >= 0:
        return text[:opened], low[:opened], True
    return text, low, False


def ref_extract(output):
    if not isinstance(output, str) or not output.strip():
        return None, "none", False
    text, low, cut_off = ref_visible(output)
    if "<answer>" in low:
        tag = last_block(text, "<answer>", "</answer>", hay=low)
        return (tag.strip(), "answer_tag", cut_off) if tag is not None else (None, "none", True)
    if (b := ex.boxed(text)) is not None:
        return b.strip(), "boxed", cut_off
    phrases = ex.PHRASE.findall(text)
    if phrases:
        first = phrases[-1].strip().splitlines()
        return (first[0].strip() if first else ""), "phrase", cut_off
    stripped = text.strip()
    return stripped or None, "full_text" if stripped else "none", cut_off


def ref_parse_decimal(token):
    token = token.replace("−", "-").replace(",", "").replace(" ", "").rstrip("%")
    try:
        if "/" in token:
            frac = Fraction(token)
            value = Decimal(frac.numerator) / Decimal(frac.denominator)
        else:
            value = Decimal(token)
    except (ValueError, ZeroDivisionError, ArithmeticError):
        return None
    return value if value.is_finite() and math.isfinite(float(value)) else None


def ref_found(answer, parse, last):
    found = [(m.group(0), v) for m in ex.NUMBER.finditer(answer)
             if (v := parse(m.group(0))) is not None]
    return (found[-1] if last else found[0]) if found else None


def ref_number(answer, last=False):
    f = ref_found(answer, lambda t: None if (d := ref_parse_decimal(t)) is None else float(d), last)
    return None if f is None else f[1]


def ref_number_token(answer, last=False):
    f = ref_found(answer, lambda t: None if (d := ref_parse_decimal(t)) is None else float(d), last)
    return None if f is None else f[0]


def ref_decimal(answer, last=False):
    f = ref_found(answer, ref_parse_decimal, last)
    return None if f is None else f[1]


def ref_whole(text, valid):
    for form in choices.WHOLE:
        if (m := form.match(text)) and m.group(1).upper() in valid:
            return m.group(1).upper()
    return None


def ref_as_list(text, valid):
    inner = text[1:-1] if text[:1] == "[" and text[-1:] == "]" else text
    parts = [p.strip(" '\"") for p in choices.LIST_SEP.split(inner) if p and p.strip(" '\"")]
    found = [m.group(1).upper() for p in parts if (m := choices.LIST_ITEM.match(p))]
    if parts and len(found) == len(parts) and all(f in valid for f in found):
        return sorted(set(found))
    if re.fullmatch(r"[A-Z]{2,26}", text) and len(set(text)) == len(text) and \
            all(c in valid for c in text):
        return sorted(text)
    return None


def ref_letters(answer, n_options=None, options=None, multi=False):
    valid = choices.ALPHABET[:n_options or 26]
    text = choices.normalise(answer)
    if not text:
        return None
    if (one := ref_whole(text, valid)) is not None:
        return [one]
    if (i := choices.option_index(text, options)) is not None:
        return [valid[i]] if i < len(valid) else None
    if (listed := ref_as_list(text, valid)) is not None:
        return listed if multi or len(listed) == 1 else None
    named = choices.mentions(text, valid)
    if (m := choices.LEADING.match(text)) and \
            (lead := (m.group(1) or m.group(2) or m.group(3)).upper()) in valid:
        rest = choices.mentions(m.group(4), valid)
        if not rest or rest == [lead]:
            return [lead]
    if not multi or not named or (len(named) > 1 and choices.HEDGE.search(text)):
        return None
    return sorted(named)


def ref_gold_letters(gold, options=None):
    valid = choices.ALPHABET[:len(options)] if options else choices.ALPHABET
    if isinstance(gold, (list, tuple)):
        out = set()
        for item in gold:
            one = ref_gold_letters(item, options)
            if one is None:
                return None
            out.update(one)
        return sorted(out) or None
    if isinstance(gold, bool) or not isinstance(gold, (str, int, float)):
        return None
    text = choices.normalise(str(gold))
    if (one := ref_whole(text, valid)) is not None:
        return [one]
    if (i := choices.option_index(text, options)) is not None and i < len(valid):
        return [valid[i]]
    return ref_as_list(text, valid)


def ref_numerical(answer, gold, record):
    got = ref_decimal(answer)
    if got is None:
        raise verifiers.Unparseable(f"no number in {answer[:60]!r}")
    if isinstance(gold, bool):
        raise verifiers.BadGold("bad gold")
    want = ref_parse_decimal(repr(gold)) if isinstance(gold, (int, float)) else ref_decimal(str(gold))
    if want is None:
        raise verifiers.BadGold("bad gold")
    if record.get("tolerance") is not None:
        return float(abs(got - want) <= verifiers._gold_decimal(record["tolerance"]))
    two = Decimal("0.01")
    return float(got.quantize(two, ROUND_HALF_UP, verifiers._WIDE) ==
                 want.quantize(two, ROUND_HALF_UP, verifiers._WIDE))


def ref_question_type(raw):
    key = str(raw).strip().lower().replace("-", "_") if str(raw).lower() != "multiple choice" \
        else "multiple choice"
    return verifiers.ALIASES.get(key, verifiers.ALIASES.get(str(raw).strip().lower(), key))


# -- hostile strings ------------------------------------------------------------------------

FRAGMENTS = ["<think>", "</think>", "<answer>", "</answer>", "<THINK>", "</Think>", "<Answer>",
             "</ANSWER>", "<", ">", "\\boxed{", "\\fbox{", "{", "}", "The answer is ",
             "answer: ", "Final Answer：", "the correct answer is", "anſwer is ", "\u212a",
             "A", "B", "(C)", "[D]", "Ｂ", "（A）", "and", " or ", "Option ", "I ", "a ", "**",
             " ", "\n", "\t", "\u2028", "1", "07", "2.5", "-3/4", "1,234", "40%", "1e999", "−5",
             "٣", "+", ".", ",", "x", "İ", "é", "0" * 19, "9" * 320]
texts = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)
SAMPLES = ["<think>x</think><answer> B </answer>", "y</think><answer>7</answer>",
           "<think>a<think>b</think>c</think><answer>C</answer>", "<answer>1</answer><answer>2",
           "<think>open <answer>A</answer>", "<answer>A", "<think>x</think>\n<answer>\n3\n</answer>\n",
           "The anſwer is B", "Ｔｈｅ ａｎｓｗｅｒ ｉｓ C", "140", "-3.50", "+7", "0.125", "9" * 400,
           "A", "b", "(A) and (C)", "After checking each choice, D", "AC", "A, B, C", "[A, C]"]


def _read(fn, text):
    """What fn(text) gives, or the exception it raises (both paths must raise alike too)."""
    try:
        return tuple(fn(text))
    except Exception as e:  # noqa: BLE001
        return type(e).__name__


@settings(max_examples=600, deadline=None)
@given(texts)
def test_extraction_reads_every_text_as_the_reference_does(text):
    assert _read(ex.extract, text) == _read(ref_extract, text)
    assert ex.strip_reasoning(text) == ref_visible(text)[::2]


def test_extraction_of_the_common_shapes_and_its_edges():
    for text in SAMPLES:
        assert _read(ex.extract, text) == _read(ref_extract, text), text
    assert ex.extract("<think>x</think><answer> B </answer>") == ("B", "answer_tag", False)


@settings(max_examples=600, deadline=None)
@given(texts, st.booleans())
def test_numbers_read_as_the_reference_does(text, last):
    assert ex.number(text, last) == ref_number(text, last)
    assert ex.number_token(text, last) == ref_number_token(text, last)
    d, r = ex.decimal(text, last), ref_decimal(text, last)
    assert (d, str(d)) == (r, str(r))          # the same value, written the same way


@settings(max_examples=600, deadline=None)
@given(texts, st.integers(1, 6), st.booleans())
def test_letters_read_as_the_reference_does(text, n, multi):
    options = ["red", "blue", "A", "b", "green and gray", "blue"][:n]
    assert choices.letters(text, n, options, multi) == ref_letters(text, n, options, multi)
    assert choices.letters(text, None, None, multi) == ref_letters(text, None, None, multi)
    assert choices.gold_letters(text, options) == ref_gold_letters(text, options)
    assert choices.gold_letters(text) == ref_gold_letters(text)


def test_letters_of_the_common_answers():
    for text in SAMPLES + ["a", "Z", "é", "1", "*", " "]:
        for n in (2, 4, None):
            assert choices.letters(text, n) == ref_letters(text, n), (text, n)
            assert choices.gold_letters(text, ["x"] * (n or 3)) == \
                ref_gold_letters(text, ["x"] * (n or 3))


def _outcome(fn, *args):
    try:
        return fn(*args)
    except verifiers.BadGold:
        return "bad gold"
    except verifiers.Unparseable as e:
        return f"unparseable: {e}"


GOLDS = st.one_of(st.sampled_from(["140", "0140", "3", "9" * 299, "9" * 320, "1.005", "-0.125",
                                   "3/4", "five", "٣", " 7"]),
                  st.integers(-1000, 10 ** 30), st.floats(allow_nan=False, allow_infinity=False))


@settings(max_examples=800, deadline=None)
@given(st.one_of(texts, st.sampled_from(["140", "0140", "007", "9" * 299, "9" * 320, "1.01"])),
       GOLDS, st.sampled_from([None, 0.5, "1"]))
def test_numerical_scores_as_the_reference_does(answer, gold, tolerance):
    record = {} if tolerance is None else {"tolerance": tolerance}
    assert _outcome(verifiers.numerical, answer, gold, record) == \
        _outcome(ref_numerical, answer, gold, record)


def test_question_types_are_normalised_as_before():
    for raw in ["numerical", " Multiple Choice ", "multiple choice", "MC", "free-form", "Numeric",
                "multi_choice", "open", "text", "regression", "OCR", 7, ["x"]]:
        assert verifiers.question_type({"question_type": raw}) == ref_question_type(raw)


def test_whole_numbers_compare_by_value_as_the_reference_does():
    numbers = ["140", "0140", "007", "7", "0", "000", "9" * 299, "9" * 320, "1.01", "1.005", "−5"]
    for answer in numbers:
        for gold in numbers + [140, 7.0, True]:
            for record in ({}, {"tolerance": 0}):
                assert _outcome(verifiers.numerical, answer, gold, record) == \
                    _outcome(ref_numerical, answer, gold, record), (answer, gold, record)
