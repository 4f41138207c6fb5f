"""Tag blocks (`<think>...</think>`, `<answer>...</answer>`) found in time linear in the text.

A lazy regex such as `<think>(.*?)</think>` rescans to the end of the text from every `<think>`
that is never closed, so a degenerate output (`"<think>" * 40000`) costs quadratic time: tens of
seconds for one response. These functions give the same matches as the regexes they replace,
with `str.find` moving only forwards.

    first_block(text, "<think>", "</think>")   # re.search(r"<think>(.*?)</think>", text, re.S)
    last_block(text, "<answer>", "</answer>")  # re.findall(r"<answer>(.*?)</answer>", ...)[-1]
    remove_blocks(text, "<think>", "</think>") # re.sub(r"<think>.*?</think>", " ", text, re.S)

Tags match case-insensitively when `fold` (ASCII case only, so offsets stay those of `text`).
Where an opening tag occurs at most once the regex itself is linear and runs in C, so
`without_blocks` and `last_block(hay=...)` use it then (scoring's common case) and scan only
when the tag repeats.
"""
from __future__ import annotations

import functools
import re

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and every other character kept: the same length, the same offsets
    (str.lower can change the length: "İ".lower() is two characters)."""
    return text.translate(_ASCII_LOWER)


def spans(text: str, open_tag: str, close_tag: str, fold: bool = False, hay: str | None = None):
    """(content start, content end) of each block, leftmost first, as a lazy regex finds them:
    a block opens at the first `open_tag` after the previous block and closes at the first
    `close_tag` after that; an open tag never closed ends the search. `hay`: ascii_lower(text)
    when the caller has it already (implies fold)."""
    fold = fold or hay is not None
    hay = hay if hay is not None else ascii_lower(text) if fold else text
    if fold:
        open_tag, close_tag = ascii_lower(open_tag), ascii_lower(close_tag)
    pos = 0
    while (start := hay.find(open_tag, pos)) >= 0:
        end = hay.find(close_tag, start + len(open_tag))
        if end < 0:
            return
        yield start + len(open_tag), end
        pos = end + len(close_tag)


@functools.lru_cache(maxsize=32)
def _pattern(open_tag: str, close_tag: str) -> re.Pattern:
    return re.compile(re.escape(open_tag) + "(.*?)" + re.escape(close_tag), re.S)


def without_blocks(text: str, hay: str, open_tag: str, close_tag: str,
                   replacement: str = " ") -> tuple[str, str]:
    """(text, hay) with every complete block cut from both; `hay` is ascii_lower(text) and the
    tags are lower-case. With at most one opening tag the lazy regex cannot rescan (it is
    linear, and several times faster in C); with more, the linear scan decides."""
    if hay.count(open_tag) <= 1:
        pattern = _pattern(open_tag, close_tag)
        m = pattern.search(hay)
        if m is None:
            return text, hay
        a, b = m.span()
        return text[:a] + replacement + text[b:], hay[:a] + replacement + hay[b:]
    blocks = list(spans(text, open_tag, close_tag, hay=hay))
    return (cut(text, blocks, open_tag, close_tag, replacement),
            cut(hay, blocks, open_tag, close_tag, replacement))


def first_block(text: str, open_tag: str, close_tag: str, fold: bool = False) -> str | None:
    """Content of the first complete block, or None."""
    for a, b in spans(text, open_tag, close_tag, fold):
        return text[a:b]
    return None


def last_block(text: str, open_tag: str, close_tag: str, fold: bool = False,
               hay: str | None = None) -> str | None:
    """Content of the last complete block, or None."""
    if hay is not None and hay.count(open_tag) <= 1:     # one opening tag: the regex is linear
        m = _pattern(open_tag, close_tag).search(hay)
        return None if m is None else text[m.start(1):m.end(1)]
    found = None
    for found in spans(text, open_tag, close_tag, fold, hay):
        pass
    return None if found is None else text[found[0]:found[1]]


def remove_blocks(text: str, open_tag: str, close_tag: str, fold: bool = False,
                  replacement: str = " ", hay: str | None = None) -> str:
    """`text` with every complete block (tags included) replaced by `replacement`."""
    return cut(text, list(spans(text, open_tag, close_tag, fold, hay)), open_tag, close_tag,
               replacement)


def cut(text: str, blocks: list[tuple[int, int]], open_tag: str, close_tag: str,
        replacement: str = " ") -> str:
    """`text` with the blocks `spans` found (tags included) replaced by `replacement`; the same
    blocks cut from ascii_lower(text) give ascii_lower of the result."""
    if not blocks:
        return text
    out, pos = [], 0
    for a, b in blocks:
        out.append(text[pos:a - len(open_tag)])
        out.append(replacement)
        pos = b + len(close_tag)
    out.append(text[pos:])
    return "".join(out)
