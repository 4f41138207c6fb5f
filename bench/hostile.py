"""Scoring time on degenerate outputs (bench/RESULTS.md, "hostile").

The hostile patterns and the readers of a model's text are those of
tests/core/rewards/test_hostile.py (score_record for every question type, the official scorers,
the thinking scorer's parser, the format and reflection rewards, the drawing-op parser). For each
pattern: the slowest reader's time on 1 MB (scored from its 64 KiB window) and on 50 kB, and the
growth of the slowest reader from 5 kB to 50 kB (linear: 10×).

    python bench/hostile.py
"""
from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "bench"), ROOT]
from _common import machine, write_section  # noqa: E402

from tests.core.rewards.test_hostile import PATTERNS, READERS, _best  # noqa: E402
from thinkpipe.core.rewards.bounds import WINDOW  # noqa: E402


def worst(text: str) -> tuple[str, float]:
    """(the slowest reader, its best-of-5 seconds) on text."""
    return max(((name, _best(read, text, repeats=5)) for name, read in READERS.items()),
               key=lambda pair: pair[1])


def main() -> None:
    READERS["score math"]("<answer>1</answer>")       # math-verify's first-call set-up
    rows = ["| pattern | slowest reader at 1 MB | ms | at 50 kB, ms | 5 kB → 50 kB |",
            "|---|---|---:|---:|---:|"]
    for pattern, make in PATTERNS.items():
        name, mega = worst(make(1_000_000))
        small, large = make(WINDOW // 13), make(WINDOW * 10 // 13)
        _, t_large = worst(large)
        growth = max(10 * _best(read, large, repeats=5) / _best(read, small, calls=10, repeats=5)
                     for read in READERS.values())       # each side ~ the same work: robust
        rows.append(f"| {pattern} | {name} | {mega * 1e3:.1f} | {t_large * 1e3:.1f} | {growth:.1f}× |")
        print(rows[-1])
    text = "\n".join([
        "<!-- hostile:start -->", "## Scoring degenerate outputs (bench/hostile.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        f"{len(READERS)} readers of a model's text (tests/core/rewards/test_hostile.py) on each "
        "pattern; best of 5 per reader, the slowest reader shown. Growth is the largest ratio over "
        "the readers of their 50 kB time to their 5 kB time (≤ 10× up to timer noise: linear).", "",
        *rows, "", "Target (issue 22): under 50 ms for any pattern, linear growth.",
        "<!-- hostile:end -->"]) + "\n"
    write_section(text, "hostile")
    print(text)


if __name__ == "__main__":
    main()
