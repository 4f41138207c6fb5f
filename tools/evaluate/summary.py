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

from .stats import Moments, mcnemar, paired
from .traces import RATES


MAX_CACHED = 4096       # combinations of group values whose lines a Summary remembers
WORST = 20              # lowest-scoring items the report lists


@dataclass
class Line:
    group: str
    label: str
    scores: Moments = field(default_factory=Moments)   # count, sum, sum of squares: O(1) memory
    statuses: dict[str, int] = field(default_factory=lambda: {s: 0 for s in STATUSES})
    rates: dict[str, Moments] = field(default_factory=dict)     # format, reflection: 0/1

    def as_dict(self) -> dict:
        mean, lo, hi = self.scores.interval()
        clean = lambda v: None if isinstance(v, float) and math.isnan(v) else v  # noqa: E731
        out = {"group": self.group, "label": self.label, "n": sum(self.statuses.values()),
               "scored": len(self.scores), "mean": clean(mean), "ci_low": clean(lo),
               "ci_high": clean(hi), "statuses": dict(self.statuses)}
        if self.rates:
            out["rates"] = {name: dict(zip(("mean", "ci_low", "ci_high"),
                                           map(clean, values.interval())))
                            for name, values in self.rates.items()}
        return out


class Summary:
    """The lines of a run, built one scored record at a time (`add`), or from the partial
    summaries of consecutive slices of the records (`merge`, for --workers). A line holds its
    scores' exact moments (stats.Moments: constant memory, the same numbers however the slices
    fall); curve points are kept in input order; only --baseline keeps a score per item id."""

    def __init__(self, group_by: tuple[str, ...] = (), macro: str | None = None,
                 keep_ids: bool = False):
        self.group_by, self.macro = group_by, macro
        self._parts = [(name, name.split("+")) for name in group_by]
        self._fields = tuple(dict.fromkeys([p for _, parts in self._parts for p in parts] +
                                           ([macro] if macro else [])))
        self._cache: dict = {}          # the group fields' values -> the lines they count in
        self.lines: dict[tuple[str, str], Line] = {("overall", "all"): Line("overall", "all")}
        self.by_id: dict[str, float] | None = {} if keep_ids else None
        self.duplicate_ids = 0          # items whose id an earlier item had (the first is paired)
        self.models: set[str] = set()   # what produced the scored answers (`model` fields)
        self.fingerprints: list[str] = []
        self._worst: list = []          # a heap of the lowest-scoring items, for the report
        self._n = 0                     # items added (the worst list's tie-break: earlier wins)
        self._curves: dict = {}         # task -> {"points": {difficulty: [scores]}, "chance"}

    def _labels(self, value) -> list[str]:
        if value is None:
            return ["(none)"]
        if isinstance(value, list):
            return [str(v) for v in value] or ["(none)"]
        return [str(value)]

    def _pair_labels(self, parts: list[str], record: dict) -> list[str]:
        """Labels of a field, or of each combination of the parts of A+B."""
        if len(parts) == 1:
            return self._labels(record.get(parts[0]))
        labels = [""]
        for part in parts:
            labels = [f"{a} · {b}" if a else b for a in labels
                      for b in self._labels(record.get(part))]
        return labels

    def _keys(self, record: dict):
        """The lines a record counts in, each once, overall first."""
        keys = [("overall", "all")]
        for name, parts in self._parts:
            keys += [(name, label) for label in self._pair_labels(parts, record)]
        if self.macro:
            keys += [(self.macro, label) for label in self._labels(record.get(self.macro))]
        return dict.fromkeys(keys) if len(keys) > 1 else keys

    def _lines_of(self, record: dict) -> list[Line]:
        """The lines a record counts in, remembered per combination of its group fields' values
        when those are strings or absent (other values, such as lists, are worked out anew)."""
        fields = self._fields
        if len(fields) == 1:
            key = record.get(fields[0])
            plain = key is None or type(key) is str
        else:
            key = tuple(map(record.get, fields))
            plain = all(v is None or type(v) is str for v in key)
        lines = self._cache.get(key) if plain else None
        if lines is None:
            lines = [self._line(k) for k in self._keys(record)]
            if plain and len(self._cache) < MAX_CACHED:
                self._cache[key] = lines
        return lines

    def _line(self, key: tuple[str, str]) -> Line:
        line = self.lines.get(key)
        if line is None:
            line = self.lines[key] = Line(*key)
        return line

    def add(self, record: dict) -> None:
        status, score = record["status"], record["score"]
        value = None if score is None else float(score)
        rates = [(rate, float(record[rate])) for rate in RATES if isinstance(record.get(rate), float)] \
            if record.get("prompt_template") == "vilasr" else ()
        for line in self._lines_of(record):
            line.statuses[status] = line.statuses.get(status, 0) + 1
            if value is not None:
                line.scores.add(value)
            for rate, v in rates:
                line.rates.setdefault(rate, Moments()).add(v)
        if record.get("model"):
            self.models.add(str(record["model"]))
            fp = record.get("model_fingerprint")
            if fp and fp not in self.fingerprints:
                self.fingerprints.append(fp)
        self._n += 1
        if len(self._worst) < WORST or -(score if score is not None else -1.0) > self._worst[0][0]:
            self._keep_worst(record)
        if record.get("difficulty") is not None:
            self._curve(record)
        if self.by_id is not None and score is not None:
            key = item_key(record)
            if key in self.by_id:
                self.duplicate_ids += 1
            else:
                self.by_id[key] = float(score)

    def _curve(self, record: dict) -> None:
        """Score by numeric `difficulty`, per `task` (DeafTest's level and pitch steps)."""
        level = record.get("difficulty")
        if level is None or record["score"] is None or isinstance(level, bool) or \
                not isinstance(level, (int, float)):
            return
        curve = self._curves.setdefault(str(record.get("task") or "all"), {"points": {}})
        curve["points"].setdefault(level, []).append(float(record["score"]))
        if isinstance(record.get("options"), list) and record["options"]:
            curve["chance"] = 1 / len(record["options"])
        if record.get("difficulty_unit"):
            curve["unit"] = str(record["difficulty_unit"])

    @property
    def curves(self) -> dict:
        """task -> {"points": {difficulty: [sum of scores, n]}, "chance", "unit"}; each sum is
        added up in input order, as a running total would be."""
        out = {}
        for task, curve in self._curves.items():
            out[task] = {k: ({level: [_running_sum(xs), len(xs)] for level, xs in v.items()}
                             if k == "points" else v) for k, v in curve.items()}
        return out

    def _keep_worst(self, record: dict) -> None:
        """Keep the item just counted (the `_n`-th) among the WORST lowest-scoring ones. The
        heap's least entry came earlier, so an item displaces it only by a higher rank (earlier
        items win ties): add() asks only then, and the entry is built only for an item kept."""
        score = record["score"]
        self._offer_worst((-(score if score is not None else -1.0), -self._n, worst_entry(record)))

    def _offer_worst(self, entry: tuple) -> None:
        if len(self._worst) < WORST:
            heapq.heappush(self._worst, entry)
        elif entry[:2] > self._worst[0][:2]:
            heapq.heapreplace(self._worst, entry)

    @property
    def worst(self) -> list[dict]:
        """The lowest-scoring items (unscored ones first), lowest first."""
        return [e[2] for e in sorted(self._worst, key=lambda e: e[:2], reverse=True)]

    def merge(self, other: "Summary") -> None:
        """Add `other`, the summary of the records that follow this one's, as if each of its
        records had been added here in turn (`other` is used up)."""
        for key, line in other.lines.items():
            mine = self.lines.get(key)
            if mine is None:
                self.lines[key] = line
                continue
            for status, count in line.statuses.items():
                mine.statuses[status] = mine.statuses.get(status, 0) + count
            mine.scores.merge(line.scores)
            for rate, values in line.rates.items():
                mine.rates.setdefault(rate, Moments()).merge(values)
        self.models |= other.models
        self.fingerprints += [fp for fp in other.fingerprints if fp not in self.fingerprints]
        for score, rank, entry in other._worst:
            self._offer_worst((score, rank - self._n, entry))
        self._n += other._n
        self._merge_curves(other._curves)
        self._merge_ids(other)

    def _merge_curves(self, curves: dict) -> None:
        for task, curve in curves.items():
            mine = self._curves.setdefault(task, {"points": {}})
            for k, v in curve.items():
                if k != "points":
                    mine[k] = v
                    continue
                for level, xs in v.items():
                    mine["points"].setdefault(level, []).extend(xs)

    def _merge_ids(self, other: "Summary") -> None:
        self.duplicate_ids += other.duplicate_ids
        if self.by_id is None or other.by_id is None:
            return
        for key, score in other.by_id.items():
            if key in self.by_id:
                self.duplicate_ids += 1
            else:
                self.by_id[key] = score

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


def _running_sum(xs: list[float]) -> float:
    total = 0.0
    for x in xs:
        total += x
    return total


def worst_entry(record: dict) -> dict:
    """What the report shows of a low-scoring item."""
    return {"id": item_key(record), "status": record["status"], "score": record["score"],
            "extracted": str(record.get("extracted"))[:120],
            "answer": str(record.get("answer"))[:120],
            "question": str(record.get("question") or "")[:160]}


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
