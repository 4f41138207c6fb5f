"""The HTML report: one self-contained page (inline SVG, inline CSS, no script, no network).

    the settings      inputs, scoring mode, model, fingerprint, prompt template, decoding
    per breakdown     a bar chart with 95% intervals and a table (n, score, interval, statuses)
    difficulty        accuracy against each task's `difficulty` (DeafTest's level and frequency
                      differences, burst counts): a line chart per task, with the chance level;
                      a log axis where the levels span a factor of 10 or more (pitch: 1-100%)
    worst items       the lowest-scoring items with what was extracted and the gold answer

A Content-Security-Policy forbids every fetch and every script, so a browser opening the file
loads nothing from anywhere (tests/tools/evaluate/test_report_browser.py renders it in Chromium).
"""
from __future__ import annotations

import html
import math
import re

from .report import (_NO_RATE, WORST_HEAD, _by_group, _ci, _comparison_text, _pct, _status_text,
                     meta_lines, rate_names, worst_rows)

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
         "margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
         ".num{text-align:right}svg{display:block;margin:0.5em 0}")
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
# a number, a missing value, or an interval: right-aligned in its column
NUMERIC = re.compile(r"[-+]?\d+(\.\d+)?%?|—|\[[-+\d., —]*\]")
CHAR_W = 7.0                    # rough width of one character at font-size 12-13, in px


def _unit(v) -> float:
    """A score as a drawable fraction: 0..1 (never a negative width, never NaN)."""
    v = float(v)
    return min(1.0, max(0.0, v)) if math.isfinite(v) else 0.0


def bars(rows: list[dict]) -> str:
    scored = [r for r in rows if r["mean"] is not None]
    if not scored:
        return ""
    labels = [r["label"] if r["group"] != "overall" else "overall" for r in scored]
    labels = [str(x) if len(str(x)) <= 24 else str(x)[:23] + "…" for x in labels]
    h, bar = 22, 300
    left = round(max(len(x) for x in labels) * CHAR_W) + 12
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + bar + 70}" '
             f'height="{h * len(scored) + 10}" role="img" aria-label="scores with 95% intervals">']
    for i, (r, label) in enumerate(zip(scored, labels)):
        y = i * h + 5
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{html.escape(label)}</text>'
                     f'<rect x="{left}" y="{y}" width="{bar * _unit(r["mean"]):.1f}" '
                     f'height="{h - 6}" fill="#4c78a8"/>')
        if r["ci_low"] is not None:
            x1, x2 = left + bar * _unit(r["ci_low"]), left + bar * _unit(r["ci_high"])
            parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y + 8}" y2="{y + 8}" '
                         'stroke="#222" stroke-width="2"/>')
        parts.append(f'<text x="{left + bar + 5}" y="{y + 15}" font-size="13">'
                     f'{_pct(r["mean"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _scale(xs: list[float]):
    """x -> 0..1 over the levels, and whether it is logarithmic (levels > 0 spanning 10x)."""
    log = xs[0] > 0 and xs[-1] / xs[0] >= 10
    f = math.log10 if log else float
    lo, span = f(xs[0]), (f(xs[-1]) - f(xs[0])) or 1.0
    return (lambda x: (f(x) - lo) / span), log


def _ticks(xs: list[float], px, base: float) -> str:
    """Tick labels left to right, dropping one that would overlap its shown neighbour."""
    shown: list[tuple[float, str]] = []
    for x in xs:
        text = f"{x:g}"
        if shown and px(x) - shown[-1][0] < (len(text) + len(shown[-1][1])) * CHAR_W / 2 + 4:
            if x != xs[-1]:
                continue
            if len(shown) > 1:
                shown.pop()             # the last level is always labelled
        shown.append((px(x), text))
    return "".join(f'<line x1="{p:.1f}" x2="{p:.1f}" y1="{base:.1f}" y2="{base + 4:.1f}" '
                   f'stroke="#222"/><text class="tick" x="{p:.1f}" y="{base + 16:.1f}" '
                   f'font-size="11" text-anchor="middle">{t}</text>' for p, t in shown)


def curve(task: str, points: dict, chance: float | None = None, unit: str | None = None) -> str:
    """Accuracy (y, 0-100%) against difficulty (x), one polyline; points: x -> (sum, n)."""
    xs = sorted(x for x in points if isinstance(x, (int, float)) and math.isfinite(x)
                and points[x][1])
    if not xs:
        return ""
    w, h, pad = 420, 235, 40
    frac, log = _scale(xs)

    def at(x, y):
        return pad + (w - 2 * pad) * frac(x), h - pad - 15 - (h - 2 * pad - 15) * _unit(y)
    base = at(xs[0], 0)[1]
    coords = [(x, *at(x, points[x][0] / points[x][1])) for x in xs]
    line = " ".join(f"{px:.1f},{py:.1f}" for _, px, py in coords)
    marks = "".join(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="#e45756"><title>'
                    f'{x:g}: {_pct(points[x][0] / points[x][1])}% of {points[x][1]}</title>'
                    '</circle>' for x, px, py in coords)
    ticks = _ticks(xs, lambda x: at(x, 0)[0], base)
    guide = ""
    if chance is not None:
        y = at(xs[0], chance)[1]
        guide = (f'<line x1="{pad}" x2="{w - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="#999" '
                 f'stroke-dasharray="4"/><text x="{w - pad}" y="{y - 4:.1f}" font-size="11" '
                 'text-anchor="end">chance</text>')
    xlabel = html.escape(unit or "difficulty") + (" (log scale)" if log else "")
    top, mid = at(xs[0], 1)[1], at(xs[0], 0.5)[1]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
            f'aria-label="{html.escape(task)}: accuracy by difficulty">'
            f'<text x="{pad}" y="16" font-size="13">{html.escape(task)}: accuracy by difficulty'
            f'</text><line x1="{pad}" y1="{base}" x2="{w - pad}" y2="{base}" stroke="#222"/>'
            f'<line x1="{pad}" y1="{top}" x2="{pad}" y2="{base}" stroke="#222"/>'
            f'<text x="{pad - 6}" y="{top + 4}" font-size="11" text-anchor="end">100%</text>'
            f'<text x="{pad - 6}" y="{mid + 4}" font-size="11" text-anchor="end">50%</text>'
            f'<text x="{pad - 6}" y="{base + 4}" font-size="11" text-anchor="end">0%</text>'
            f'{guide}<polyline points="{line}" fill="none" stroke="#e45756" stroke-width="2"/>'
            f'{marks}{ticks}<text x="{w / 2:.0f}" y="{h - 8}" font-size="11" '
            f'text-anchor="middle">{xlabel}</text></svg>')


def _table(head: list[str], body: list[list[str]], cls: str = "") -> str:
    """A table whose all-numeric columns (numbers, intervals, —) are right-aligned."""
    cells = [[str(c) for c in row] for row in body]
    num = [bool(cells) and all(NUMERIC.fullmatch(row[i]) for row in cells if i < len(row))
           for i in range(len(head))]

    def td(tag, i, text):
        return f'<{tag}{" class=num" if i < len(num) and num[i] else ""}>{html.escape(text)}</{tag}>'
    th = "".join(td("th", i, h) for i, h in enumerate(head))
    tr = "".join("<tr>" + "".join(td("td", i, c) for i, c in enumerate(row)) + "</tr>"
                 for row in cells)
    return f'<table{f" class={cls}" if cls else ""}><tr>{th}</tr>{tr}</table>'


def _rate_cells(row: dict, name: str) -> list[str]:
    rate = row.get("rates", {}).get(name, _NO_RATE)
    return [_pct(rate["mean"]), _ci(rate)]


def page(rows, comparison, meta, worst=None, curves=None) -> str:
    sections = [_table(["setting", "value"], [list(x) for x in meta_lines(meta)], "settings")]
    for group, items in _by_group(rows).items():
        rates = rate_names(items)
        body = [[r["label"], r["n"], _pct(r["mean"]), _ci(r)]
                + [c for k in rates for c in _rate_cells(r, k)] + [_status_text(r)] for r in items]
        head = ["label", "n", "score %", "95% CI"] + [c for k in rates
                                                       for c in (f"{k} %", "95% CI")]
        sections.append(f"<h2>{html.escape(group)}</h2>{bars(items)}"
                        + _table(head + ["statuses"], body))
    if curves:
        sections.append("<h2>difficulty</h2>" + "".join(
            curve(task, c["points"], c.get("chance"), c.get("unit"))
            for task, c in sorted(curves.items())))
    if comparison:
        sections.append(f"<h2>Baseline</h2><p>{html.escape(_comparison_text(comparison))}</p>")
    if worst:
        sections.append("<h2>lowest-scoring items</h2>"
                        + _table(WORST_HEAD, worst_rows(worst), "worst"))
    return ("<!doctype html><html><head><meta charset='utf-8'>"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            "<meta name='viewport' content='width=device-width'><title>thinkpipe eval</title>"
            f"<style>{STYLE}</style></head><body><h1>Evaluation report</h1>"
            + "".join(sections) + "</body></html>")
