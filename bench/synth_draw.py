"""synth-draw throughput, and maze rendering against matplotlib (bench/RESULTS.md).

    python bench/synth_draw.py        # about a minute on 2 cores; needs matplotlib (make bench)

1. Records/s of `synth-draw` (PNG images inline, every trace replayed and solver-checked) for
   maze and relations, with --workers 1 and 2; wall time of the whole command, startup included.
2. The same mazes rendered to PNG by thinkpipe (PIL, palette image) and by matplotlib in the
   616 px layout VILASR's cell-centre check assumes (figure margins 12.5% / 10% / 12% / 11%):
   mazes/s of each, as a ratio measured in one run.
"""
from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402


def cli_rate(task: str, count: int, workers: int) -> float:
    cmd = [os.path.join(os.path.dirname(sys.executable), "synth-draw"), "--task", task,
           "--count", str(count), "--workers", str(workers), "-q"]
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return count / (time.perf_counter() - start)


def mazes(n: int):
    from thinkpipe.tools.synth_draw.maze import carve
    rng = random.Random(0)
    out = []
    for _ in range(n):
        size = rng.choice((4, 5, 6))
        cells = [(r, c) for r in range(size) for c in range(size)]
        out.append((size, carve(rng, size), *rng.sample(cells, 2)))
    return out


def render_pil(items) -> float:
    from thinkpipe.tools.synth_draw import canvas
    from thinkpipe.tools.synth_draw.maze import Layout, render
    start = time.perf_counter()
    for size, passages, s, g in items:
        canvas.png(render(Layout(616, size), passages, s, g))
    return len(items) / (time.perf_counter() - start)


def render_matplotlib(items) -> float:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start = time.perf_counter()
    for size, passages, s, g in items:
        fig = plt.figure(figsize=(6.16, 6.16), dpi=100)
        fig.subplots_adjust(left=0.125, right=0.90, top=0.88, bottom=0.11)
        ax = fig.add_subplot()
        ax.set_xlim(0, size)
        ax.set_ylim(size, 0)
        ax.axis("off")
        ax.plot([0, size, size, 0, 0], [0, 0, size, size, 0], color="black", lw=3)
        for r in range(size):
            for c in range(size):
                if c + 1 < size and frozenset(((r, c), (r, c + 1))) not in passages:
                    ax.plot([c + 1, c + 1], [r, r + 1], color="black", lw=3)
                if r + 1 < size and frozenset(((r, c), (r + 1, c))) not in passages:
                    ax.plot([c, c + 1], [r + 1, r + 1], color="black", lw=3)
        for (r, c), colour in ((s, "green"), (g, "red")):
            ax.add_patch(plt.Circle((c + 0.5, r + 0.5), 0.28, color=colour))
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=100)
        plt.close(fig)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    rates = {(t, w): cli_rate(t, 2000, w) for t in ("maze", "relations") for w in (1, 2)}
    items = mazes(200)
    pil, mpl = render_pil(items), render_matplotlib(items)
    rows = ["| task | --workers 1 | --workers 2 | scaling |", "|---|---:|---:|---:|"]
    for t in ("maze", "relations"):
        rows.append(f"| {t} | {rates[(t, 1)]:.0f} | **{rates[(t, 2)]:.0f}** | "
                    f"{rates[(t, 2)] / rates[(t, 1)]:.2f}x |")
    text = "\n".join([
        "<!-- synth_draw:start -->",
        "## synth-draw (bench/synth_draw.py)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        "Records/s of `synth-draw --count 2000` (616 px images, inline PNG, every trace executed "
        "by core/drawing and checked by an independent solver), whole command, startup included. "
        "Target: >= 300 maze records/s on 2 workers.",
        "",
        *rows,
        "",
        "Rendering the same 200 mazes (4-6 cells) to PNG, thinkpipe vs matplotlib in VILASR's "
        "616 px layout:",
        "",
        "| renderer | mazes/s | ratio |",
        "|---|---:|---:|",
        f"| matplotlib (Agg, 616 px figure) | {mpl:.0f} | 1.00 |",
        f"| thinkpipe (PIL palette image, zlib level 1) | {pil:.0f} | **{pil / mpl:.0f}x** |",
        "<!-- synth_draw:end -->",
    ]) + "\n"
    write_section(text, "synth_draw")
    print(text)


if __name__ == "__main__":
    main()
