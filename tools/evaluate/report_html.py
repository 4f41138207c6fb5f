"""The HTML report: one self-contained page (inline SVG, inline CSS, no script, no network).

    the settings      inputs, scoring mode, model, fingerprint, prompt template, decoding
    per breakdown     a bar chart with 95% intervals and a table (n, score, interval, statuses)
    difficulty        accuracy against each task's `difficulty` (DeafTest's level and frequency
                      differences, burst counts): a line chart per task, with the chance level
    worst items       the lowest-scoring items with what was extracted and the gold answer
"""
from __future__ import annotations

import html

from .report import (WORST_HEAD, _by_group, _ci, _comparison_text, _pct, _status_text, meta_lines,
                     worst_rows)

STYLE = ("body{font-family:sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;"
         "margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
         "td:first-child,th:first-child{text-align:left}.settings td{text-align:left}"
         "svg{display:block;margin:0.5em 0}")


def bars(rows: list[dict]) -> str:
    scored = [r for r in rows if r["mean"] is not None]
    h, bar = 22, 300
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{bar + 260}" '
             f'height="{h * len(scored) + 10}" role="img">']
    for i, r in enumerate(scored):
        y = i * h + 5
        label = html.escape(r["label"] if r["group"] != "overall" else "overall")
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{label[:24]}</text>')
        parts.append(f'<rect x="160" y="{y}" width="{bar * r["mean"]:.1f}" height="{h - 6}" '
                     'fill="#4c78a8"/>')
        if r["ci_low"] is not None:
            x1, x2 = 160 + bar * r["ci_low"], 160 + bar * r["ci_high"]
            parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y + 8}" y2="{y + 8}" '
                         'stroke="#222" stroke-width="2"/>')
        parts.append(f'<text x="{165 + bar}" y="{y + 15}" font-size="13">{_pct(r["mean"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def curve(task: str, points: dict, chance: float | None = None) -> str:
    """Accuracy (y, 0-100%) against difficulty (x), one polyline; points: x -> (sum, n)."""
    xs = sorted(points)
    if not xs:
        return ""
    w, h, pad = 420, 220, 40
    lo, hi = xs[0], xs[-1] if xs[-1] != xs[0] else xs[0] + 1

    def at(x, y):
        return pad + (w - 2 * pad) * (x - lo) / (hi - lo), h - pad - (h - 2 * pad) * y
    coords = [at(x, points[x][0] / points[x][1]) for x in xs]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    marks = "".join(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#e45756"/>' for x, y in coords)
    ticks = "".join(f'<text x="{at(x, 0)[0]:.1f}" y="{h - pad + 15}" font-size="11" '
                    f'text-anchor="middle">{x:g}</text>' for x in xs)
    guide = ""
    if chance is not None:
        y = at(lo, chance)[1]
        guide = (f'<line x1="{pad}" x2="{w - pad}" y1="{y:.1f}" y2="{y:.1f}" stroke="#999" '
                 f'stroke-dasharray="4"/><text x="{w - pad}" y="{y - 4:.1f}" font-size="11" '
                 'text-anchor="end">chance</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img">'
            f'<text x="{pad}" y="16" font-size="13">{html.escape(task)}: accuracy by difficulty'
            f'</text><line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#222"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{h - pad}" stroke="#222"/>'
            f'<text x="{pad - 6}" y="{pad + 4}" font-size="11" text-anchor="end">100%</text>'
            f'<text x="{pad - 6}" y="{h - pad}" font-size="11" text-anchor="end">0%</text>'
            f'{guide}<polyline points="{line}" fill="none" stroke="#e45756" stroke-width="2"/>'
            f'{marks}{ticks}</svg>')


def _table(head: list[str], body: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    tr = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                 for row in body)
    return f'<table class="{cls}"><tr>{th}</tr>{tr}</table>'


def page(rows, comparison, meta, worst=None, curves=None) -> str:
    sections = [_table(["setting", "value"], [list(x) for x in meta_lines(meta)], "settings")]
    for group, items in _by_group(rows).items():
        body = [[r["label"], r["n"], _pct(r["mean"]), _ci(r), _status_text(r)] for r in items]
        sections.append(f"<h2>{html.escape(group)}</h2>{bars(items)}"
                        + _table(["label", "n", "score %", "95% CI", "statuses"], body))
    if curves:
        sections.append("<h2>difficulty</h2>" + "".join(
            curve(task, c["points"], c.get("chance")) for task, c in sorted(curves.items())))
    if comparison:
        sections.append(f"<h2>Baseline</h2><p>{html.escape(_comparison_text(comparison))}</p>")
    if worst:
        sections.append("<h2>lowest-scoring items</h2>" + _table(WORST_HEAD, worst_rows(worst)))
    return ("<!doctype html><html><head><meta charset='utf-8'><title>thinkpipe eval</title>"
            f"<style>{STYLE}</style></head><body><h1>Evaluation report</h1>"
            + "".join(sections) + "</body></html>")
