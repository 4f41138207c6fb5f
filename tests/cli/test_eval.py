"""thinkpipe eval from the command line: reports, baselines, generation with a tiny model."""
import pytest
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


@pytest.mark.slow
def test_generates_missing_predictions_with_a_model(cli, tiny_models):
    data = b'{"id": "g", "question": "Which?", "options": ["x", "y"], "answer": "A"}\n'
    r = cli(["thinkpipe", "eval", "--model", tiny_models["llama"], "--max-new-tokens", "6"], data)
    rec = json.loads(r.out)
    assert r.rc == 0 and rec["model"] == tiny_models["llama"] and rec["prediction_from"] == "response"
    # six random tokens reach no answer: cut off by the length budget, so truncated, scoring 0
    assert (rec["finish_reason"], rec["status"], rec["score"]) == ("length", "truncated", 0.0)


def _lines(r):
    return [json.loads(x) for x in r.out.splitlines()]


def test_an_unreadable_prediction_stays_in_the_denominator(cli, tmp_path):
    data = "".join(json.dumps({"id": str(i), "question_type": "regression", "answer": "10",
                               "response": f"<answer>{v}</answer>"}) + "\n"
                   for i, v in enumerate(["10", "1e999", "100"])).encode()
    for policy in ("fail", "skip"):
        r = cli(["thinkpipe", "eval", "--on-error", policy, "--report", str(tmp_path / "r.json")],
                data)
        out = _lines(r)
        assert r.rc == 0, r.stderr
        assert [o["status"] for o in out] == ["correct", "unparseable", "incorrect"]
        overall = json.loads((tmp_path / "r.json").read_text())["rows"][0]
        assert overall["n"] == 3 and overall["mean"] == 1 / 3


def test_a_stored_response_is_scored_before_the_gold_trace(cli):
    task = json.loads(cli(["synth-draw", "--task", "maze", "--count", "1", "--canvas", "224"]).out)
    r = cli(["thinkpipe", "eval"], (json.dumps({**task, "response": "<answer>999</answer>"}) + "\n").encode())
    out = _lines(r)[0]
    assert out["status"] in ("incorrect", "unparseable") and out["prediction_from"] == "response"
    assert _lines(cli(["thinkpipe", "eval"], (json.dumps(task) + "\n").encode()))[0]["status"] == "correct"


@pytest.mark.slow
def test_with_a_model_every_prediction_is_generated(cli, tiny_models):
    """A random model on gold-trace records scores like chance, never the trace's 100%."""
    tasks = cli(["synth-draw", "--task", "maze", "--count", "6", "--canvas", "224",
                 "--maze-questions", "path_mc"]).out
    r = cli(["thinkpipe", "eval", "--model", tiny_models["qwen2-vl"], "--max-new-tokens", "8"], tasks)
    out = _lines(r)
    assert r.rc == 0 and len(out) == 6 and "carries a prediction" in r.stderr
    assert sum(o["status"] == "correct" for o in out) <= 3
    assert all(o["prediction_from"] == "response" and o["model"] for o in out)


@pytest.mark.slow
def test_sample_seeds_come_from_record_ids(cli, tiny_models):
    data = "".join(json.dumps({"id": f"q{i}", "question": "Which?", "options": ["x", "y"],
                               "answer": "A"}) + "\n" for i in range(4)).encode()
    base = ["thinkpipe", "eval", "--model", tiny_models["llama"], "--temperature", "1",
            "--max-new-tokens", "8", "-q"]
    by_batch = {o["id"]: o["response"] for o in _lines(cli(base + ["--batch-size", "1"], data))}
    assert by_batch == {o["id"]: o["response"] for o in _lines(cli(base + ["--batch-size", "4"], data))}
    shard = {o["id"]: o["response"] for o in _lines(cli(base + ["--shard", "2/2"], data))}
    assert shard == {k: by_batch[k] for k in ("q1", "q3")}
    assert len(set(by_batch.values())) == 4          # the same prompt, four ids, four samples


@pytest.mark.slow
def test_records_the_model_cannot_take_are_bad_records(cli, tiny_models, red_png):
    data = (json.dumps({"id": "1", "question": "Q?", "answer": "A", "options": ["x", "y"],
                        "images": ["nope.png"]}) + "\n" +
            json.dumps({"id": "2", "question": "Q?", "answer": "A", "options": ["x", "y"]}) + "\n").encode()
    cmd = ["thinkpipe", "eval", "--model", tiny_models["qwen2-vl"], "--max-new-tokens", "4"]
    r = cli(cmd, data)
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "nope.png" in r.stderr
    r = cli(cmd + ["--on-error", "skip"], data)
    assert r.rc == 0 and [o["id"] for o in _lines(r)] == ["2"]
    text = (json.dumps({"id": "3", "question": "Q?", "answer": "A", "images": [red_png]}) + "\n").encode()
    r = cli(["thinkpipe", "eval", "--model", tiny_models["llama"]], text)
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "text-only" in r.stderr


def test_benchmark_files_from_stdin_and_by_content(cli, tmp_path):
    from pathlib import Path
    tsv = (Path(__file__).parents[1] / "tools/evaluate/fixtures/mme_reasoning.tsv").read_bytes()
    by_name = cli(["thinkpipe", "eval", "--benchmark", "mme_reasoning", "-q",
                   str(Path(__file__).parents[1] / "tools/evaluate/fixtures/mme_reasoning.tsv")])
    piped = cli(["thinkpipe", "eval", "--benchmark", "mme_reasoning", "-q"], tsv)
    (tmp_path / "mme.txt").write_bytes(tsv)
    renamed = cli(["thinkpipe", "eval", "--benchmark", "mme_reasoning", "-q", str(tmp_path / "mme.txt")])
    assert by_name.rc == piped.rc == renamed.rc == 0 and by_name.out
    assert [o["status"] for o in _lines(piped)] == [o["status"] for o in _lines(by_name)] == \
        [o["status"] for o in _lines(renamed)]


def test_every_official_rule_is_a_benchmark(cli):
    from thinkpipe.cli.evaluate import BENCHMARKS
    from thinkpipe.core.rewards import COMPAT
    from thinkpipe.tools.evaluate.loaders import LOADERS
    assert set(COMPAT) == set(BENCHMARKS) == set(LOADERS)
    row = {"problem_id": 7, "problem": "Which?", "problem_type": "multiple choice",
           "options": ["A. red", "B. blue"], "solution": "<answer>B</answer>", "path": "v.mp4",
           "data_type": "video", "data_source": "mvbench", "output": "<think>x</think><answer>B</answer>"}
    r = cli(["thinkpipe", "eval", "--benchmark", "video_r1", "--compat", "official"],
            (json.dumps(row) + "\n").encode())
    out = _lines(r)[0]
    assert r.rc == 0 and out["status"] == "correct" and out["options"] == ["red", "blue"]
    assert out["videos"] == ["v.mp4"] and "data_source=mvbench" in r.stderr


def test_report_and_output_names_must_say_their_format(cli, tmp_path):
    r = cli(["thinkpipe", "eval", "--report", str(tmp_path / "r.txt")], DATA)
    assert r.rc == 2 and ".md, .html or .json" in r.stderr and not (tmp_path / "r.txt").exists()
    r = cli(["thinkpipe", "eval", "-o", str(tmp_path / "x.csv")], DATA)
    assert r.rc == 2 and "x.csv" in r.stderr and not (tmp_path / "x.csv").exists()


def test_unwritable_report_is_exit_73(cli, tmp_path):
    r = cli(["thinkpipe", "eval", "--report", str(tmp_path / "no" / "such" / "dir" / "r.md")], DATA)
    assert r.rc == 73 and "--report" in r.stderr


def test_baseline_counts_repeats_and_unpaired_items_and_bounds_the_interval(cli, tmp_path):
    base = tmp_path / "base.jsonl"
    rows = [{"id": "1", "answer": "A", "options": ["x", "y"], "response": "<answer>B</answer>"},
            {"id": "2", "answer": "A", "options": ["x", "y"], "response": "<answer>A</answer>"},
            {"id": "2", "answer": "A", "options": ["x", "y"], "response": "<answer>A</answer>"},
            {"id": "9", "answer": "A", "options": ["x", "y"], "response": "<answer>A</answer>"}]
    base.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ours = [{**rows[0], "response": "<answer>A</answer>"}, {**rows[1], "response": "<answer>B</answer>"},
            {"id": "5", "answer": "A", "options": ["x", "y"], "response": "A"}]
    r = cli(["thinkpipe", "eval", "--baseline", str(base), "--report", str(tmp_path / "c.json")],
            "".join(json.dumps(x) + "\n" for x in ours).encode())
    comp = json.loads((tmp_path / "c.json").read_text())["baseline"]
    assert (comp["paired_items"], comp["only_here"], comp["only_baseline"]) == (2, 1, 1)
    assert comp["duplicate_ids_baseline"] == 1 and "repeat" in r.stderr
    assert -1 <= comp["ci_low"] <= comp["difference"] <= comp["ci_high"] <= 1
    assert "1 only here" in r.stderr and "1 only in the baseline" in r.stderr
