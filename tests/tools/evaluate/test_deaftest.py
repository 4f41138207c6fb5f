"""DeafTest-style generator: determinism, WAV format, stimuli that measure back, balanced gold."""
import os
import wave

import numpy as np
import pytest

from thinkpipe.tools.evaluate import deaftest

FIELDS = {"id", "benchmark", "task", "question_type", "audios", "question", "options", "answer",
          "stimuli", "difficulty", "difficulty_unit"}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    media = str(tmp_path_factory.mktemp("deaf") / "media")
    return media, deaftest.make(48, media, seed=0)


def wav_bytes(paths):
    return [open(p, "rb").read() for p in paths]


def test_deterministic_and_independent_of_n(tmp_path):
    a = deaftest.make(9, str(tmp_path / "a"), seed=3)
    b = deaftest.make(9, str(tmp_path / "b"), seed=3)
    strip = lambda recs: [{**r, "audios": [os.path.basename(p) for p in r["audios"]]} for r in recs]  # noqa: E731
    assert strip(a) == strip(b)
    assert wav_bytes(p for r in a for p in r["audios"]) == wav_bytes(p for r in b for p in r["audios"])
    short = deaftest.make(4, str(tmp_path / "s"), seed=3)
    assert strip(short) == strip(a)[:4]
    other = deaftest.make(9, str(tmp_path / "c"), seed=4)
    assert [r["stimuli"] for r in other] != [r["stimuli"] for r in a]
    assert wav_bytes(p for r in other for p in r["audios"]) != wav_bytes(p for r in a for p in r["audios"])


def test_record_shape(made):
    media, recs = made
    assert len(recs) == 48
    assert [r["task"] for r in recs[:6]] == ["loudness", "pitch", "count"] * 2
    for k, r in enumerate(recs):
        assert set(r) == FIELDS
        assert r["id"] == f"deaftest-{k:05d}" and r["benchmark"] == "deaftest"
        assert r["question_type"] == "multiple_choice"
        assert r["audios"] == [os.path.join(media, f"deaftest-{k:05d}-{j}.wav")
                               for j in range(1, len(r["audios"]) + 1)]
        assert r["question"].count("[audio") == len(r["audios"]) == len(r["stimuli"])
        assert len(set(r["options"])) == len(r["options"])
        assert r["answer"] in "ABCD"[:len(r["options"])]
        assert r["difficulty_unit"] == deaftest.UNITS[r["task"]]
        if r["task"] == "count":
            assert len(r["options"]) == 4 and r["options"][ord(r["answer"]) - 65] == str(r["difficulty"])
        else:
            assert r["options"] == ["the first audio", "the second audio"]


def test_wav_format_and_no_clipping(made):
    _, recs = made
    for path in (p for r in recs for p in r["audios"]):
        with wave.open(path, "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 44100)
            x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        assert np.abs(x.astype(int)).max() < 32767
        assert abs(int(x[0])) <= 1 and abs(int(x[-1])) <= 1       # ramps: no click at the edges


def test_stimuli_measure_back(made):
    _, recs = made
    for r in recs:
        for path, stim in zip(r["audios"], r["stimuli"]):
            m = deaftest.measure(path)
            assert (m["sample_rate"], m["sample_width"], m["channels"]) == (44100, 2, 1)
            assert m["level_dbfs"] == pytest.approx(stim["level_dbfs"], abs=0.1)
            assert m["freq_hz"] == pytest.approx(stim["freq_hz"], rel=0.01)
            assert m["duration_s"] == pytest.approx(stim["duration_s"], abs=0.001)
            if r["task"] == "count":
                assert deaftest.count_bursts(path) == stim["count"] == r["difficulty"]


def test_full_scale_sine_is_minus_3_dbfs(tmp_path):
    path = str(tmp_path / "sine.wav")
    deaftest._write_wav(path, 0.999 * np.sin(2 * np.pi * 1000 * np.arange(44100) / 44100))
    m = deaftest.measure(path)
    assert m["level_dbfs"] == pytest.approx(-3.01 + 20 * np.log10(0.999), abs=0.01)
    assert m["freq_hz"] == pytest.approx(1000, abs=0.1)


def test_gold_agrees_with_measurement(made):
    _, recs = made
    for r in recs:
        if r["task"] == "count":
            continue
        key = "level_dbfs" if r["task"] == "loudness" else "freq_hz"
        first, second = (deaftest.measure(p)[key] for p in r["audios"])
        assert ("A" if first > second else "B") == r["answer"]
        other = "freq_hz" if key == "level_dbfs" else "level_dbfs"
        assert r["stimuli"][0][other] == r["stimuli"][1][other]
        assert r["stimuli"][0]["duration_s"] == r["stimuli"][1]["duration_s"]
        if r["task"] == "loudness":
            assert first - second == pytest.approx(r["difficulty"] * (1 if r["answer"] == "A" else -1), abs=0.05)
            assert max(first, second) <= -3
        else:
            ratio = max(first, second) / min(first, second)
            assert ratio == pytest.approx(1 + r["difficulty"] / 100, rel=0.002)


def test_answers_balanced(tmp_path):
    recs = deaftest.make(60, str(tmp_path), seed=0)
    for task in ("loudness", "pitch"):
        golds = [r["answer"] for r in recs if r["task"] == task]
        assert 0.35 <= golds.count("A") / len(golds) <= 0.65


def test_every_rung_appears(made):
    _, recs = made
    for task, ladder in deaftest.LADDERS.items():
        assert sorted({r["difficulty"] for r in recs if r["task"] == task}) == sorted(ladder)


def test_single_task_and_unknown_task(tmp_path):
    recs = deaftest.make(5, str(tmp_path), tasks=("count",))
    assert {r["task"] for r in recs} == {"count"}
    assert [r["difficulty"] for r in recs] == deaftest.LADDERS["count"][:5]
    with pytest.raises(ValueError):
        deaftest.make(1, str(tmp_path), tasks=("timbre",))
