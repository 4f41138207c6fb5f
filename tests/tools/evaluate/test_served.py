"""`thinkpipe eval --model URL` against OpenAI-compatible servers started here on 127.0.0.1: one
answering from a real tiny model, and scripted ones that stall, fail or reply with bad JSON;
the prediction cache (reuse, resume) and --repeats with either kind of model."""
from __future__ import annotations

import json
import threading
import time

import pytest

from ...chat_server import completion

ITEMS = [{"id": f"q{i}", "question": f"Which letter comes {w}?", "options": ["x", "y"],
          "answer": "A"} for i, w in enumerate(["first", "second", "third"])]
DATA = "".join(json.dumps(r) + "\n" for r in ITEMS).encode()


def _lines(r):
    return [json.loads(x) for x in r.out.splitlines()]


@pytest.mark.slow
def test_a_served_tiny_model_answers_as_the_same_model_run_locally(cli, server, tiny_models):
    from thinkpipe.core.models import Sampling, generate, load
    bundle, lock = load(tiny_models["llama"]), threading.Lock()

    def reply(body):
        with lock:
            out = generate(bundle, [body["messages"]],
                           Sampling(max_new_tokens=body["max_tokens"], temperature=0.0))[0]
        return 200, completion(out.text, out.finish_reason)
    url = server(reply).url
    common = ["--max-new-tokens", "12", "--no-reuse", "-q"]
    served = cli(["thinkpipe", "eval", "--model", url, "--model-name", "tiny", "--concurrency",
                  "3", *common], DATA)
    local = cli(["thinkpipe", "eval", "--model", tiny_models["llama"], *common], DATA)
    assert served.rc == 0 and local.rc == 0, served.stderr + local.stderr
    s, loc = _lines(served), _lines(local)
    assert [o["id"] for o in s] == ["q0", "q1", "q2"]               # input order
    assert [o["response"] for o in s] == [o["response"] for o in loc]
    assert all(o["model"] == f"{url}#tiny" and o["model_fingerprint"].startswith("served-")
               and o["generation"]["max_new_tokens"] == 12 and o["prompt_template"] == "plain"
               for o in s)


def test_images_go_as_data_urls_and_audio_as_input_audio(cli, server, red_png, tmp_path):
    srv = server(lambda body: (200, completion("<answer>A</answer>")))
    wav = tmp_path / "a.wav"
    import wave
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\0\0" * 160)
    rec = {"id": "m", "question": "What is in [img1] and [audio1]?", "images": [red_png],
           "audios": [str(wav)], "options": ["x", "y"], "answer": "A"}
    r = cli(["thinkpipe", "eval", "--model", srv.url, "-q"], (json.dumps(rec) + "\n").encode())
    assert r.rc == 0 and _lines(r)[0]["status"] == "correct", r.stderr
    parts = srv.requests[0]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "text", "input_audio", "text"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,iVBOR")
    assert parts[3]["input_audio"]["format"] == "wav"


@pytest.mark.parametrize("kind", ["timeout", "bad_json", "refused"])
def test_an_unusable_endpoint_is_exit_69_after_the_retries(cli, server, kind):
    def reply(body):
        if kind == "timeout":
            time.sleep(3)
        return 200, b"<html>not json</html>" if kind == "bad_json" else completion("A")
    url = "http://127.0.0.1:9/v1" if kind == "refused" else server(reply).url
    t0 = time.monotonic()
    r = cli(["thinkpipe", "eval", "--model", url, "--timeout", "1", "--retries", "2"], DATA)
    assert r.rc == 69 and "after 2 tries" in r.stderr and r.out == b"", r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3 and time.monotonic() - t0 < 30
    if kind == "bad_json":
        assert "not a chat completion" in r.stderr


def test_a_server_error_is_retried_with_back_off(cli, server):
    calls = []

    def reply(body):
        calls.append(time.monotonic())
        return (503, b"{}") if len(calls) == 1 else (200, completion("<answer>A</answer>"))
    srv = server(reply)
    r = cli(["thinkpipe", "eval", "--model", srv.url, "--no-reuse", "-q"], DATA[:DATA.index(b"\n") + 1])
    assert r.rc == 0 and _lines(r)[0]["status"] == "correct" and len(calls) == 2
    assert calls[1] - calls[0] >= 0.24          # the first back-off: 0.25-0.5 s (core/backoff.py)


def test_the_cache_answers_a_rerun_and_resumes_a_failed_one(cli, server, tmp_path):
    state = {"fail_after": 1}

    def reply(body):
        if len(srv.requests) > state["fail_after"]:
            return 500, b"{}"
        return 200, completion("<answer>B</answer>")
    srv = server(reply)
    cmd = ["thinkpipe", "eval", "--model", srv.url, "--cache", str(tmp_path / "c"), "--retries",
           "1", "--batch-size", "1", "-q"]
    r = cli(cmd, DATA)
    assert r.rc == 69 and len(_lines(r)) == 1           # the first answered, then the server died
    state["fail_after"] = 99
    before = len(srv.requests)
    r = cli(cmd, DATA)
    assert r.rc == 0 and len(_lines(r)) == 3
    assert len(srv.requests) - before == 2              # resumed: only the two not yet answered
    before = len(srv.requests)
    again = cli(cmd, DATA)
    assert again.out == r.out and len(srv.requests) == before      # rescoring: no request
    cli(cmd + ["--no-reuse"], DATA)
    assert len(srv.requests) == before + 3


def test_repeats_give_one_record_each_and_a_mean_with_its_std(cli, server, tmp_path):
    def reply(body):
        return 200, completion("<answer>A</answer>" if body["seed"] % 2 else "<answer>B</answer>")
    srv = server(reply)
    report = tmp_path / "r.json"
    r = cli(["thinkpipe", "eval", "--model", srv.url, "--repeats", "3", "--temperature", "0.7",
             "--report", str(report), "-q"], DATA)
    out = _lines(r)
    assert r.rc == 0 and len(out) == 9 and sorted({o["repeat"] for o in out}) == [0, 1, 2]
    assert len({o["id"] for o in out}) == 3 and len({s["seed"] for s in srv.requests}) == 9
    rows = json.loads(report.read_text())["rows"]
    per_repeat = [row["mean"] for row in rows if row["group"] == "repeat"]
    summary = next(row for row in rows if "repeats" in row.get("label", ""))
    assert len(per_repeat) == 3 and summary["mean"] == pytest.approx(sum(per_repeat) / 3)
    import statistics
    assert summary["std"] == pytest.approx(statistics.stdev(per_repeat))


def _listen(body, tmp_path) -> str:
    """A served "model" that hears: it measures the WAVs it was sent and answers from them."""
    import base64

    from thinkpipe.tools.evaluate import deaftest
    parts = body["messages"][-1]["content"]
    heard = []
    for i, p in enumerate(x for x in parts if x["type"] == "input_audio"):
        path = tmp_path / f"heard-{threading.get_ident()}-{i}.wav"
        path.write_bytes(base64.b64decode(p["input_audio"]["data"]))
        heard.append((deaftest.measure(str(path)), deaftest.count_bursts(str(path))))
    text = " ".join(p.get("text", "") for p in parts if p["type"] == "text")
    if "louder" in text:
        return "A" if heard[0][0]["level_dbfs"] > heard[1][0]["level_dbfs"] else "B"
    if "pitch" in text:
        return "A" if heard[0][0]["freq_hz"] > heard[1][0]["freq_hz"] else "B"
    options = [line[3:] for line in text.splitlines() if line[1:3] == ". "]
    return "ABCD"[options.index(str(heard[0][1]))]


def test_deaftest_a_listener_scores_100_and_a_deaf_model_scores_chance(cli, server, tmp_path):
    made = cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--make", "24", "--media-dir",
                str(tmp_path / "wav"), "--seed", "3"])
    assert made.rc == 0 and len(made.out.splitlines()) == 24, made.stderr
    hearing = server(lambda body: (200, completion(f"<answer>{_listen(body, tmp_path)}</answer>")))
    deaf = server(lambda body: (200, completion("<answer>A</answer>")))
    scores = {}
    for name, srv in (("hearing", hearing), ("deaf", deaf)):
        report = tmp_path / f"{name}.json"
        r = cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--model", srv.url, "--no-reuse",
                 "--report", str(report), "-q"], made.out)
        assert r.rc == 0, r.stderr
        doc = json.loads(report.read_text())
        scores[name] = {"overall" if row["group"] == "overall" else f"{row['group']}={row['label']}":
                        row["mean"] for row in doc["rows"]}
        assert set(doc["curves"]) == {"loudness", "pitch", "count"}
    assert scores["hearing"]["overall"] == 1.0
    assert scores["deaf"]["task=loudness"] == 0.5 and scores["deaf"]["task=pitch"] == 0.5
    assert scores["deaf"]["overall"] < 0.6


def test_shards_merge_into_one_report_by_rescoring_their_outputs(cli, server, tmp_path):
    srv = server(lambda body: (200, completion("<answer>A</answer>" if "first" in json.dumps(body)
                                               else "<answer>B</answer>")))
    outs = [cli(["thinkpipe", "eval", "--model", srv.url, "--shard", f"{k}/2", "--no-reuse", "-q"],
                DATA).out for k in (1, 2)]
    whole = cli(["thinkpipe", "eval", "--model", srv.url, "--no-reuse", "-q", "--report",
                 str(tmp_path / "whole.json")], DATA)
    before = len(srv.requests)
    merged = cli(["thinkpipe", "eval", "-q", "--report", str(tmp_path / "merged.json")], b"".join(outs))
    assert merged.rc == 0 and len(srv.requests) == before        # scored, not regenerated
    rows = lambda name: [(r["group"], r["n"], r["mean"]) for r in  # noqa: E731
                         json.loads((tmp_path / name).read_text())["rows"]]
    assert rows("merged.json") == rows("whole.json") and rows("whole.json")[0][1:] == (3, 1 / 3)
    assert sorted(o["id"] for o in _lines(merged)) == sorted(o["id"] for o in _lines(whole))
