"""Multiple choice: which option letters an answer names, and which the gold answer names.

Text is NFKC-normalised first, so a full-width `Ｂ` or `（B）` reads as B. An answer is read as

  1. one letter alone: `B`, `(B)`, `b`, `(b)`, `B.`, `[B]`, `B)`, `Option B`, `**B**`;
  2. the text of an option (case, spacing and a final period ignored): `dog` is B when the
     options are cat, dog, ...;
  3. a list of letters only: `A, C`, `(A) and (C)`, `A;C`, `AC` (concatenated capitals);
  4. a leading letter with text after it: `B. the red one`, `(B) because ...` — only when the
     text after it names no other option;
  5. for a multi-select item, any other text: the set of options it names.
An answer naming several options is ambiguous for a single-answer item (None: unparseable), so
`(A) is wrong, (B) is right`, `A. No wait, it is B.` and `(A) or (B)` are never read as A. A
hedge (`or`, `either`, `maybe`, ...) between several options is unparseable for multi-select too.
"Names an option" means `(X)`, `[X]`, or a capital X standing alone; `A` and `I` followed by a
lower-case word (other than and, or, is, ...) are the English article and pronoun, not
options (`B. A red one` reads as B; `A and C` names two).

The gold answer is letters (`B`, `A, C`, `["A", "C"]`, MMMU-Pro/MME's concatenated `AC`) or the
text of an option; `gold_letters` returns None for anything else.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
WHOLE = [
    re.compile(r"^[\(\[\{]?\s*([A-Za-z])\s*[\)\]\}]?\s*[.:)]?$"),           # B (B) b B. [B] B)
    re.compile(r"^(?:option|choice)\s*[\(\[]?([A-Za-z])[\)\]]?\s*[.:]?$", re.I),  # Option B
]
LEADING = re.compile(r"^(?:\(([A-Za-z])\)|\[([A-Za-z])\]|([A-Z])\s*[.:)])\s*(\S.*)$", re.S)
LIST_SEP = re.compile(r"[,;&+\s]+|\band\b", re.I)
LIST_ITEM = re.compile(r"^[\(\[]?([A-Za-z])[\)\]]?\.?$")
# Two ASCII letters in a row other than the word "and": a LIST_SEP part holding them has two
# letters, which no LIST_ITEM has (separators hold no letters but "and" between word boundaries)
WORD = re.compile(r"(?<![A-Za-z])(?![Aa][Nn][Dd](?![A-Za-z]))[A-Za-z]{2,}")
MENTION = re.compile(r"\(([A-Za-z])\)|\[([A-Za-z])\]|"
                     r"(?<![A-Za-z0-9'’])([A-Z])(?![A-Za-z0-9'’])")
CONNECTIVES = "and|or|nor|but|is|are|was|were|seems|also|then|because|since|as|vs"
ARTICLE = re.compile(rf"\s+(?!(?:{CONNECTIVES})\b)[a-z]")   # "A red one", not "A and C"
HEDGE = re.compile(r"\b(?:or|either|maybe|perhaps|possibly|probably|might|unsure|not sure)\b",
                   re.I)


def normalise(text: str) -> str:
    """NFKC, markdown emphasis and quotes stripped, inner whitespace collapsed."""
    if not text.isascii():                     # NFKC changes nothing in ASCII text
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.strip().strip("*`'\" ").split())


def _option_key(text: Any) -> str:
    return normalise(str(text)).casefold().rstrip(".").strip()


@functools.lru_cache(maxsize=4096)
def _option_keys(options: tuple) -> dict[str, int | None]:
    """key -> index of the one option with that text (None when two options share it)."""
    keys: dict[str, int | None] = {}
    for i, opt in enumerate(options):
        key = _option_key(opt)
        keys[key] = None if key in keys else i
    return keys


def option_index(answer: str, options: list | None) -> int | None:
    """Index of the option whose text the answer is, or None."""
    if not options:
        return None
    key = _option_key(answer)
    try:
        return _option_keys(tuple(options)).get(key) if key else None
    except TypeError:                          # an unhashable option (a dict): no cache
        return _option_keys.__wrapped__(tuple(options)).get(key) if key else None


def _whole(text: str, valid: str) -> str | None:
    if len(text) == 1:              # what WHOLE reads in one character, without a regex call
        up = text.upper()
        return up if text.isascii() and text.isalpha() and up in valid else None
    for form in WHOLE:
        if (m := form.match(text)) and m.group(1).upper() in valid:
            return m.group(1).upper()
    return None


def _as_list(text: str, valid: str) -> list[str] | None:
    """The letters of an answer that is only letters: `A, C`, `(A) and (C)`, `[A, C]`, `AC`."""
    if WORD.search(text) is None:      # else some part holds two letters: not a list item
        inner = text[1:-1] if text[:1] == "[" and text[-1:] == "]" else text
        parts = [p.strip(" '\"") for p in LIST_SEP.split(inner) if p and p.strip(" '\"")]
        found = [m.group(1).upper() for p in parts if (m := LIST_ITEM.match(p))]
        if parts and len(found) == len(parts) and all(f in valid for f in found):
            return sorted(set(found))
    if 2 <= len(text) <= 26 and text.isascii() and text.isalpha() and text.isupper() and \
            len(set(text)) == len(text) and all(c in valid for c in text):
        return sorted(text)                                    # concatenated capitals: "AC"
    return None


def mentions(text: str, valid: str) -> list[str]:
    """Option letters a text names, in order of first mention."""
    out = []
    for m in MENTION.finditer(text):
        letter = (m.group(1) or m.group(2) or m.group(3)).upper()
        if m.group(3) and letter in "AI" and ARTICLE.match(text, m.end()):
            continue                                           # "A red one", "I think"
        if letter in valid and letter not in out:
            out.append(letter)
    return out


def letters(answer: str, n_options: int | None = None, options: list | None = None,
            multi: bool = False) -> list[str] | None:
    """Option letters an answer names (see the module docstring), sorted; None when it names
    none, or several for a single-answer item."""
    valid = ALPHABET[:n_options or 26]
    if len(answer) == 1 and answer.isascii() and answer.isalpha() and answer.upper() in valid:
        return [answer.upper()]                 # one letter: what the steps below give
    text = normalise(answer)
    if not text:
        return None
    if (one := _whole(text, valid)) is not None:
        return [one]
    if (i := option_index(text, options)) is not None:
        return [valid[i]] if i < len(valid) else None
    if (listed := _as_list(text, valid)) is not None:
        return listed if multi or len(listed) == 1 else None
    if (m := LEADING.match(text)) and (lead := (m.group(1) or m.group(2) or m.group(3)).upper()) \
            in valid:
        rest = mentions(m.group(4), valid)
        if not rest or rest == [lead]:
            return [lead]
    named = mentions(text, valid) if multi else None    # only multi-select reads the rest
    if not named or (len(named) > 1 and HEDGE.search(text)):
        return None
    return sorted(named)


def gold_letters(gold: Any, options: list | None = None) -> list[str] | None:
    """The option letters of a gold answer: letters, a list of them, `AC`, or an option's text
    (each list item may be either). None when the gold is none of these."""
    valid = ALPHABET[:len(options)] if options else ALPHABET
    if isinstance(gold, (list, tuple)):
        out = set()
        for item in gold:
            one = gold_letters(item, options)
            if one is None:
                return None
            out.update(one)
        return sorted(out) or None
    if isinstance(gold, bool) or not isinstance(gold, (str, int, float)):
        return None
    if type(gold) is str and len(gold) == 1 and gold.isascii() and gold.isalpha() and \
            gold.upper() in valid:
        return [gold.upper()]                   # one letter: what the steps below give
    text = normalise(str(gold))
    if (one := _whole(text, valid)) is not None:
        return [one]
    if (i := option_index(text, options)) is not None and i < len(valid):
        return [valid[i]]
    return _as_list(text, valid)


def labels(text: Any) -> set[str]:
    """Comma-separated labels as a set (choice items whose labels are not letters: "2, 44")."""
    value = ",".join(map(str, text)) if isinstance(text, (list, tuple)) else str(text)
    return {normalise(p) for p in normalise(value).strip("[]").split(",") if normalise(p)}
