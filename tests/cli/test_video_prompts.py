"""Videos in prompts: eval and reject-sample decode a record's `videos` into frames (core/records/
video.py) and give them to the model as images; a video that cannot be decoded is a bad record."""
from __future__ import annotations

import json

import pytest

from ..core.records.test_video import write_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("video") / "clip.mp4")
    write_clip(path)
    return path


def _record(video: str, rid: str = "v") -> dict:
    return {"id": rid, "question": "What colour comes last?", "options": ["red", "white"],
            "answer": "B", "videos": [video]}


def _lines(r) -> list[dict]:
    return [json.loads(x) for x in r.out.splitlines()]


def test_the_prompt_shows_the_sampled_frames_where_the_video_is_named(clip):
    from thinkpipe.tools.evaluate import prompts
    record = {**_record(clip), "question": "Watch [video1] What colour comes last?"}
    for template in ("plain", "think_answer"):
        parts = prompts.build(record, template, max_frames=3, fps=2)[-1]["content"]
        kinds = [p["type"] for p in parts]
        assert kinds[:4] == ["text", "image", "image", "image"] and "video" not in kinds
        assert parts[0]["text"] == "Watch "
    assert record["videos"] == [clip]                      # the record itself is unchanged
    parts = prompts.build(_record(clip), "plain", max_frames=16, fps=1)[-1]["content"]
    assert [p["type"] for p in parts] == ["image"] * 4 + ["text"]   # 4 s at 1 frame a second
    with pytest.raises(ValueError, match="missing.mp4"):
        prompts.build(_record("missing.mp4"), "plain")


@pytest.mark.slow
def test_eval_answers_a_video_question_and_refuses_an_unreadable_video(cli, tiny_models, clip,
                                                                      tmp_path):
    model = ["thinkpipe", "eval", "--model", tiny_models["qwen2-vl"], "--max-new-tokens", "4",
             "--max-frames", "3", "--fps", "2"]
    r = cli(model, (json.dumps(_record(clip)) + "\n").encode())
    out = _lines(r)
    assert r.rc == 0, r.stderr
    assert len(out) == 1 and isinstance(out[0]["response"], str) and out[0]["videos"] == [clip]
    assert "images" not in out[0] and out[0]["generation"]["max_frames"] == 3
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a video\n" * 10)
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps(_record(clip)) + "\n" + json.dumps(_record(str(bad), "w")) + "\n")
    r = cli([*model, str(data)])
    assert r.rc == 65 and f"{data}:2" in r.stderr and "notes.txt" in r.stderr
    r = cli([*model, "--on-error", "skip", str(data)])
    assert r.rc == 0 and [o["id"] for o in _lines(r)] == ["v"]


@pytest.mark.slow
def test_reject_sample_samples_on_the_frames(cli, tiny_models, clip):
    cmd = ["reject-sample", "--model", tiny_models["qwen2-vl"], "--num-samples", "1",
           "--max-turn-tokens", "4", "--max-frames", "2", "--require", ""]
    data = (json.dumps(_record(clip)) + "\n" + json.dumps(_record("gone.mp4", "g")) + "\n").encode()
    r = cli(cmd, data)
    assert r.rc == 65 and "<stdin>:2" in r.stderr and "gone.mp4" in r.stderr
    r = cli([*cmd, "--on-error", "skip"], data)
    out = _lines(r)
    assert r.rc == 0 and "<stdin>:2" in r.stderr, r.stderr
    assert len(out) == 1 and out[0]["source_id"] == "v"
    assert out[0]["frames"] is True and len(out[0]["images"]) == 2 and "videos" not in out[0]
    assert out[0]["frame_times"] == pytest.approx([0.0, 3.9], abs=0.01)
    parts = out[0]["messages"][0]["content"]
    assert [p["type"] for p in parts] == ["image", "image", "text"]
