#!/usr/bin/env bash
# make demo: a short pipeline on built-in defaults. Grows as tools land.
# Everything it writes goes to out/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=out/demo
rm -rf "$out" && mkdir -p "$out"

echo "== thinkpipe env"
thinkpipe env

echo "== convert: JSONL -> Parquet -> JSONL keeps every field and value"
thinkpipe convert pipelines/data/demo.jsonl -o "$out/demo.parquet"
thinkpipe convert "$out/demo.parquet" -o "$out/roundtrip.jsonl"
python3 - pipelines/data/demo.jsonl "$out/roundtrip.jsonl" <<'PY'
import json, sys
a, b = ([json.loads(line) for line in open(path)] for path in sys.argv[1:3])
if a != b:
    sys.exit("round trip changed the records")
print(f"round trip: {len(a)} records, every field and value identical")
PY

echo "== convert: media out to files, then back inline"
thinkpipe convert "$out/demo.parquet" --media-dir "$out/media" -o "$out/external.jsonl"
ls "$out/media"
thinkpipe convert "$out/external.jsonl" --select id,images --limit 4 -q | tail -1

echo "== convert: two shards cover the input exactly once"
for k in 1 2; do thinkpipe convert pipelines/data/demo.jsonl --shard "$k/2" -q > "$out/shard-$k.jsonl"; done
cat "$out"/shard-*.jsonl | wc -l | xargs echo "records in shards:"

echo "== summary"
python3 - "$out/demo.parquet" <<'PY' || true
import sys
try:
    import pyarrow.parquet as pq
except ImportError:
    sys.exit(0)
schema = pq.read_schema(sys.argv[1])
print("parquet columns:", ", ".join(f"{f.name}:{f.type}" for f in schema))
PY
echo "demo done: outputs in $out/"
