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

import re
from dataclasses import dataclass
from fractions import Fraction

THINK_BLOCK = re.compile(r"<think>.*?</think>", re.S | re.I)
ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)
PHRASE = re.compile(r"(?:the\s+(?:final\s+|correct\s+)?answer\s+is|final\s+answer\s*[:：]|"
                    r"answer\s*[:：])\s*(.+)", re.I)
LETTER_FORMS = [
    re.compile(r"^\s*[\(\[\{]?\s*([A-Z])\s*[\)\]\}]?\s*[.:：)]?\s*$"),      # B, (B), B., [B], B)
    re.compile(r"^\s*(?:option|choice)\s*[\(\[]?([A-Z])[\)\]]?\s*[.:]?\s*$", re.I),  # Option B
    re.compile(r"^\s*\*\*\s*\(?([A-Z])\)?\s*\*\*\s*$"),                         # **B**
    re.compile(r"^\s*[\(\[]?([A-Z])[\)\]]?\s*[.:：)]\s+\S"),                   # B. text / (B) text
]
NUMBER = re.compile(r"[-−+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?"
                    r"(?:\s*/\s*\d+(?:\.\d+)?)?%?|[-−+]?\.\d+%?")


@dataclass(frozen=True)
class Extraction:
    text: str | None        # the answer text found (None: nothing)
    method: str             # answer_tag | boxed | phrase | full_text | none
    truncated: bool         # the output was cut off (unclosed think/answer)


def strip_reasoning(output: str) -> tuple[str, bool]:
    """(visible text, cut off?) with every reasoning block removed."""
    text = THINK_BLOCK.sub(" ", output)
    low = text.lower()
    if "</think>" in low:                       # opened in the prompt: keep what follows
        text = text[low.rfind("</think>") + len("</think>"):]
        low = text.lower()
    if "<think>" in low:                        # never closed: the answer was not reached
        return text[:low.find("<think>")], True
    return text, False


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


def extract(output: str | None) -> Extraction:
    if not isinstance(output, str) or not output.strip():
        return Extraction(None, "none", False)
    text, cut = strip_reasoning(output)
    tags = ANSWER.findall(text)
    if tags:
        return Extraction(tags[-1].strip(), "answer_tag", cut)
    if re.search(r"<answer>", text, re.I):      # opened, never closed
        return Extraction(None, "none", True)
    if (b := boxed(text)) is not None:
        return Extraction(b.strip(), "boxed", cut)
    phrases = PHRASE.findall(text)
    if phrases:
        return Extraction(phrases[-1].strip().splitlines()[0].strip(), "phrase", cut)
    stripped = text.strip()
    return Extraction(stripped or None, "full_text" if stripped else "none", cut)


def letters(answer: str, n_options: int | None = None, options: list | None = None,
            multi: bool = False) -> list[str] | None:
    """Option letters in an answer: "B", "(B)", "B.", "Option B", "B. text", "A, C" (multi),
    or the exact text of an option. None when no unambiguous letter is there."""
    valid = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[:n_options or 26]
    cleaned = answer.strip().strip("*`'\" ")
    for form in LETTER_FORMS:
        if (m := form.match(cleaned)) and m.group(1) in valid:
            return [m.group(1)]
    if multi:
        parts = [p.strip(" ()[]{}.'\"") for p in re.split(r"[,;\s]+|\band\b", cleaned) if p.strip()]
        if parts and all(len(p) == 1 and p in valid for p in parts):
            return sorted(set(parts))
    if options:
        for i, opt in enumerate(options):
            if isinstance(opt, str) and cleaned.lower() == opt.strip().lower().rstrip("."):
                return [valid[i]] if i < len(valid) else None
    return None


def parse_number(token: str) -> float | None:
    """A number token -> float. "40%" is 40 (benchmarks state percentages as numbers)."""
    token = token.replace("−", "-").replace(",", "").replace(" ", "").rstrip("%")
    try:
        return float(Fraction(token)) if "/" in token else float(token)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None


def number_token(answer: str, last: bool = False) -> str | None:
    """The first (or last) number as written in the answer."""
    found = [m.group(0) for m in NUMBER.finditer(answer) if parse_number(m.group(0)) is not None]
    return (found[-1] if last else found[0]) if found else None


def number(answer: str, last: bool = False) -> float | None:
    """The first (or last) number in an answer: 1,234.5, -3/4, 2.5e3, 40%, with units."""
    found = [parse_number(m.group(0)) for m in NUMBER.finditer(answer)]
    found = [v for v in found if v is not None]
    if not found:
        return None
    return found[-1] if last else found[0]
