"""Operations on record streams that every tool offers: --shard K/N, --limit N, --select a,b."""
from __future__ import annotations

from itertools import islice
from typing import Iterable, Iterator, Sequence


def parse_shard(spec: str | None) -> tuple[int, int] | None:
    """`K/N` (1 <= K <= N) -> (K, N); None stays None; ValueError with the reason otherwise."""
    if spec is None or spec == "":
        return None
    try:
        k, n = (int(x) for x in spec.split("/"))
    except ValueError:
        raise ValueError(f"--shard wants K/N, like 2/8, not {spec!r}") from None
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard {spec}: K counts from 1 to N (the first of 8 slices is 1/8)")
    return k, n


def shard(records: Iterable, k: int, n: int) -> Iterator:
    """The K-th of N interleaved slices: record i (from 0) goes to slice i mod N + 1.

    Interleaving needs no count up front (it streams) and gives every slice a fair mix of the
    input; the N slices together hold every record exactly once.
    """
    return islice(records, k - 1, None, n)


def limit(records: Iterable, n: int | None) -> Iterator:
    """At most `n` records (all of them when n is None)."""
    return iter(records) if n is None else islice(records, n)


def parse_fields(spec: str | None) -> list[str] | None:
    if not spec:
        return None
    fields = [f.strip() for f in spec.split(",") if f.strip()]
    if not fields:
        raise ValueError("--select wants field names separated by commas")
    return fields


_MISSING = object()


def _lookup(record: dict, field: str):
    """record[field], or for a dotted path `meta.x` (and no key of that name)
    record["meta"]["x"]."""
    if field in record:
        return record[field]
    value = record
    for part in field.split(".") if "." in field else ():
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value if "." in field else _MISSING


def lookup(record: dict, field: str, default=None):
    """record[field] or a dotted path into it (`rewards.thinking`), else `default`."""
    value = _lookup(record, field)
    return default if value is _MISSING else value


def balance(records: Iterable[dict], field: str, bins: int, per_bin: int, seed: int = 0,
            dropped: list | None = None) -> list[dict]:
    """At most `per_bin` records from each of `bins` equal bins of FIELD over [0, 1] (the last
    bin closed), drawn uniformly within a bin (reservoir sampling, seeded), in input order:
    SophiaVL-R1's uniform resampling of thinking-reward data over 10 score bins. Records whose
    FIELD is not a number in [0, 1] are left out; `dropped` (a list) gets their count."""
    import random
    rng, reservoirs, seen, skipped = random.Random(seed), [[] for _ in range(bins)], [0] * bins, 0
    for i, rec in enumerate(records):
        v = lookup(rec, field)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
            skipped += 1
            continue
        b = min(int(v * bins), bins - 1)
        seen[b] += 1
        if len(reservoirs[b]) < per_bin:
            reservoirs[b].append((i, rec))
        elif (j := rng.randrange(seen[b])) < per_bin:
            reservoirs[b][j] = (i, rec)
    if dropped is not None:
        dropped.append(skipped)
    return [rec for _, rec in sorted((x for r in reservoirs for x in r), key=lambda x: x[0])]


def _put(out: dict, record: dict, field: str, value) -> None:
    if field in record or "." not in field:
        out[field] = value
        return
    *parents, leaf = field.split(".")
    for part in parents:                      # `meta.x` keeps its nesting: {"meta": {"x": ...}}
        out = out.setdefault(part, {})
    out[leaf] = value


def select(records: Iterable[dict], fields: Sequence[str],
           found: set | None = None) -> Iterator[dict]:
    """Keep only `fields`, in the order given; `meta.x` picks x inside meta, keeping the nesting;
    a field a record lacks stays absent. `found` collects the fields some record had, so a
    caller can warn about the others (a typo selects nothing)."""
    for rec in records:
        out: dict = {}
        for f in fields:
            value = _lookup(rec, f)
            if value is not _MISSING:
                _put(out, rec, f, value)
                if found is not None:
                    found.add(f)
        yield out


def parse_assignments(specs: Sequence[str]) -> dict[str, object]:
    """`FIELD=VALUE` pairs (convert --set): VALUE is read as JSON when it parses (3, true,
    null, [1, 2]), else kept as the string it is (train, a path)."""
    import json
    out: dict[str, object] = {}
    for spec in specs:
        name, eq, text = spec.partition("=")
        if not eq or not name.strip():
            raise ValueError(f"--set {spec!r}: FIELD=VALUE, e.g. split=train")
        try:
            out[name.strip()] = json.loads(text)
        except ValueError:
            out[name.strip()] = text
    return out


def assign(records: Iterable[dict], values: dict[str, object]) -> Iterator[dict]:
    """Each record with these fields set (added, or replacing what it had)."""
    for rec in records:
        yield {**rec, **values}


def apply(records: Iterable[dict], shard_spec: tuple[int, int] | None = None,
          max_records: int | None = None, fields: Sequence[str] | None = None,
          found: set | None = None) -> Iterator[dict]:
    """Shard, then limit (the first N of this slice), then select."""
    if shard_spec is not None:
        records = shard(records, *shard_spec)
    records = limit(records, max_records)
    return select(records, fields, found) if fields else records
