"""--shard, --limit, --select."""
import pytest

from thinkpipe.core.records import apply, parse_fields, parse_shard, select, shard


def test_shards_partition_the_input():
    items = list(range(23))
    parts = [list(shard(items, k, 4)) for k in range(1, 5)]
    assert sorted(x for p in parts for x in p) == items
    assert parts[0] == [0, 4, 8, 12, 16, 20]


@pytest.mark.parametrize("spec", ["0/4", "5/4", "1/0", "a/b", "3", "1/2/3"])
def test_bad_shard_specs(spec):
    with pytest.raises(ValueError):
        parse_shard(spec)


def test_shard_then_limit_then_select():
    recs = [{"i": i, "x": -i} for i in range(10)]
    out = list(apply(recs, (2, 3), 2, ["x", "missing"]))
    assert out == [{"x": -1}, {"x": -4}]


def test_select_keeps_order_given():
    assert list(select([{"a": 1, "b": 2}], ["b", "a"])) == [{"b": 2, "a": 1}]
    assert parse_fields(" a, b ,") == ["a", "b"]
    with pytest.raises(ValueError):
        parse_fields(",")
