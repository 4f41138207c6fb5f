"""pudnet-predict from the command line: train a hypernetwork, predict weights that load as a
plain network, the summary record with its baseline, denoising, resuming after Ctrl-C, and bad
input named by file and line."""
import json
import os
import signal
import subprocess
import time

import pytest

from ..conftest import BIN, run

TRAIN = ["pudnet-predict", "train", "--data", "digits", "--image-size", "16", "--shots", "5",
         "--queries", "10", "--log-every", "50", "--eval-every", "100", "--eval-tasks", "10"]


def _rows(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines()]


@pytest.fixture(scope="module")
def hyper(tmp_path_factory):
    path = tmp_path_factory.mktemp("pudnet") / "hyper.pt"
    r = run(TRAIN + ["--classes", "0,1,2,3,4,5", "--val-classes", "5,6,7,8,9", "--episodes",
                     "200", "-o", str(path), "--eval-every", "50",
                     "--keep-best", str(path.with_name("best.pt"))])
    assert r.rc == 0, r.stderr
    return path, _rows(r.text)


def test_train_writes_metrics_on_stdout_and_the_checkpoint(hyper):
    path, rows = hyper
    assert [r["step"] for r in rows] == [50, 100, 150, 200] and path.exists()
    assert all(0 <= r["accuracy"] <= 1 and "val_accuracy" in r for r in rows)
    import torch
    best = torch.load(path.with_name("best.pt"), weights_only=False)
    top = max(rows, key=lambda r: r["val_accuracy"])
    assert best["best"]["val_accuracy"] == top["val_accuracy"] and best["episode"] == top["step"]


def test_eval_with_the_baseline_in_one_summary_record(hyper):
    r = run(["pudnet-predict", "--hyper", str(hyper[0]), "--data", "digits", "--classes",
             "5,6,7,8,9", "--shots", "5", "--eval", "--baseline", "sgd", "--steps", "30"])
    assert r.rc == 0, r.stderr
    (s,) = _rows(r.text)
    assert s["summary"] is True and s["classes"] == [5, 6, 7, 8, 9] and s["n_support"] == 25
    assert s["chance"] == 0.2 and s["accuracy"] > 0.4 and s["n_eval"] > 200
    assert s["baseline"] == "sgd" and s["baseline_steps"] == 30
    assert 0 <= s["baseline_accuracy"] <= 1 and s["baseline_seconds"] > s["predict_seconds"] > 0
    assert s["trained_classes"] == [0, 1, 2, 3, 4, 5]


def test_weights_and_predictions_agree_with_the_summary(hyper, tmp_path):
    weights = tmp_path / "w.safetensors"
    r = run(["pudnet-predict", "--hyper", str(hyper[0]), "--data", "digits", "--classes",
             "6,7,8,9", "-o", str(weights), "--emit-predictions", "--eval"])
    assert r.rc == 0, r.stderr
    *preds, summary = _rows(r.text)
    assert len(preds) == summary["n_eval"] and {p["split"] for p in preds} == {"test"}
    assert set(preds[0]) == {"id", "split", "label", "pred", "score"}
    hits = sum(p["pred"] == p["label"] for p in preds) / len(preds)
    assert abs(hits - summary["accuracy"]) < 1e-3
    from thinkpipe.tools.pudnet import load_weights
    from thinkpipe.tools.pudnet.data import load
    net, names = load_weights(str(weights))
    data = load("digits", 16, 1)
    test = data.where("test", data.class_index(["6", "7", "8", "9"]))
    pred = net(data.images[test]).argmax(-1)
    assert names == [6, 7, 8, 9]
    again = sum(names[int(p)] == data.names[int(y)] for p, y in zip(pred, data.labels[test]))
    assert abs(again / len(test) - summary["accuracy"]) < 1e-3


def test_denoising_predicts_a_unet_and_reports_psnr(tmp_path):
    path = tmp_path / "den.pt"
    r = run(["pudnet-predict", "train", "--task", "denoise", "--target", "unet", "--width", "8",
             "--data", "digits", "--image-size", "16", "--episodes", "20", "--log-every", "10", "--shots", "4",
             "--eval-every", "20", "--eval-tasks", "2", "-o", str(path)])
    assert r.rc == 0, r.stderr
    assert "val_loss" in _rows(r.text)[-1]
    r = run(["pudnet-predict", "--hyper", str(path), "--data", "digits", "--eval",
             "--emit-predictions", "--queries", "5", "--baseline", "sgd", "--steps", "5"])
    assert r.rc == 0, r.stderr
    *each, s = _rows(r.text)
    assert len(each) == s["n_eval"] == 50 and set(each[0]) == {"id", "split", "psnr_noisy", "psnr"}
    assert s["task"] == "denoise" and 15 < s["psnr_noisy"] < 25 and s["psnr"] > 5
    assert "baseline_psnr" in s


def test_ctrl_c_saves_a_checkpoint_and_resume_continues(tmp_path):
    path, out = tmp_path / "h.pt", tmp_path / "m.jsonl"
    cmd = [os.path.join(BIN, TRAIN[0])] + TRAIN[1:] + ["--episodes", "100000", "--log-every", "5",
                                                        "--eval-every", "0", "-o", str(path)]
    with open(out, "wb") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and out.stat().st_size == 0:
            time.sleep(0.2)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err.decode()
    assert b"--resume" in err and path.exists()
    import torch
    done = torch.load(path, weights_only=False)["episode"]
    assert done >= 5
    r = run(TRAIN + ["--episodes", str(done + 10), "--log-every", "5", "--eval-every", "0",
                     "--resume", "-o", str(path)])
    assert r.rc == 0, r.stderr
    assert _rows(r.text)[-1]["step"] == done + 10 and _rows(r.text)[0]["step"] > done
    r = run(TRAIN + ["--episodes", "5", "--resume", "--width", "8", "-o", str(path)])
    assert r.rc == 2 and "other options" in r.stderr


def test_records_on_stdin(tmp_path, red_png):
    from PIL import Image
    blue = tmp_path / "blue.png"
    Image.new("RGB", (20, 20), (10, 10, 220)).save(blue)
    lines = [json.dumps({"id": f"i{i}", "image": red_png if i % 2 else str(blue),
                         "label": "red" if i % 2 else "blue"}) for i in range(40)]
    data = ("\n".join(lines) + "\n").encode()
    path = tmp_path / "h.pt"
    r = run(["pudnet-predict", "train", "--data", "-", "--ways", "2", "--shots", "3", "--queries",
             "3", "--channels", "3", "--image-size", "8", "--episodes", "5", "--eval-every", "5",
             "--eval-tasks", "2", "-o", str(path)], data)
    assert r.rc == 0, r.stderr
    r = run(["pudnet-predict", "--hyper", str(path), "--data", "-", "--shots", "3", "--eval",
             "--emit-predictions"], data)
    assert r.rc == 0, r.stderr
    *preds, s = _rows(r.text)
    assert s["classes"] == ["blue", "red"] and len(preds) == 12 and preds[0]["id"].startswith("i")


@pytest.mark.parametrize("args,rc,message", [
    (["train", "--data", "digits"], 2, "-o FILE"),
    (["--data", "digits", "--eval"], 2, "--hyper"),
    (["--hyper", "x.pt", "--data", "digits"], 2, "nothing to do"),
    (["--hyper", "/no/such/hyper.pt", "--data", "digits", "--eval"], 66, "/no/such/hyper.pt"),
    (["train", "--data", "/no/such/folder", "-o", "h.pt"], 66, "/no/such/folder"),
    (["train", "--data", "digits", "--classes", "1,2,x", "-o", "h.pt"], 66, "no class x"),
    (["train", "--data", "digits", "--classes", "1,2", "-o", "h.pt"], 2, "--ways 5"),
    (["train", "--data", "digits", "--task", "denoise", "-o", "h.pt"], 2, "unet"),
])
def test_usage_and_input_errors(args, rc, message, tmp_path):
    r = run(["pudnet-predict", *args], cwd=tmp_path)
    assert r.rc == rc and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_malformed_record_and_a_file_that_is_not_a_checkpoint(tmp_path, red_png):
    bad = tmp_path / "in.jsonl"
    bad.write_text(json.dumps({"image": red_png, "label": 1}) + "\n{broken\n")
    r = run(["pudnet-predict", "train", "--data", str(bad), "-o", str(tmp_path / "h.pt")])
    assert r.rc == 65 and "in.jsonl:2" in r.stderr and "Traceback" not in r.stderr
    notckpt = tmp_path / "h.pt"
    notckpt.write_bytes(b"hello")
    r = run(["pudnet-predict", "--hyper", str(notckpt), "--data", "digits", "--eval"])
    assert r.rc == 66 and "not a pudnet-predict checkpoint" in r.stderr
