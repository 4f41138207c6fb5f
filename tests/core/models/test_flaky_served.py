"""A served model (core/models/served.py ChatEndpoint) against a server on 127.0.0.1 that
misbehaves on purpose (tests/flaky_server.py): 500s then a 200 are retried into the reply; a
refused connection, a reply slower than the timeout, a body that is not JSON or one cut short
exhaust the tries and raise a ServiceError naming the URL; `thinkpipe eval --model URL` then
exits 69 with one line naming the endpoint and writes only the items it generated and scored."""
from __future__ import annotations

import json
import time

import pytest

from thinkpipe.core.errors import ServiceError
from thinkpipe.core.models import Sampling
from thinkpipe.core.models.served import ChatEndpoint

from ...flaky_server import chat_body, fail_after, refused_url

SAMPLING = Sampling(temperature=0.0, max_new_tokens=8)
MESSAGES = [{"role": "user", "content": "Say A."}]
ITEMS = [{"id": f"q{i}", "question": "Which?", "options": ["x", "y"], "answer": "A"}
         for i in range(3)]
DATA = "".join(json.dumps(r) + "\n" for r in ITEMS).encode()


def test_a_served_model_answers_after_500s(flaky):
    srv = flaky(chat_body("<answer>A</answer>"), ["500", "500", "ok"])
    endpoint = ChatEndpoint(srv.url, "m", timeout=0.3, retries=3, backoff=0.01)
    reply = endpoint.complete(MESSAGES, SAMPLING, seed=5)
    assert reply.text == "<answer>A</answer>" and reply.finish_reason == "stop"
    assert srv.modes == ["500", "500", "ok"] and srv.requests[-1]["seed"] == 5


@pytest.mark.parametrize("mode", ["refused", "slow", "malformed", "cut"])
def test_a_served_model_that_keeps_failing_is_a_service_error(flaky, mode):
    srv = None if mode == "refused" else flaky(chat_body("A"), [mode], slow=1.0)
    url = refused_url() if srv is None else srv.url
    endpoint = ChatEndpoint(url, timeout=0.3, retries=3, backoff=0.01)
    t0 = time.monotonic()
    with pytest.raises(ServiceError) as e:
        endpoint.complete(MESSAGES, SAMPLING)
    message = str(e.value)
    assert message.startswith(f"{url}/chat/completions: ") and message.endswith("after 3 tries")
    assert srv is None or srv.count == 3
    if mode in ("malformed", "cut"):
        assert ("not a chat completion" if mode == "malformed" else "IncompleteRead") in message
    assert time.monotonic() - t0 < 3


def test_eval_stops_with_69_when_the_model_dies_mid_run(cli, flaky):
    srv = flaky(chat_body("<answer>A</answer>"), fail_after(1, "cut"))
    r = cli(["thinkpipe", "eval", "--model", srv.url, "--retries", "2", "--timeout", "2",
             "--batch-size", "1", "--no-reuse", "-q"], DATA)
    lines = r.stderr.strip().splitlines()
    assert r.rc == 69 and len(lines) == 1, r.stderr
    assert lines[0].startswith(f"eval: error: {srv.url}/chat/completions: ") and srv.count == 3
    out = [json.loads(x) for x in r.out.splitlines()]
    assert [(o["id"], o["status"]) for o in out] == [("q0", "correct")]   # q1, q2: not written
