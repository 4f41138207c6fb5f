"""JSONL decoding and encoding: exact values, clear errors, nothing silently dropped."""
import io

import pytest

from thinkpipe.core.errors import RecordError
from thinkpipe.core.records.jsonl import dumps, iter_jsonl, loads
from thinkpipe.core.records.policy import ErrorPolicy


def read(data: bytes, policy: str = "fail"):
    pos = [0]
    return list(iter_jsonl(io.BytesIO(data), "f.jsonl", ErrorPolicy.parse(policy), pos))


def test_blank_lines_and_crlf_are_fine():
    assert read(b'{"a": 1}\r\n\n   \n{"b": [true, null]}') == [{"a": 1}, {"b": [True, None]}]


def test_integers_beyond_64_bits_stay_exact():
    big = 2**70 + 1
    assert read(b'{"n": %d, "m": -%d}\n' % (big, big)) == [{"n": big, "m": -big}]
    assert loads(b"[%d]" % big) == [big]
    assert dumps({"n": big}) == b'{"n":%d}\n' % big


def test_long_digit_runs_inside_strings_do_not_change_values():
    assert read(b'{"s": "1234567890123456789012345", "x": 1.5}\n') == \
        [{"s": "1234567890123456789012345", "x": 1.5}]


def test_bom_on_first_line_is_accepted():
    assert read(b'\xef\xbb\xbf{"a": 1}\n') == [{"a": 1}]


@pytest.mark.parametrize("line, message", [
    (b'{"a": 1,}', "invalid JSON"),
    (b'[1, 2]', "expected a JSON object, got list"),
    (b'"text"', "expected a JSON object, got str"),
    (b'{"a": NaN}', "invalid JSON"),
    (b'{"a": "\xff\xfe"}', "not valid UTF-8"),
])
def test_bad_lines_name_file_and_line(line, message):
    with pytest.raises(RecordError) as e:
        read(b'{"ok": 1}\n' + line + b"\n")
    assert e.value.where == "f.jsonl:2"
    assert message in e.value.message


def test_skip_counts_and_quarantine_keeps_raw_bytes(tmp_path):
    data = b'{"a": 1}\n{broken\n{"a": 2}\n[3]\n'
    policy = ErrorPolicy.parse("skip")
    assert list(iter_jsonl(io.BytesIO(data), "f", policy, [0])) == [{"a": 1}, {"a": 2}]
    assert policy.skipped == 2
    q = tmp_path / "bad.jsonl"
    policy = ErrorPolicy.parse(f"quarantine:{q}")
    list(iter_jsonl(io.BytesIO(data), "f", policy, [0]))
    policy.close()
    assert q.read_bytes() == b"{broken\n[3]\n"


def test_dumps_writes_bytes_as_base64_and_keeps_unicode():
    assert dumps({"b": b"\x00\x01", "t": "naïve ✓"}) == '{"b":"AAE=","t":"naïve ✓"}\n'.encode()


def test_policy_spec_is_validated():
    with pytest.raises(ValueError):
        ErrorPolicy.parse("quarantine:")
    with pytest.raises(ValueError):
        ErrorPolicy.parse("ignore")
