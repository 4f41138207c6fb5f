"""Evaluation reports: a table on stderr, and Markdown, HTML (report_html.py: a self-contained
page, no network) or JSON files with the same numbers, the scoring mode, what produced the
answers (model, fingerprint, prompt template, decoding settings), the lowest-scoring items and,
where records carry a numeric `difficulty`, accuracy per difficulty level and task.
"""
from __future__ import annotations

import contextlib
import json
import os
import time

from .traces import RATES

STATUS_ORDER = ("correct", "incorrect", "unparseable", "truncated", "judge_failed", "unscorable")


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.2f}"


def _ci(row) -> str:
    return "—" if row["ci_low"] is None else f"[{_pct(row['ci_low'])}, {_pct(row['ci_high'])}]"


def _status_text(row) -> str:
    s = row["statuses"]
    return ", ".join(f"{k} {s[k]}" for k in STATUS_ORDER if s.get(k))


_NO_RATE = {"mean": None, "ci_low": None, "ci_high": None}


def rate_names(rows: list[dict]) -> list[str]:
    """The trajectory rates (traces.RATES: format, reflection) some row has, in that order."""
    return [k for k in RATES if any(k in r.get("rates", {}) for r in rows)]


def table_text(rows: list[dict], comparison: dict | None) -> str:
    """Plain text for stderr (rich would wrap it; a terminal or a log file both read this)."""
    width = max(len(f"{r['group']}={r['label']}") for r in rows) + 2
    rates = rate_names(rows)
    out = [f"{'group':<{width}}{'n':>7} {'score %':>9}  95% CI            "
           + "".join(f"{name + ' %':>13}  95% CI            " for name in rates) + "statuses"]
    for r in rows:
        name = "overall" if r["group"] == "overall" and r["label"] == "all" else \
            f"{r['group']}={r['label']}"
        cells = "".join(f"{_pct(rate['mean']):>13}  {_ci(rate):<17} " for rate in
                        (r.get("rates", {}).get(k, _NO_RATE) for k in rates))
        out.append(f"{name:<{width}}{r['n']:>7} {_pct(r['mean']):>9}  {_ci(r):<17} "
                   f"{cells}{_status_text(r)}")
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


def _by_group(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    return groups


def meta_lines(meta: dict) -> list[tuple[str, str]]:
    """(name, text) of every setting the report states: inputs, scoring, model, fingerprint,
    prompt template, decoding settings, repeats, when it was made."""
    def text(v):
        if isinstance(v, dict):
            return ", ".join(f"{k} {x}" for k, x in v.items() if x is not None)
        return ", ".join(map(str, v)) if isinstance(v, list) else str(v)
    return [(k.replace("_", " "), text(v)) for k, v in meta.items()]


def worst_rows(worst: list[dict] | None) -> list[list[str]]:
    return [[w["id"], w["status"], _pct(w["score"]), w["extracted"], w["answer"], w["question"]]
            for w in worst or []]


WORST_HEAD = ["id", "status", "score %", "extracted", "gold", "question"]


def markdown(rows, comparison, meta, worst=None) -> str:
    out = ["# Evaluation report", ""] + [f"- {k}: {v}" for k, v in meta_lines(meta)] + [""]
    for group, items in _by_group(rows).items():
        rates = rate_names(items)
        out += [f"## {group}", "", "| label | n | score % | 95% CI | | "
                + "".join(f"{k} % | 95% CI | " for k in rates) + "statuses |",
                "|---|---:|---:|---|---|" + "---:|---|" * len(rates) + "---|"]
        for r in items:
            blocks = "█" * round(20 * (r["mean"] or 0))
            cells = "".join(f"{_pct(x['mean'])} | {_ci(x)} | " for x in
                            (r.get("rates", {}).get(k, _NO_RATE) for k in rates))
            out.append(f"| {r['label']} | {r['n']} | {_pct(r['mean'])} | {_ci(r)} | "
                       f"`{blocks:<20}` | {cells}{_status_text(r)} |")
        out.append("")
    if comparison:
        out += ["## Baseline", "", _comparison_text(comparison), ""]
    if worst:
        out += ["## Lowest-scoring items", "", "| " + " | ".join(WORST_HEAD) + " |",
                "|" + "---|" * len(WORST_HEAD)]
        out += ["| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in row) + " |"
                for row in worst_rows(worst)]
    return "\n".join(out)


REPORT_KINDS = {".json": "json", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def report_kind(path: str) -> str:
    """json, html or md from the extension; ValueError for any other (never a silent guess)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in REPORT_KINDS:
        raise ValueError(f"--report {path}: name it .md, .html or .json (the extension picks "
                         "the format)")
    return REPORT_KINDS[ext]


def write(path: str, rows: list[dict], comparison: dict | None, meta: dict,
          worst: list[dict] | None = None, curves: dict | None = None) -> None:
    """Write the report atomically (a temporary name, then renamed); OutputError if it cannot."""
    from thinkpipe.core.errors import OutputError

    meta = {**meta, "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    kind = report_kind(path)
    if kind == "json":
        text = json.dumps({"meta": meta, "rows": rows, "baseline": comparison, "worst": worst,
                           "curves": curves}, indent=2, default=str)
    elif kind == "html":
        from .report_html import page
        text = page(rows, comparison, meta, worst, curves)
    else:
        text = markdown(rows, comparison, meta, worst)
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
