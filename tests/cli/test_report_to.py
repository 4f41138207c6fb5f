"""--report-to from the command line: a loop trainer (sft) and a trainer of its own (freekd) log
the metrics rows' numbers, the resolved config and the run name, read back with each tracker's
reader; a missing or unknown tracker is a one-line usage error before any model loads."""
import json

import pytest

from ..conftest import run

DATA = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                        {"role": "assistant", "content": f"<answer>{i}</answer>"}]})
               + "\n" for i in range(8)).encode()


def _events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(folder), size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    return acc


def _sft(model, out, *extra, env=None):
    return run(["sft", "--model", model, "--output-dir", str(out), "--max-steps", "3",
                "--per-device-train-batch-size", "4", "--learning-rate", "5e-3", *extra],
               DATA, env=env)


def test_sft_reports_the_same_numbers_to_tensorboard_and_mlflow(tiny_models, tmp_path,
                                                                monkeypatch):
    from mlflow.tracking import MlflowClient
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")      # for this test's reader
    uri = "file:" + str(tmp_path / "mlruns")
    r = _sft(tiny_models["llama"], tmp_path / "ckpt", "--report-to", "tensorboard,mlflow",
             "--run-name", "cold", env={"MLFLOW_TRACKING_URI": uri})
    assert r.rc == 0, r.stderr
    rows = [json.loads(x) for x in r.out.splitlines()]
    acc = _events(tmp_path / "ckpt" / "runs" / "cold")
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [
        (x["step"], pytest.approx(x["loss"], rel=1e-6)) for x in rows]
    config = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert json.loads(config.strip("`").removeprefix("json"))["train"]["learning_rate"] == 5e-3
    client = MlflowClient(uri)
    [found] = client.search_runs([client.get_experiment_by_name("thinkpipe").experiment_id])
    history = client.get_metric_history(found.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [
        (x["step"], pytest.approx(x["loss"], rel=1e-6)) for x in rows]
    assert found.info.run_name == "cold" and found.data.params["train.max_steps"] == "3"
    assert found.data.params["model"] == tiny_models["llama"]


def test_the_old_tensorboard_flag_still_writes_there(tiny_models, tmp_path):
    r = _sft(tiny_models["llama"], tmp_path / "ckpt", "--tensorboard", str(tmp_path / "tb"))
    assert r.rc == 0, r.stderr
    assert len(_events(tmp_path / "tb").Scalars("loss")) == 3


def test_unknown_or_missing_trackers_stop_before_the_model_loads(tmp_path):
    r = _sft("no/such/model", tmp_path / "ckpt", "--report-to", "tensorboard,neptune")
    assert r.rc == 2 and "unknown tracker neptune" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    r = _sft("no/such/model", tmp_path / "ckpt", "--report-to", "trackio")
    if r.rc == 2:      # trackio is not installable with this stack (constraints.txt)
        assert "pip install 'thinkpipe[trackio]'" in r.stderr


def test_freekd_reports_its_epochs_by_epoch(tmp_path):
    metrics = tmp_path / "m.jsonl"
    r = run(["freekd", "--synthetic", "120", "--epochs", "6", "--log-every", "2",
             "--metrics", str(metrics), "--report-to", "tensorboard"])
    assert r.rc == 0, r.stderr
    rows = [json.loads(x) for x in open(metrics)]
    epochs = [x for x in rows if "epoch" in x]
    acc = _events(tmp_path / "runs" / "freekd-freekd")
    assert [(e.step, e.value) for e in acc.Scalars("loss/phi")] == [
        (x["epoch"], pytest.approx(x["loss"]["phi"], rel=1e-6)) for x in epochs]
    assert [e.value for e in acc.Scalars("policy_entropy")] == [
        pytest.approx(x["policy_entropy"], rel=1e-6) for x in epochs]
    assert acc.Scalars("test_acc_mean")[0].value == pytest.approx(rows[-1]["test_acc_mean"])


def test_pudnet_reports_beside_its_checkpoint_under_the_run_name(tmp_path):
    r = run(["pudnet-predict", "train", "--data", "digits", "--image-size", "16", "--shots", "5",
             "--queries", "10", "--log-every", "5", "--eval-every", "10", "--eval-tasks", "4",
             "--episodes", "10", "-o", str(tmp_path / "h.pt"), "--report-to", "tensorboard",
             "--run-name", "pn"])
    assert r.rc == 0, r.stderr
    rows = [json.loads(x) for x in r.out.splitlines()]
    acc = _events(tmp_path / "runs" / "pn")
    assert [(e.step, e.value) for e in acc.Scalars("val_accuracy")] == [
        (x["step"], pytest.approx(x["val_accuracy"], rel=1e-6)) for x in rows if "val_accuracy" in x]
