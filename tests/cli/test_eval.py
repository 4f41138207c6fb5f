"""thinkpipe eval from the command line: reports, baselines, generation with a tiny model."""
import json

PREDS = [
    {"id": "1", "options": ["a", "b"], "answer": "B", "response": "<answer>B</answer>", "task": "x"},
    {"id": "2", "question_type": "numerical", "answer": "3", "response": "<answer>4</answer>", "task": "x"},
    {"id": "3", "options": ["a", "b"], "answer": "A", "response": "no idea", "task": "y"},
]
DATA = "".join(json.dumps(r) + "\n" for r in PREDS).encode()


def test_scores_records_and_writes_reports(cli, tmp_path):
    for ext in ("md", "html", "json"):
        r = cli(["thinkpipe", "eval", "--group-by", "task", "--report", str(tmp_path / f"r.{ext}")],
                DATA)
        assert r.rc == 0
    out = [json.loads(line) for line in r.out.splitlines()]
    assert [o["status"] for o in out] == ["correct", "incorrect", "unparseable"]
    assert "task=x" in r.stderr and "95% CI" in r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["rows"][0]["mean"] == 1 / 3 and report["meta"]["scoring"].startswith("strict")
    html = (tmp_path / "r.html").read_text()
    assert "<svg" in html and "<script" not in html
    assert 'src="http' not in html and 'href="http' not in html   # opens with no network


def test_baseline_comparison(cli, tmp_path):
    base = tmp_path / "base.jsonl"
    base.write_text("".join(json.dumps({**r, "response": "<answer>A</answer>"}) + "\n" for r in PREDS))
    r = cli(["thinkpipe", "eval", "--baseline", str(base), "--report", str(tmp_path / "c.json")], DATA)
    comp = json.loads((tmp_path / "c.json").read_text())["baseline"]
    assert comp["paired_items"] == 3 and comp["wins"] == 1 and comp["losses"] == 1
    assert "McNemar" in r.stderr


def test_missing_answer_or_prediction_is_visible_not_wrong(cli):
    r = cli(["thinkpipe", "eval"], b'{"response": "<answer>A</answer>"}\n{"answer": "A"}\n')
    out = [json.loads(line) for line in r.out.splitlines()]
    assert r.rc == 0 and [o["status"] for o in out] == ["judge_failed", "unparseable"]
    assert out[0]["score"] is None and "gold" in out[0]["score_detail"]
    r = cli(["thinkpipe", "eval"], b'{"answer": "A", "question_type": "numerical", "response": "x"}\n'
            b'{"answer": "five", "question_type": "numerical", "response": "<answer>5</answer>"}\n')
    assert r.rc == 65 and "<stdin>:2" in r.stderr and "not a number" in r.stderr


def test_official_mode_needs_benchmark(cli):
    assert cli(["thinkpipe", "eval", "--compat", "official"], DATA).rc == 2


def test_generates_missing_predictions_with_a_model(cli, tiny_models):
    data = b'{"id": "g", "question": "Which?", "options": ["x", "y"], "answer": "A"}\n'
    r = cli(["thinkpipe", "eval", "--model", tiny_models["llama"], "--max-new-tokens", "6"], data)
    rec = json.loads(r.out)
    assert r.rc == 0 and rec["finish_reason"] in ("length", "eos", "stop")
    assert rec["status"] in ("unparseable", "incorrect", "correct", "truncated")
