"""Thinking reward (SophiaVL-R1): reply parsing, the grader's prompt, and the three backends."""
import logging
import socket

import pytest

from ...chat_server import completion, scripted

from thinkpipe.core.errors import UsageError
from thinkpipe.core.rewards.thinking import RUBRIC, load_thinking_scorer, parse_score, thinking_prompt

RECORD = {"question": "How many apples?", "options": ["two", "three"], "answer": "B"}
RESPONSE = "<think>I count three apples.</think><answer>B</answer>"


@pytest.mark.parametrize("reply, score", [
    ("<answer>0.8</answer>", 0.8),
    ("\\boxed{0.6}", 0.6),
    ("\\box{1}", 1.0),
    ("<answer>0.3</answer> \\boxed{0.9}", 0.9),            # boxed comes first in the cascade
    ("<answer>your_score</answer><answer>0.4</answer>", 0.4),   # the last tag with a number
    ("Score: 0.7", 0.7),
    ("0.85", 0.85),
    ("  .5 ", 0.5),
    ("70%", 0.7),                                          # a percentage is a fraction
    ("Score: 7/10", 0.7),                                  # so is x/y
    ("<answer>1.5</answer>", 1.0),                         # a marked score is clipped
    ("<answer>-0.2</answer>", 0.0),
    ("1.5", None),                                         # a bare number outside [0, 1] is not
    ("-0.3", None),
    ("Score: 7", None),
    ("qwen2 gives 0.3", 0.3),                              # digits inside a word are no number
    ("<think>step 1 is fine</think>0.4", 0.4),             # the judge's own reasoning is skipped
    ("<think>steps 2 and 3</think> 7", 1.0),               # after </think>: clipped
    ("no score here", None),
    ("", None),
    ("1/0", None),
])
def test_parse_score(reply, score):
    assert parse_score(reply) == (None if score is None else pytest.approx(score))


def test_the_prompt_holds_rubric_question_response_and_first_image(red_png):
    [turn] = thinking_prompt({**RECORD, "images": [red_png, "other.png"]}, RESPONSE)
    image, text = turn["content"]
    assert turn["role"] == "user" and image == {"type": "image", "image": red_png}
    assert text["text"].startswith(RUBRIC)
    assert "Question: How many apples?\nA. two\nB. three" in text["text"]
    assert f"Reasoning process: {RESPONSE}" in text["text"]    # the whole response, <answer> too
    assert text["text"].endswith("<answer>your_score</answer>")
    assert thinking_prompt(RECORD, RESPONSE)[0]["content"].startswith(RUBRIC)  # no image: text
    messages = [{"role": "system", "content": "Think first."},
                {"role": "user", "content": [{"type": "image", "image": red_png},
                                             {"type": "text", "text": "What colour?"}]},
                {"role": "assistant", "content": "red"}]
    [turn] = thinking_prompt({"messages": messages}, "red")
    assert turn["content"][0]["image"] == red_png
    assert "Question: What colour?\n" in turn["content"][1]["text"]
    assert "Think first" not in turn["content"][1]["text"]


def test_endpoint_scores_with_the_image_at_temperature_0(red_png, server):
    srv = server(scripted([(200, completion("<answer>0.8</answer>"), 0)]))
    url, seen = srv.url, srv.requests
    scorer = load_thinking_scorer(url, model_name="trm", timeout=5, retries=1)
    record = {**RECORD, "images": [red_png]}
    assert scorer.score([(record, RESPONSE), (RECORD, RESPONSE)]) == [0.8, 0.8]
    assert scorer.stats()["calls"] == 2 and scorer.stats()["failures"] == 0
    with_image = next(r for r in seen if isinstance(r["messages"][0]["content"], list))
    part = with_image["messages"][0]["content"][0]
    assert part["image_url"]["url"].startswith("data:image/png;base64,")
    assert with_image["temperature"] == 0 and with_image["model"] == "trm"
    assert with_image["max_tokens"] == 16 and "seed" in with_image


@pytest.mark.parametrize("replies, retries", [
    ([(200, b"this is not json", 0)], 1),
    ([(200, completion("a fine chain of thought"), 0)], 1),    # unparseable reply
    ([(200, completion("<answer>0.8</answer>"), 2.0)], 1),      # slower than the timeout
    ([(503, b"", 0)], 2),
])
def test_endpoint_failures_score_0_and_are_counted(replies, retries, caplog, server):
    url = server(scripted(replies)).url
    with caplog.at_level(logging.WARNING, "thinkpipe.grpo"):
        scorer = load_thinking_scorer(url, timeout=1, retries=retries)
        assert scorer.score([(RECORD, RESPONSE)]) == [0.0]
        assert scorer.score([(RECORD, RESPONSE)]) == [0.0]
    assert scorer.stats()["failures"] == 2 and scorer.stats()["calls"] == 2
    assert len(caplog.records) == 1 and "training goes on" in caplog.text   # warned once


def test_endpoint_retries_a_503(caplog, server):
    srv = server(scripted([(503, b"", 0), (200, completion("<answer>0.3</answer>"), 0)]))
    url, seen = srv.url, srv.requests
    scorer = load_thinking_scorer(url, timeout=5, retries=2)
    assert scorer.score([(RECORD, RESPONSE)]) == [0.3]
    assert len(seen) == 2 and scorer.stats()["failures"] == 0 and not caplog.records


def test_an_unreachable_endpoint_does_not_stop_training(caplog):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]                    # closed again: nothing listens there
    scorer = load_thinking_scorer(f"http://127.0.0.1:{port}/v1", timeout=1, retries=1)
    with caplog.at_level(logging.WARNING, "thinkpipe.grpo"):
        assert scorer.score([(RECORD, RESPONSE)] * 3) == [0.0] * 3
    assert scorer.delta()["failures"] == 3 and len(caplog.records) == 1
    assert scorer.delta() == {"calls": 0, "failures": 0, "seconds": 0.0}


def test_a_function_spec(tmp_path, monkeypatch):
    (tmp_path / "trm_stub_plugin.py").write_text(
        "def score(record, response):\n"
        "    return {'good': 0.9, 'high': 3, 'none': None, 'text': '<answer>0.2</answer>',\n"
        "            'nan': float('nan')}[response]\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    scorer = load_thinking_scorer("trm_stub_plugin:score")
    responses = ["good", "high", "none", "text", "nan", "boom"]   # "boom": KeyError in the plugin
    assert scorer.score([(RECORD, r) for r in responses]) == [0.9, 1.0, 0.0, 0.2, 0.0, 0.0]
    assert scorer.stats()["failures"] == 3 and scorer.stats()["calls"] == 6
    scorer.reset_stats()
    assert scorer.stats() == {"calls": 0, "failures": 0, "seconds": 0.0}


@pytest.mark.parametrize("spec", ["no/such/folder", "nonsense", "ftp://host/v1"])
def test_an_unknown_spec_is_a_usage_error(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="--thinking-reward"):
        load_thinking_scorer(spec)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["llama", "qwen2-vl"])
def test_a_local_model(arch, tiny_models, red_png):
    scorer = load_thinking_scorer(tiny_models[arch], max_new_tokens=8, batch_size=2)
    items = [({**RECORD, "images": [red_png]}, RESPONSE), (RECORD, "<think>hm</think>")]
    scores = scorer.score(items)
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    stats = scorer.stats()
    assert stats["calls"] == 2 and 0 <= stats["failures"] <= 2 and stats["seconds"] > 0
    assert stats["failures"] <= scores.count(0.0)              # every failure scored 0
    assert scorer.score(items) == scores                       # greedy: the same again
