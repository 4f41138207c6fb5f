"""Collecting scores into an overall line and per-group lines, and comparing with a baseline.

A group-by field may hold a list (an item with several capabilities counts in each), or a
string; MME-Reasoning's capability strings are split by the loader. `A+B` groups by the pair
(model+split: one line per model and split). Drawing trajectories add the rates of their
`format` and `reflection` fields (traces.py), each with its interval. Items with no score
(judge_failed) are counted in `statuses` but not in means.
"""
from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field

from thinkpipe.core.rewards import STATUSES

from .stats import interval, mcnemar, paired
from .traces import RATES


@dataclass
class Line:
    group: str
    label: str
    scores: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STATUSES})
    rates: dict[str, list[float]] = field(default_factory=dict)     # format, reflection: 0/1

    def as_dict(self) -> dict:
        mean, lo, hi = interval(self.scores)
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        out = {"group": self.group, "label": self.label, "n": sum(self.statuses.values()),
               "scored": len(self.scores), "mean": clean(mean), "ci_low": clean(lo),
               "ci_high": clean(hi), "statuses": dict(self.statuses)}
        if self.rates:
            out["rates"] = {name: dict(zip(("mean", "ci_low", "ci_high"),
                                           map(clean, interval(values))))
                            for name, values in self.rates.items()}
        return out


class Summary:
    def __init__(self, group_by: tuple[str, ...] = (), macro: str | None = None,
                 keep_ids: bool = False):
        self.group_by, self.macro = group_by, macro
        self.lines: dict[tuple[str, str], Line] = {("overall", "all"): Line("overall", "all")}
        self.by_id: dict[str, float] | None = {} if keep_ids else None
        self.duplicate_ids = 0          # items whose id an earlier item had (the first is paired)
        self.models: set[str] = set()   # what produced the scored answers (`model` fields)
        self.fingerprints: list[str] = []
        self._worst: list = []          # a heap of the lowest-scoring items, for the report
        self.curves: dict = {}          # task -> {"points": {difficulty: [sum, n]}, "chance"}

    def _labels(self, value) -> list[str]:
        if value is None:
            return ["(none)"]
        if isinstance(value, list):
            return [str(v) for v in value] or ["(none)"]
        return [str(value)]

    def _pair_labels(self, name: str, record: dict) -> list[str]:
        """Labels of `name`, or of each combination for A+B."""
        labels = [""]
        for part in name.split("+"):
            labels = [f"{a} · {b}" if a else b for a in labels
                      for b in self._labels(record.get(part))]
        return labels

    def add(self, record: dict) -> None:
        keys = [("overall", "all")]
        for name in self.group_by:
            keys += [(name, label) for label in self._pair_labels(name, record)]
        if self.macro:
            keys += [(self.macro, label) for label in self._labels(record.get(self.macro))]
        for key in dict.fromkeys(keys):
            line = self.lines.setdefault(key, Line(*key))
            line.statuses[record["status"]] = line.statuses.get(record["status"], 0) + 1
            if record["score"] is not None:
                line.scores.append(float(record["score"]))
            for rate in RATES:
                if record.get("prompt_template") == "vilasr" and isinstance(record.get(rate), float):
                    line.rates.setdefault(rate, []).append(float(record[rate]))
        if record.get("model"):
            self.models.add(str(record["model"]))
            fp = record.get("model_fingerprint")
            if fp and fp not in self.fingerprints:
                self.fingerprints.append(fp)
        self._keep_worst(record)
        self._curve(record)
        if self.by_id is not None and record["score"] is not None:
            key = item_key(record)
            if key in self.by_id:
                self.duplicate_ids += 1
            else:
                self.by_id[key] = float(record["score"])

    def _curve(self, record: dict) -> None:
        """Score by numeric `difficulty`, per `task` (DeafTest's level and pitch steps)."""
        level = record.get("difficulty")
        if record["score"] is None or isinstance(level, bool) or not isinstance(level, (int, float)):
            return
        curve = self.curves.setdefault(str(record.get("task") or "all"), {"points": {}})
        point = curve["points"].setdefault(level, [0.0, 0])
        point[0] += float(record["score"])
        point[1] += 1
        if isinstance(record.get("options"), list) and record["options"]:
            curve["chance"] = 1 / len(record["options"])
        if record.get("difficulty_unit"):
            curve["unit"] = str(record["difficulty_unit"])

    def _keep_worst(self, record: dict, keep: int = 20) -> None:
        score = record["score"]
        entry = (-(score if score is not None else -1.0), self._count(), {
            "id": item_key(record), "status": record["status"], "score": score,
            "extracted": str(record.get("extracted"))[:120], "answer": str(record.get("answer"))[:120],
            "question": str(record.get("question") or "")[:160]})
        if len(self._worst) < keep:
            heapq.heappush(self._worst, entry)
        elif entry[:2] > self._worst[0][:2]:
            heapq.heapreplace(self._worst, entry)

    def _count(self) -> int:
        self._n = getattr(self, "_n", 0) + 1
        return -self._n                 # earlier items win ties

    @property
    def worst(self) -> list[dict]:
        """The lowest-scoring items (unscored ones first), lowest first."""
        return [e[2] for e in sorted(self._worst, key=lambda e: e[:2], reverse=True)]

    def rows(self) -> list[dict]:
        rows = [line.as_dict() for line in self.lines.values()]
        if self.macro:
            means = [r["mean"] for r in rows if r["group"] == self.macro and r["mean"] is not None]
            if means:
                rows.insert(1, {"group": "overall", "label": f"macro over {self.macro}",
                                "n": rows[0]["n"], "scored": len(means),
                                "mean": sum(means) / len(means), "ci_low": None, "ci_high": None,
                                "statuses": rows[0]["statuses"]})
        return rows


def item_key(record: dict) -> str:
    """How runs are paired: the id, else a hash of question and gold answer."""
    if record.get("id") is not None:
        return str(record["id"])
    import hashlib
    import json
    payload = json.dumps([record.get("question"), record.get("answer")], default=str)
    return "q:" + hashlib.sha1(payload.encode()).hexdigest()[:16]


def compare(ours: dict[str, float], theirs: dict[str, float], duplicates_here: int = 0,
            duplicates_baseline: int = 0) -> dict:
    """Paired comparison on the ids both runs scored (an id seen twice pairs its first item;
    the repeats are counted, never silently merged)."""
    common = sorted(ours.keys() & theirs.keys())
    a, b = [ours[i] for i in common], [theirs[i] for i in common]
    mean, lo, hi = paired(a, b)
    out = {"paired_items": len(common), "only_here": len(ours.keys() - theirs.keys()),
           "only_baseline": len(theirs.keys() - ours.keys()),
           "duplicate_ids_here": duplicates_here, "duplicate_ids_baseline": duplicates_baseline,
           "difference": mean, "ci_low": lo, "ci_high": hi}
    if all(x in (0.0, 1.0) for x in a + b):
        wins = sum(1 for x, y in zip(a, b) if x > y)
        losses = sum(1 for x, y in zip(a, b) if x < y)
        out.update({"wins": wins, "losses": losses, "mcnemar_p": mcnemar(wins, losses)})
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def group_counts(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r["group"]] += 1
    return dict(out)
