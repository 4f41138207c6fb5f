"""Evaluation reports: a table on stderr, and Markdown, HTML (inline SVG bars, no network) or
JSON files with the same numbers, the scoring mode and the resolved configuration.
"""
from __future__ import annotations

import contextlib
import html
import json
import os
import time

STATUS_ORDER = ("correct", "incorrect", "unparseable", "truncated", "judge_failed")


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f}"


def _ci(row) -> str:
    return "—" if row["ci_low"] is None else f"[{_pct(row['ci_low'])}, {_pct(row['ci_high'])}]"


def _status_text(row) -> str:
    s = row["statuses"]
    return ", ".join(f"{k} {s[k]}" for k in STATUS_ORDER if s.get(k))


def table_text(rows: list[dict], comparison: dict | None) -> str:
    """Plain text for stderr (rich would wrap it; a terminal or a log file both read this)."""
    width = max(len(f"{r['group']}={r['label']}") for r in rows) + 2
    out = [f"{'group':<{width}}{'n':>7} {'score %':>9}  95% CI            statuses"]
    for r in rows:
        name = "overall" if r["group"] == "overall" and r["label"] == "all" else \
            f"{r['group']}={r['label']}"
        out.append(f"{name:<{width}}{r['n']:>7} {_pct(r['mean']):>9}  {_ci(r):<17} "
                   f"{_status_text(r)}")
    if comparison:
        out.append(_comparison_text(comparison))
    return "\n".join(out)


def _comparison_text(c: dict) -> str:
    unpaired = [f"{c[k]} {label}" for k, label in (
        ("only_here", "only here"), ("only_baseline", "only in the baseline"),
        ("duplicate_ids_here", "repeated ids here"),
        ("duplicate_ids_baseline", "repeated ids in the baseline")) if c.get(k)]
    text = (f"vs baseline on {c['paired_items']} paired items"
            + (f" (not paired: {', '.join(unpaired)})" if unpaired else "") + ": difference "
            f"{_pct(c['difference'])} points, 95% CI [{_pct(c['ci_low'])}, {_pct(c['ci_high'])}]")
    if "mcnemar_p" in c:
        text += f"; {c['wins']} better, {c['losses']} worse, McNemar p = {c['mcnemar_p']:.4g}"
    return text


def _bar_svg(rows: list[dict]) -> str:
    scored = [r for r in rows if r["mean"] is not None]
    h, bar = 22, 300
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{bar + 260}" '
             f'height="{h * len(scored) + 10}" role="img">']
    for i, r in enumerate(scored):
        y = i * h + 5
        label = html.escape(r["label"] if r["group"] != "overall" else "overall")
        parts.append(f'<text x="0" y="{y + 15}" font-size="13">{label}</text>')
        parts.append(f'<rect x="160" y="{y}" width="{bar * r["mean"]:.1f}" height="{h - 6}" '
                     'fill="#4c78a8"/>')
        if r["ci_low"] is not None:
            x1, x2 = 160 + bar * r["ci_low"], 160 + bar * r["ci_high"]
            parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y + 8}" y2="{y + 8}" '
                         'stroke="#222" stroke-width="2"/>')
        parts.append(f'<text x="{165 + bar}" y="{y + 15}" font-size="13">{_pct(r["mean"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _by_group(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    return groups


def markdown(rows, comparison, meta) -> str:
    out = ["# Evaluation report", "", f"- inputs: {', '.join(meta['inputs'])}",
           f"- scoring: {meta['scoring']}", f"- generated: {meta['generated']}", ""]
    for group, items in _by_group(rows).items():
        out += [f"## {group}", "", "| label | n | score % | 95% CI | | statuses |",
                "|---|---:|---:|---|---|---|"]
        for r in items:
            blocks = "█" * round(20 * (r["mean"] or 0))
            out.append(f"| {r['label']} | {r['n']} | {_pct(r['mean'])} | {_ci(r)} | "
                       f"`{blocks:<20}` | {_status_text(r)} |")
        out.append("")
    if comparison:
        out += ["## Baseline", "", _comparison_text(comparison), ""]
    return "\n".join(out)


def html_report(rows, comparison, meta) -> str:
    sections = []
    for group, items in _by_group(rows).items():
        body = "".join(f"<tr><td>{html.escape(r['label'])}</td><td>{r['n']}</td>"
                       f"<td>{_pct(r['mean'])}</td><td>{_ci(r)}</td>"
                       f"<td>{html.escape(_status_text(r))}</td></tr>" for r in items)
        sections.append(f"<h2>{html.escape(group)}</h2>{_bar_svg(items)}<table><tr><th>label</th>"
                        f"<th>n</th><th>score %</th><th>95% CI</th><th>statuses</th></tr>{body}"
                        "</table>")
    if comparison:
        sections.append(f"<h2>Baseline</h2><p>{html.escape(_comparison_text(comparison))}</p>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>thinkpipe eval</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
            "td:first-child{text-align:left}</style></head><body><h1>Evaluation report</h1>"
            f"<p>inputs: {html.escape(', '.join(meta['inputs']))}<br>scoring: "
            f"{html.escape(meta['scoring'])}<br>generated: {meta['generated']}</p>"
            + "".join(sections) + "</body></html>")


REPORT_KINDS = {".json": "json", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def report_kind(path: str) -> str:
    """json, html or md from the extension; ValueError for any other (never a silent guess)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in REPORT_KINDS:
        raise ValueError(f"--report {path}: name it .md, .html or .json (the extension picks "
                         "the format)")
    return REPORT_KINDS[ext]


def write(path: str, rows: list[dict], comparison: dict | None, meta: dict) -> None:
    """Write the report atomically (a temporary name, then renamed); OutputError if it cannot."""
    from thinkpipe.core.errors import OutputError

    meta = {**meta, "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    kind = report_kind(path)
    if kind == "json":
        text = json.dumps({"meta": meta, "rows": rows, "baseline": comparison}, indent=2)
    elif kind == "html":
        text = html_report(rows, comparison, meta)
    else:
        text = markdown(rows, comparison, meta)
    final = os.path.realpath(path)              # through a symlink, as `>` writes
    special = os.path.exists(final) and not os.path.isfile(final)    # /dev/stdout, a pipe
    tmp = final if special else f"{final}.tmp{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            f.write(text)
        if not special:
            os.replace(tmp, final)
    except OSError as e:
        with contextlib.suppress(OSError):
            if not special:
                os.unlink(tmp)
        raise OutputError(f"--report {path}: cannot write: {e.strerror}") from None
