"""distill-plankd from the command line: collect in highway-env, train a teacher and distilled
students, drive them closed-loop; seeds repeat; bad input is named by file and line."""
import json

import pytest

from ..conftest import run

SIM = ["--vehicles", "6", "--route", "80", "--timeout", "8"]
TINY = ["--size", "tiny", "--batch-size", "32"]


def _rows(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines()]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    d = tmp_path_factory.mktemp("plankd")
    r = run(["distill-plankd", "collect", "--episodes", "3", "--seed", "0", *SIM,
             "-o", str(d / "data.parquet")])
    assert r.rc == 0, r.stderr
    r = run(["distill-plankd", "train", "--role", "teacher", *TINY, "--epochs", "2",
             "-o", str(d / "teacher.pt"), str(d / "data.parquet")])
    assert r.rc == 0, r.stderr
    return d, _rows(r.text)


def test_teacher_metrics_one_row_per_epoch_with_a_validation_l1(trained):
    _, rows = trained
    assert [r["epoch"] for r in rows] == [1, 2]
    assert all(r["val_l1"] > 0 and r["loss"] == pytest.approx(0.02 * r["l_w"], rel=1e-4)
               for r in rows)
    assert rows[1]["loss"] < rows[0]["loss"]


@pytest.mark.parametrize("extra, terms", [
    (["--method", "plankd"], {"l_w", "l_wstar", "l_z", "l_rank", "l_e", "ib"}),
    (["--method", "plankd", "--variant", "released", "--ib-in-main"], {"l_w", "l_z", "l_rank", "ib"}),
    (["--method", "kd"], {"l_w", "l_kd"}),
    (["--method", "feature"], {"l_w", "l_feat"}),
])
def test_students_train_with_each_method_and_drive(trained, extra, terms):
    d, _ = trained
    out = d / f"student-{'-'.join(extra)}.pt"
    r = run(["distill-plankd", "train", *TINY, "--epochs", "1", "--teacher", str(d / "teacher.pt"),
             *extra, "-o", str(out), str(d / "data.parquet")])
    assert r.rc == 0, r.stderr
    row = _rows(r.text)[-1]
    assert terms <= row.keys()
    assert "l_wstar" not in row or "released" not in extra
    r = run(["distill-plankd", "drive", "--model", str(out), "--episodes", "2", "--seed", "50", *SIM])
    assert r.rc == 0, r.stderr
    episodes, summary = _rows(r.text)[:-1], _rows(r.text)[-1]
    assert [e["seed"] for e in episodes] == [50, 51]
    assert {"episode", "seed", "collided", "progress", "mean_speed", "score"} <= episodes[0].keys()
    assert summary["summary"] is True and summary["episodes"] == 2
    assert {"collision_rate", "progress_mean", "score_mean", "model_ms"} <= summary.keys()
    assert 0 <= summary["score_mean"] <= summary["progress_mean"] <= 1


def test_the_expert_drives_its_route_without_a_collision():
    r = run(["distill-plankd", "drive", "--expert", "--episodes", "2", "--seed", "7", *SIM])
    assert r.rc == 0, r.stderr
    summary = _rows(r.text)[-1]
    assert summary["model"] == "expert" and summary["collision_rate"] == 0
    assert summary["progress_mean"] > 0.9


def test_seeds_repeat_collect_train_and_drive(trained, tmp_path):
    d, rows = trained
    a = run(["distill-plankd", "collect", "--episodes", "1", "--seed", "4", *SIM])
    b = run(["distill-plankd", "collect", "--episodes", "1", "--seed", "4", *SIM])
    assert a.rc == b.rc == 0 and a.out == b.out and a.out
    r = run(["distill-plankd", "train", "--role", "teacher", *TINY, "--epochs", "2",
             "-o", str(tmp_path / "again.pt"), str(d / "data.parquet")])
    strip = lambda rs: [{k: v for k, v in x.items() if k != "seconds"} for x in rs]  # noqa: E731
    assert strip(_rows(r.text)) == strip(rows)
    drives = [run(["distill-plankd", "drive", "--model", str(d / "teacher.pt"), "--episodes", "1",
                   "--seed", "9", *SIM]) for _ in range(2)]
    drop = lambda t: [{k: v for k, v in x.items() if k != "model_ms"} for x in _rows(t)]  # noqa: E731
    assert drop(drives[0].text) == drop(drives[1].text)


def test_resume_continues_to_more_epochs_and_refuses_other_options(trained, tmp_path):
    d, rows = trained
    out = tmp_path / "t.pt"
    base = ["distill-plankd", "train", "--role", "teacher", *TINY, "-o", str(out), str(d / "data.parquet")]
    assert run(base + ["--epochs", "2"]).rc == 0
    # same result as training to 2 epochs at once: the checkpoint holds the schedule and RNG
    r = run(base + ["--epochs", "2", "--resume"])
    assert r.rc == 0 and r.text == ""
    r = run(base + ["--epochs", "2", "--lr", "0.01", "--resume"])
    assert r.rc == 2 and "other options" in r.stderr


def test_bad_input_is_named_and_nothing_runs(trained, tmp_path):
    d, _ = trained
    good = run(["distill-plankd", "collect", "--episodes", "1", *SIM]).out.splitlines()
    bad = good[0] + b"\n" + b'{"id": "x", "waypoints": []}\n'
    r = run(["distill-plankd", "train", "--role", "teacher", "-o", str(tmp_path / "m.pt")], bad)
    assert r.rc == 65 and "<stdin>:2" in r.stderr and "needs images" in r.stderr
    r = run(["distill-plankd", "train", "--role", "teacher", "-o", str(tmp_path / "m.pt")], b"")
    assert r.rc == 65 and "no planner records" in r.stderr
    assert not (tmp_path / "m.pt").exists()


@pytest.mark.parametrize("args, rc, message", [
    (["train", "--method", "plankd", "-o", "x.pt", "-"], 2, "give --teacher"),
    (["train", "--role", "teacher", "--method", "kd", "-o", "x.pt", "-"], 2, "teacher trains alone"),
    (["train", "-"], 2, "needs -o"),
    (["drive"], 2, "--model FILE or --expert"),
    (["drive", "--model", "missing.pt"], 66, "missing.pt: no such file"),
    (["collect", "data.parquet"], 2, "reads no records"),
    (["train", "--size", "huge", "-o", "x.pt", "-"], 2, "--size must be one of"),
])
def test_usage_errors(args, rc, message, tmp_path):
    r = run(["distill-plankd", *args], b"", cwd=tmp_path)
    assert r.rc == rc, r.stderr
    assert message in r.stderr


def test_a_truncated_checkpoint_is_refused(trained, tmp_path):
    d, _ = trained
    cut = tmp_path / "cut.pt"
    cut.write_bytes((d / "teacher.pt").read_bytes()[:1000])
    r = run(["distill-plankd", "drive", "--model", str(cut), "--episodes", "1"])
    assert r.rc == 66 and "not a planner checkpoint" in r.stderr


def test_ctrl_c_keeps_the_last_epoch_and_resume_matches_an_uninterrupted_run(trained, tmp_path):
    import os
    import signal
    import subprocess
    import time

    from ..conftest import BIN
    d, _ = trained
    args = ["distill-plankd", "train", "--role", "student", "--method", "plankd", "--teacher",
            str(d / "teacher.pt"), *TINY, "--epochs", "40", str(d / "data.parquet")]
    whole = run(args + ["-o", str(tmp_path / "whole.pt")], timeout=300)
    assert whole.rc == 0, whole.stderr
    out = tmp_path / "cut.pt"
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    p = subprocess.Popen(args + ["-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    first = p.stdout.readline()                       # epoch 1 is done and saved
    assert b'"epoch":1' in first
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    assert p.returncode == 130, err.decode()
    done = len((first + rest).splitlines())
    assert 1 <= done < 40 and b"--resume continues" in err
    again = run(args + ["-o", str(out), "--resume"], timeout=300)
    assert again.rc == 0, again.stderr
    strip = lambda t: [{k: v for k, v in json.loads(x).items() if k != "seconds"}  # noqa: E731
                       for x in t.splitlines()]
    assert strip(again.text)[0]["epoch"] == done + 1
    assert strip(again.text)[-1] == strip(whole.text)[-1]
