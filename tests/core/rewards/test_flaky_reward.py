"""Reward endpoints and judges against a server on 127.0.0.1 that misbehaves on purpose
(tests/flaky_server.py): a 500 then a 200 is retried into an answer; a refused connection, a
reply slower than the timeout, a body that is not JSON or one cut short exhaust the tries and
raise a ServiceError naming the URL; `thinkpipe eval --judge URL` then exits 69 with one line
naming the judge and writes no verdict for the item it could not judge. The jittered back-off
(core/backoff.py) stays within its bounds and never moves the `random` state."""
from __future__ import annotations

import json
import random
import time

import pytest

from thinkpipe.core.backoff import delay
from thinkpipe.core.errors import ServiceError
from thinkpipe.core.rewards import Judge, score_record
from thinkpipe.core.rewards.spec import http_reward

from ...flaky_server import chat_body, refused_url

FAST = {"timeout": 0.3, "backoff": 0.01}         # tries within 0.3 s, waits of 5-10 ms
UNREADABLE = {"id": "u", "question": "How many?", "question_type": "numerical", "answer": "3",
              "response": "three, I think"}      # rules read no number: the judge is asked


def _url(flaky, body, mode):
    if mode == "refused":
        return refused_url(), None
    srv = flaky(body, [mode], slow=1.0)
    return srv.url, srv


def test_the_back_off_doubles_within_equal_jitter_and_leaves_random_alone():
    state = random.getstate()
    for attempt in range(8):
        ceiling = min(8.0, 0.5 * 2 ** attempt)
        waits = [delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 150                    # jittered, not one fixed value
    assert random.getstate() == state
    assert delay(3, base=0.0) == 0.0 and delay(2, rng=random.Random(1)) == \
        delay(2, rng=random.Random(1))


def test_a_reward_endpoint_answers_after_500s(flaky):
    srv = flaky(b'{"reward": 0.75}', ["500", "500", "ok"])
    reward = http_reward(srv.url, tries=3, **FAST)
    assert reward({"id": "a", "response": "x"}) == {"http": 0.75}
    assert srv.modes == ["500", "500", "ok"] and srv.requests[0]["record"]["id"] == "a"


@pytest.mark.parametrize("mode", ["refused", "slow", "malformed", "cut"])
def test_a_reward_endpoint_that_keeps_failing_is_a_service_error(flaky, mode):
    url, srv = _url(flaky, b'{"reward": 1}', mode)
    t0 = time.monotonic()
    with pytest.raises(ServiceError) as e:
        http_reward(url, tries=3, **FAST)({"id": "a"})
    assert f"reward endpoint {url} failed 3 times" in str(e.value) and "\n" not in str(e.value)
    assert srv is None or srv.count == 3
    assert time.monotonic() - t0 < 3


def test_a_reward_endpoint_replying_nonsense_json_is_not_retried(flaky):
    srv = flaky(b'"yes"')
    with pytest.raises(ServiceError, match="replied 'yes'"):
        http_reward(srv.url, tries=3, **FAST)({})
    assert srv.count == 1


def test_a_judge_answers_after_500s_and_caches_the_verdict(flaky, tmp_path):
    srv = flaky(chat_body("1"), ["500", "500", "ok"])
    judge = Judge(srv.url, model="j", cache_dir=str(tmp_path), retries=3, **FAST)
    scored = score_record(UNREADABLE, judge)
    assert (scored.status, scored.score) == ("correct", 1.0) and srv.count == 3
    assert srv.requests[-1]["model"] == "j"
    again = Judge(srv.url, model="j", cache_dir=str(tmp_path), retries=3, **FAST)
    assert again.decide(UNREADABLE, UNREADABLE["response"]) == 1.0 and srv.count == 3


@pytest.mark.parametrize("mode", ["refused", "slow", "malformed", "cut"])
def test_a_judge_that_keeps_failing_is_a_service_error_not_a_verdict(flaky, tmp_path, mode):
    url, srv = _url(flaky, chat_body("1"), mode)
    judge = Judge(url, cache_dir=str(tmp_path), retries=3, **FAST)
    with pytest.raises(ServiceError) as e:
        score_record(UNREADABLE, judge)              # neither incorrect nor judge_failed
    message = str(e.value)
    assert message.startswith(f"judge {url}/chat/completions: ") and "after 3 tries" in message
    assert srv is None or srv.count == 3              # one temperature's tries, then it stops
    assert not (tmp_path / judge.cache_path).exists() or \
        (tmp_path / judge.cache_path).read_text() == ""


def test_eval_with_an_unreachable_judge_exits_69_naming_it(cli, flaky, tmp_path):
    srv = flaky(chat_body("1"), ["500"])
    readable = {"id": "r", "question": "How many?", "question_type": "numerical", "answer": "3",
                "response": "<answer>3</answer>"}
    data = (json.dumps(readable) + "\n" + json.dumps(UNREADABLE) + "\n").encode()
    r = cli(["thinkpipe", "eval", "--judge", srv.url, "--judge-cache", str(tmp_path), "-q"], data)
    lines = r.stderr.strip().splitlines()
    assert r.rc == 69 and len(lines) == 1 and srv.url in lines[0], r.stderr
    assert lines[0].startswith("eval: error: judge ") and srv.count == 3
    out = [json.loads(x) for x in r.out.splitlines()]
    assert [(o["id"], o["status"]) for o in out] in ([], [("r", "correct")])   # never u as wrong
