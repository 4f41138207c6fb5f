"""Tag blocks (`<think>...</think>`, `<answer>...</answer>`) found in time linear in the text.

A lazy regex such as `<think>(.*?)</think>` rescans to the end of the text from every `<think>`
that is never closed, so a degenerate output (`"<think>" * 40000`) costs quadratic time: tens of
seconds for one response. These functions give the same matches as the regexes they replace,
with `str.find` moving only forwards.

    first_block(text, "<think>", "</think>")   # re.search(r"<think>(.*?)</think>", text, re.S)
    last_block(text, "<answer>", "</answer>")  # re.findall(r"<answer>(.*?)</answer>", ...)[-1]
    remove_blocks(text, "<think>", "</think>") # re.sub(r"<think>.*?</think>", " ", text, re.S)

Tags match case-insensitively when `fold` (ASCII case only, so offsets stay those of `text`).
"""
from __future__ import annotations

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def ascii_lower(text: str) -> str:
    """`text` with A-Z lowered and every other character kept: the same length, the same offsets
    (str.lower can change the length: "İ".lower() is two characters)."""
    return text.translate(_ASCII_LOWER)


def spans(text: str, open_tag: str, close_tag: str, fold: bool = False):
    """(content start, content end) of each block, leftmost first, as a lazy regex finds them:
    a block opens at the first `open_tag` after the previous block and closes at the first
    `close_tag` after that; an open tag never closed ends the search."""
    hay = ascii_lower(text) if fold else text
    if fold:
        open_tag, close_tag = ascii_lower(open_tag), ascii_lower(close_tag)
    pos = 0
    while (start := hay.find(open_tag, pos)) >= 0:
        end = hay.find(close_tag, start + len(open_tag))
        if end < 0:
            return
        yield start + len(open_tag), end
        pos = end + len(close_tag)


def first_block(text: str, open_tag: str, close_tag: str, fold: bool = False) -> str | None:
    """Content of the first complete block, or None."""
    for a, b in spans(text, open_tag, close_tag, fold):
        return text[a:b]
    return None


def last_block(text: str, open_tag: str, close_tag: str, fold: bool = False) -> str | None:
    """Content of the last complete block, or None."""
    found = None
    for found in spans(text, open_tag, close_tag, fold):
        pass
    return None if found is None else text[found[0]:found[1]]


def remove_blocks(text: str, open_tag: str, close_tag: str, fold: bool = False,
                  replacement: str = " ") -> str:
    """`text` with every complete block (tags included) replaced by `replacement`."""
    out, pos = [], 0
    for a, b in spans(text, open_tag, close_tag, fold):
        out.append(text[pos:a - len(open_tag)])
        out.append(replacement)
        pos = b + len(close_tag)
    out.append(text[pos:])
    return "".join(out)
