"""thinkpipe plot: training curves from metrics or rollout JSONL, several runs overlaid.

Every input file is a run (its curves are labelled by the file name, or by the value of
`--label FIELD`, which also splits one file into several curves); every `--y` field gets a
panel of its own, against `--x` (default `step`; a record without it is placed at its index
among the file's plotted records). Records without a numeric value for a field (a summary row,
a rollout without that reward) are left out of that panel only. The picture is drawn by
matplotlib (Agg, no display): .png or .svg from the output's extension, or .html, a
self-contained page with the SVG inline (no network).

Smoothing (`--smooth W`, W in [0, 1)) is TensorBoard's: the debiased exponential moving average

    m_t = W m_{t-1} + (1 - W) y_t,    s_t = m_t / (1 - W^t),    m_0 = 0

so the first points are not pulled towards 0; the raw curve stays underneath, faint.

    thinkpipe plot metrics.jsonl --y reward,loss -o curves.png
    thinkpipe plot runs/a.jsonl runs/b.jsonl --y rewards/accuracy --smooth 0.6 -o acc.svg
    thinkpipe plot rollouts.jsonl --x step --y reward --label model -o reward.html
"""
from __future__ import annotations

import html
import io
import math
import os
from dataclasses import dataclass
from typing import Iterable, Iterator

FORMATS = (".png", ".svg", ".html")


@dataclass(frozen=True)
class PlotConfig:
    y: tuple[str, ...]                 # fields to plot, a panel each
    x: str = "step"                    # the x field (else the record's index in its curve)
    label: str | None = None           # a field whose value names a curve (default: the file)
    smooth: float = 0.0                # TensorBoard's debiased EMA weight, in [0, 1)
    title: str | None = None           # the figure's title
    width: float = 6.4                 # inches per panel
    height: float = 3.6                # inches per panel
    dpi: int = 150                     # pixels per inch of a .png

    def __post_init__(self):
        if not self.y:
            raise ValueError("--y: name at least one field to plot, e.g. --y reward,loss")
        if not 0.0 <= self.smooth < 1.0:
            raise ValueError(f"--smooth {self.smooth}: a weight in [0, 1), e.g. 0.6")


Curves = dict[str, dict[str, tuple[list[float], list[float]]]]   # y -> curve name -> (xs, ys)


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def collect(runs: Iterable[tuple[str, Iterator[dict]]], cfg: PlotConfig) -> Curves:
    """(run name, records) pairs -> the points of every curve of every panel."""
    curves: Curves = {y: {} for y in cfg.y}
    for run, records in runs:
        counts: dict[tuple[str, str], int] = {}
        for record in records:
            name = run if cfg.label is None else f"{record.get(cfg.label, '(none)')}"
            for y in cfg.y:
                value = _number(record.get(y))
                if value is None:
                    continue
                index = counts.get((name, y), 0)
                counts[(name, y)] = index + 1
                x = _number(record.get(cfg.x))
                xs, ys = curves[y].setdefault(name, ([], []))
                xs.append(index if x is None else x)
                ys.append(value)
    return curves


def smooth(values: list[float], weight: float) -> list[float]:
    """TensorBoard's debiased exponential moving average (weight 0: the values themselves)."""
    if weight == 0.0:
        return list(values)
    out, m = [], 0.0
    for t, v in enumerate(values, start=1):
        m = weight * m + (1 - weight) * v
        out.append(m / (1 - weight ** t))
    return out


def missing(curves: Curves) -> list[str]:
    """The --y fields no record had a number for."""
    return [y for y, by_run in curves.items() if not by_run]


def figure(curves: Curves, cfg: PlotConfig):
    """A matplotlib figure: a panel per --y field, a line per curve."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(curves), 1, squeeze=False,
                             figsize=(cfg.width, cfg.height * len(curves)))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    runs = list(dict.fromkeys(name for by_run in curves.values() for name in by_run))
    for ax, (y, by_run) in zip(axes[:, 0], curves.items()):
        for name, (xs, ys) in by_run.items():
            colour = colours[runs.index(name) % len(colours)]    # a run keeps its colour
            if cfg.smooth:
                ax.plot(xs, ys, color=colour, alpha=0.25, linewidth=1)
            ax.plot(xs, smooth(ys, cfg.smooth), color=colour, linewidth=1.8, label=name)
        ax.set_xlabel(cfg.x)
        ax.set_ylabel(y)
        ax.grid(alpha=0.3)
        if len(by_run) > 1 or cfg.label:
            ax.legend(fontsize=8)
    if cfg.title:
        fig.suptitle(cfg.title)
    fig.tight_layout()
    return fig


def write(curves: Curves, cfg: PlotConfig, path: str) -> None:
    """Render to `path` (.png, .svg or .html), written whole or not at all (OutputError)."""
    import matplotlib.pyplot as plt

    from thinkpipe.core.train.files import atomic

    ext = os.path.splitext(path)[1].lower()
    fig = figure(curves, cfg)

    def save(tmp: str) -> None:
        if ext != ".html":
            fig.savefig(tmp, format=ext[1:], dpi=cfg.dpi)
            return
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
        svg = buf.getvalue()
        svg = svg[svg.index("<svg"):]          # inline: no XML declaration or DOCTYPE
        title = html.escape(cfg.title or ", ".join(cfg.y))
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}"
                    f"</title></head><body>{svg}</body></html>")
    try:
        atomic(path, save)
    finally:
        plt.close(fig)


__all__ = ["PlotConfig", "collect", "smooth", "missing", "figure", "write", "FORMATS"]
