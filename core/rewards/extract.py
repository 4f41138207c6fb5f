"""Answer extraction: from a model's raw output to the thing a verifier compares.

Order (first hit wins), after reasoning is removed:
  1. the last <answer>...</answer>;
  2. the last \\boxed{...} (nested braces allowed);
  3. the last "the answer is X" / "Answer: X" / "final answer: X" phrase (to the end of its line);
  4. the whole remaining text.
Reasoning: every <think>...</think> block is removed first, so a decoy answer inside the
reasoning never counts; text before a lone </think> (templates that open the block in the
prompt) is reasoning too; an unclosed <think> or <answer> means the output was cut off.

Then by question type: option letters (`letters`), numbers (`number`), or the text itself.
Each result says how it was found (`method`), so a report can show why an item scored as it did.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import NamedTuple

from ..tags import ascii_lower, last_block, without_blocks

PHRASE = re.compile(r"(?:the\s+(?:final\s+|correct\s+)?answer\s+is|final\s+answer\s*[:：]|"
                    r"answer\s*[:：])\s*(.+)", re.I)
NUMBER = re.compile(r"[-−+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
                    r"(?:\s*/\s*\d+(?:\.\d+)?)?%?|[-−+]?\.\d+%?")
# An output whose only tags are one <answer> block and before it at most one closed reasoning
# block (or a lone </think>), all lower-case: what extract() reads from it is the block's
# content, with nothing cut off, so one C-level match finds it (each branch opens with its own
# tag, so a failing match never backtracks more than once per character).
TAGGED = re.compile(r"[^<]*(?:<think>[^<]*</think>[^<]*|</think>[^<]*)?<answer>([^<]*)</answer>[^<]*")
# An answer that is one plain ASCII number ("140", "-3.5") is the one token NUMBER finds in it;
# telling so is several times cheaper than running NUMBER (scoring's common numeric answer).
PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


class Extraction(NamedTuple):
    text: str | None        # the answer text found (None: nothing)
    method: str             # answer_tag | boxed | phrase | full_text | none
    truncated: bool         # the output was cut off (unclosed think/answer)


NOTHING = Extraction(None, "none", False)


def strip_reasoning(output: str) -> tuple[str, bool]:
    """(visible text, cut off?) with every reasoning block removed (linear time: core/tags.py)."""
    text, _, cut_off = _visible(output)
    return text, cut_off


def _visible(output: str) -> tuple[str, str, bool]:
    """(visible text, its ascii_lower, cut off?): the lowered copy is made once and cut alike."""
    if "<" not in output:                       # no tag at all: the common plain answer
        return output, "", False
    text, low = output, _lower(output)
    if (block := _only_block(low, "<think>", "</think>")) is None:
        text, low = without_blocks(text, low, "<think>", "</think>")
    elif block[1] >= 0:                         # one block: cut as without_blocks would
        start, end = block[0], block[1] + len("</think>")
        text, low = text[:start] + " " + text[end:], low[:start] + " " + low[end:]
    if (close := low.rfind("</think>")) >= 0:   # opened in the prompt: keep what follows
        text, low = text[close + len("</think>"):], low[close + len("</think>"):]
    if (opened := low.find("<think>")) >= 0:    # never closed: the answer was not reached
        return text[:opened], low[:opened], True
    return text, low, False


def _only_block(low: str, open_tag: str, close_tag: str) -> tuple[int, int] | None:
    """Where the one `open_tag` of `low` is and where its block's `close_tag` starts (-1: never
    closed; (-1, -1): no such tag); None when the tag repeats (tags.py's scan decides then).
    With one opening tag, the lazy regex tags.py would run finds just this, by str.find."""
    start = low.find(open_tag)
    if start < 0:
        return -1, -1
    after = start + len(open_tag)
    if low.find(open_tag, after) >= 0:
        return None
    return start, low.find(close_tag, after)


def _lower(text: str) -> str:
    """ascii_lower(text); str.lower() is the same on ASCII text and runs in a fraction of it."""
    return text.lower() if text.isascii() else ascii_lower(text)


def boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} (or \\fbox{...}), braces balanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth, j = 1, i
    while j < len(text) and depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[i:j - 1] if depth == 0 else None


def _answer_tag(text: str, low: str) -> str | None:
    """Content of the last <answer>...</answer> (tags.last_block, by str.find when one opens)."""
    block = _only_block(low, "<answer>", "</answer>")
    if block is None:
        return last_block(text, "<answer>", "</answer>", hay=low)
    return text[block[0] + len("<answer>"):block[1]] if block[1] >= 0 else None


def extract(output: str | None) -> Extraction:
    if not isinstance(output, str) or not output or output.isspace():
        return NOTHING
    if "<" in output and (m := TAGGED.fullmatch(output)) is not None:   # the common shape
        return Extraction(m.group(1).strip(), "answer_tag", False)
    text, low, cut_off = _visible(output)
    if "<answer>" in low:
        tag = _answer_tag(text, low)
        if tag is not None:
            return Extraction(tag.strip(), "answer_tag", cut_off)
        return Extraction(None, "none", True)   # opened, never closed
    if (b := boxed(text)) is not None:
        return Extraction(b.strip(), "boxed", cut_off)
    # every PHRASE names "answer"; in ASCII text re.I can match it no other way (only
    # non-ASCII letters such as ſ fold to ASCII ones), so a text without it needs no search
    phrases = PHRASE.findall(text) if not text.isascii() or "answer" in text.lower() else None
    if phrases:   # nothing after the phrase reads as an empty answer, as <answer></answer> does
        first = phrases[-1].strip().splitlines()
        return Extraction(first[0].strip() if first else "", "phrase", cut_off)
    stripped = text.strip()
    return Extraction(stripped or None, "full_text" if stripped else "none", cut_off)


def parse_decimal(token: str) -> Decimal | None:
    """A number token -> its exact decimal value; None when it is not a finite number.
    "40%" is 40 (benchmarks state percentages as numbers); "3/4" is 0.75 (to 28 digits)."""
    if not token.isdigit() or not token.isascii():   # digits alone need no clean-up
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


def parse_number(token: str) -> float | None:
    """A number token -> float; None when it is not a finite float (`1e999` is not a number)."""
    value = parse_decimal(token)
    return None if value is None else float(value)


def _tokens(answer: str) -> list[str]:
    """The number tokens NUMBER finds, in order (a plain number is its own one token)."""
    if answer.isascii() and (answer.isdigit() or PLAIN_NUMBER.fullmatch(answer)):
        return [answer]
    return NUMBER.findall(answer)


def _found(answer: str, parse, last: bool):
    """(token, value) of the first (or last) token `parse` reads, else None. Tokens are parsed
    from the end that answers, so a long text costs one parse, not one per number in it."""
    tokens = _tokens(answer)
    for token in reversed(tokens) if last else tokens:
        value = parse(token)
        if value is not None:
            return token, value
    return None


def number_token(answer: str, last: bool = False) -> str | None:
    """The first (or last) number as written in the answer."""
    found = _found(answer, parse_number, last)
    return None if found is None else found[0]


def number(answer: str, last: bool = False) -> float | None:
    """The first (or last) number in an answer: 1,234.5, -3/4, 2.5e3, 40%, with units."""
    found = _found(answer, parse_number, last)
    return None if found is None else found[1]


def decimal(answer: str, last: bool = False) -> Decimal | None:
    """`number`, exactly: the decimal value as written (0.125 stays 0.125, not a binary float)."""
    if len(answer) < 300 and answer.isascii() and (answer.isdigit() or
                                                   PLAIN_NUMBER.fullmatch(answer)):
        return Decimal(answer)      # one plain number, no exponent: finite as a float too
    found = _found(answer, parse_decimal, last)
    return None if found is None else found[1]
