"""`thinkpipe eval --model` end to end on each benchmark's official schema with tiny models (or a
scripted endpoint where the tiny models cannot take the media): generate, score, group."""
from __future__ import annotations

import base64
import csv
import io
import json

import pytest

from ..chat_server import completion

SUDOKU_INFO = repr({"base_matrix": [[1, None, None, None], [None] * 4, [None] * 4, [None] * 4]})
HASHI_INFO = repr({"init_islands": [{"cord": "a1", "requirement": 1},
                                    {"cord": "a3", "requirement": 1}]})


def _png() -> str:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 220)).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def mme_tsv(path) -> None:
    """Four MME-Reasoning rows in the official columns: choice, open, sudoku, hashi."""
    image = _png()
    rows = [
        ("1", "Which shape comes next? A. circle B. square", "B", "choice", "choice_prompt", "",
         "", "pattern analysis", "inductive"),
        ("2", "What is 2 + 3?", "5", "open", "open_question_prompt", "", "",
         "calculation", "deductive"),
        ("3", "Solve the 4x4 sudoku.", "", "rule", "sudoku_4_extraction_prompt",
         "calculate_answer_function_sudoku_4", SUDOKU_INFO, "planning and exploring", "deductive"),
        ("4", "Connect the islands.", "", "rule", "hashi_extraction_prompt",
         "calculate_answer_function_hashi", HASHI_INFO, "planning and exploring, spatial-temporal",
         "abductive"),
    ]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, delimiter="\t")
        w.writerow(["index", "image", "question", "answer", "question_type", "prompt_id",
                    "function_id", "special_info", "capability", "reasoning_type"])
        for row in rows:
            w.writerow([row[0], image, *row[1:]])


def _lines(r):
    return [json.loads(x) for x in r.out.splitlines()]


def test_mme_reasoning_items_keep_their_official_fields(cli, tmp_path):
    mme_tsv(tmp_path / "mme.tsv")
    r = cli(["thinkpipe", "eval", "--benchmark", "mme-reasoning", str(tmp_path / "mme.tsv"),
             "--dump-items"])
    items = _lines(r)
    assert r.rc == 0 and [i["id"] for i in items] == ["1", "2", "3", "4"]
    assert items[2]["function_id"] == "calculate_answer_function_sudoku_4"
    assert all(k in items[3] for k in ("special_info", "prompt_id", "capability", "reasoning_type"))
    assert items[3]["capability"] == ["planning and exploring", "spatial-temporal"]


@pytest.mark.slow
def test_mme_reasoning_with_a_tiny_vlm_scores_every_item(cli, tiny_models, tmp_path):
    mme_tsv(tmp_path / "mme.tsv")
    report = tmp_path / "r.json"
    r = cli(["thinkpipe", "eval", "--benchmark", "mme_reasoning", "--model", tiny_models["qwen2-vl"],
             "--max-new-tokens", "8", "--report", str(report), str(tmp_path / "mme.tsv")])
    out = _lines(r)
    assert r.rc == 0 and len(out) == 4, r.stderr
    assert all(o["status"] in ("incorrect", "unparseable", "truncated") for o in out)
    assert {o["verifier"] for o in out[2:]} == {"calculate_answer_function_sudoku_4",
                                                "calculate_answer_function_hashi"}
    assert all(o["model"] == tiny_models["qwen2-vl"] and o["prompt_template"] == "plain" for o in out)
    labels = {(row["group"], row["label"]) for row in json.loads(report.read_text())["rows"]}
    assert ("capability", "planning and exploring") in labels and ("reasoning_type", "abductive") in labels


def test_av_odyssey_media_follow_the_placeholders_and_subfields_are_reported(cli, server, tmp_path,
                                                                             red_png):
    import wave
    wav = tmp_path / "a.wav"
    with wave.open(str(wav), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
        w.writeframes(b"\1\0" * 1600)
    rows = [{"question_id": f"q{i}", "question_type_id": 1, "data_type": "image",
             "subfield": sub, "question": "Which instrument in [img1] makes the sound in [audio1]?",
             "options": ["A: violin", "B: drum", "C: flute", "D: piano"], "answer": "B",
             "image_1": red_png, "audio_1": str(wav)} for i, sub in enumerate(["Timbre", "Tone"])]
    (tmp_path / "avo.json").write_text(json.dumps(rows))
    srv = server(lambda body: (200, completion("Answer: B")))
    report = tmp_path / "r.json"
    r = cli(["thinkpipe", "eval", "--benchmark", "av-odyssey", "--model", srv.url, "--report",
             str(report), "-q", str(tmp_path / "avo.json")])
    assert r.rc == 0 and [o["status"] for o in _lines(r)] == ["correct", "correct"], r.stderr
    kinds = [p["type"] for p in srv.requests[0]["messages"][-1]["content"]]
    assert kinds == ["text", "image_url", "text", "input_audio", "text"]
    labels = {row["label"] for row in json.loads(report.read_text())["rows"]}
    assert {"Timbre", "Tone"} <= labels
    official = cli(["thinkpipe", "eval", "--benchmark", "av-odyssey", "--compat", "official",
                    "--model", srv.url, "-q", str(tmp_path / "avo.json")])
    assert [o["score"] for o in _lines(official)] == [0.0, 0.0]   # its parser reads "Answer: B" as A


@pytest.mark.slow
def test_held_out_mazes_with_the_drawing_loop(cli, tiny_models):
    tasks = cli(["synth-draw", "--task", "maze", "--count", "3", "--seed", "1000", "--canvas", "224"]).out
    r = cli(["thinkpipe", "eval", "--model", tiny_models["qwen2-vl"], "--tools", "draw",
             "--max-turns", "2", "--max-new-tokens", "8"], tasks)
    out = _lines(r)
    assert r.rc == 0 and len(out) == 3, r.stderr
    assert all(o["prompt_template"] == "vilasr" and o["num_turns"] >= 1 for o in out)
    assert sum(o["status"] == "correct" for o in out) <= 2           # not the stored traces' 100%
    # format and reflection are of the generated turns: the gold traces in `messages` are all
    # well formed, a random model's 8-token turns never are
    assert all(o["format"] == 0.0 and o["reflection"] == 0.0 for o in out)
    assert "format %" in r.stderr


def test_mme_reasoning_multi_image_rows_and_base64_images():
    from thinkpipe.tools.evaluate.loaders import mme_reasoning
    rec = mme_reasoning({"index": 1, "image_path": "['a.png', 'b.png']", "question": "q",
                         "answer": "A", "question_type": "choice"})
    assert rec["images"] == ["a.png", "b.png"]
    png = _png()
    assert mme_reasoning({"index": 2, "image": png, "question": "q", "answer": "A",
                          "question_type": "choice"})["images"] == [{"path": None, "bytes": png}]


@pytest.mark.slow
def test_vsi_style_numbers_and_vilasr_result_files_with_a_tiny_vlm(cli, tiny_models, red_png, tmp_path):
    vsi = [{"id": f"v{i}", "question": "How many chairs are in the room?", "question_type":
            "object_counting", "ground_truth": "4", "images": [red_png]} for i in range(2)]
    vsi.append({"id": "v2", "dataset": "scannet", "scene_name": "scene0001", "question": "How far?",
                "question_type": "abs_distance", "ground_truth": "2.5"})     # a video item
    data = "".join(json.dumps(r) + "\n" for r in vsi).encode()
    model = ["--model", tiny_models["qwen2-vl"], "--max-new-tokens", "6"]
    r = cli(["thinkpipe", "eval", "--benchmark", "vsibench", *model], data)
    assert r.rc == 65 and "<stdin>:3" in r.stderr and "videos" in r.stderr   # images-only model
    r = cli(["thinkpipe", "eval", "--benchmark", "vsibench", "--on-error", "skip", *model], data)
    out = _lines(r)
    assert r.rc == 0 and [o["id"] for o in out] == ["v0", "v1"]
    assert all(o["verifier"] == "regression" and o["score"] == 0.0 for o in out)  # MRA of noise
    rows = [{"question": "Is the red box left of the blue one?", "options": ["yes", "no"],
             "problem_type": "multiple choice", "answer": "A", "image_path": red_png,
             "data_type": "image", "model_output": "<answer>A</answer>"}]
    r = cli(["thinkpipe", "eval", "--benchmark", "vilasr", *model],
            (json.dumps(rows) + "\n").encode())
    out = _lines(r)
    assert r.rc == 0 and out[0]["response"] != "<answer>A</answer>" and "carries a prediction" in r.stderr
    assert "data_type=image" in r.stderr


def test_deaftest_make_refuses_what_it_cannot_write(cli, tmp_path):
    (tmp_path / "file").write_text("x")
    r = cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--make", "2", "--media-dir",
             str(tmp_path / "file" / "wav")])
    assert r.rc == 73 and "--media-dir" in r.stderr and r.out == b""
    assert cli(["thinkpipe", "eval", "--benchmark", "deaftest", "--make", "2"]).rc == 2
