"""Memory of long Arrow streams stays flat: the allocator choice, and Parquet reading that does not
hold every row group it has read."""
import io
import random
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from thinkpipe.core.records import parquet as pqmod


def pool_after_flat_memory(env: dict) -> str:
    code = ("import pyarrow as pa; from thinkpipe.core.records.arrow_memory import flat_memory; "
            "flat_memory(); print(pa.default_memory_pool().backend_name)")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=True).stdout.strip()


def test_jemalloc_unless_the_user_chose_an_allocator():
    import os
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    try:
        pa.jemalloc_memory_pool()
        expected = "jemalloc"
    except NotImplementedError:
        expected = pa.default_memory_pool().backend_name
    assert pool_after_flat_memory(env) == expected
    assert pool_after_flat_memory({**env, "ARROW_DEFAULT_MEMORY_POOL": "system"}) == "system"


def test_reading_many_row_groups_holds_one_at_a_time(tmp_path):
    """A file read by path (Arrow's own reads) is where pre-buffering kept every row group."""
    buf = io.BytesIO()
    rng = random.Random(0)
    table = pa.table({"s": [rng.randbytes(50).hex() for _ in range(10_000)]})
    with pq.ParquetWriter(buf, table.schema, compression="none") as w:
        for _ in range(40):                      # 40 row groups of 1 MB
            w.write_table(table)
    (tmp_path / "t.parquet").write_bytes(buf.getvalue())
    for source in (str(tmp_path / "t.parquet"), io.BytesIO(buf.getvalue())):
        start, peak = pa.total_allocated_bytes(), 0
        for i, _ in enumerate(pqmod.iter_parquet(source, "t", [0], lines=True)):
            if i % 10_000 == 0:
                peak = max(peak, pa.total_allocated_bytes() - start)
        assert peak < 12 << 20                   # a few row groups, not forty


def test_a_field_that_appears_late_is_absent_before_not_null():
    buf = io.BytesIO()
    w = pqmod.ParquetWriter(buf)
    w.write_many([{"a": 1}] * pqmod.BATCH_ROWS + [{"a": 2, "late": 3}] * pqmod.BATCH_ROWS)
    w.close()
    back = list(pqmod.iter_parquet(io.BytesIO(buf.getvalue()), "t", [0]))
    assert back[0] == {"a": 1} and back[-1] == {"a": 2, "late": 3}
