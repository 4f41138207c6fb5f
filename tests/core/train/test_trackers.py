"""--report-to: each tracker's own files read back with its own reader (nothing leaves the machine)."""
import glob
import json
import struct

import pytest

from thinkpipe.core.errors import UsageError
from thinkpipe.core.train import trackers

ROWS = [{"step": s, "loss": 1.0 / s, "ok": True, "reward": {"mean": s * 0.5}, "tag": "x"}
        for s in (1, 2, 3)]
CONFIG = {"learning_rate": 0.1, "train": {"seed": 7, "sizes": [1, 2]}}


def _report(names, tmp_path):
    report = trackers.Report(names, trackers.Run(str(tmp_path / "out"), "r1", CONFIG))
    for row in ROWS:
        report.log(row)
    report.close()


def test_parse_takes_trl_spellings_and_refuses_unknown_names():
    assert trackers.parse("none") == () and trackers.parse(None) == ()
    assert trackers.parse("TensorBoard, wandb,none,wandb") == ("tensorboard", "wandb")
    with pytest.raises(UsageError, match="unknown tracker neptune"):
        trackers.parse("tensorboard,neptune")


def test_a_missing_package_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setattr(trackers.importlib.util, "find_spec",
                        lambda name: None if name == "wandb" else object())
    with pytest.raises(UsageError) as e:
        trackers.check(("tensorboard", "wandb"))
    assert str(e.value) == ("--report-to wandb needs the wandb package: "
                            "pip install 'thinkpipe[wandb]'")


def test_scalars_are_the_rows_numbers_flattened_without_step_or_booleans():
    assert trackers.scalars(ROWS[1]) == {"loss": 0.5, "reward/mean": 1.0}
    assert trackers.flat_params(CONFIG) == {"learning_rate": 0.1, "train.seed": 7,
                                            "train.sizes": "[1, 2]"}


def test_tensorboard_event_files_hold_the_scalars_and_the_config(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    _report(("tensorboard",), tmp_path)
    acc = EventAccumulator(str(tmp_path / "out" / "runs" / "r1"), size_guidance={"tensors": 0})
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [
        (1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert [e.value for e in acc.Scalars("reward/mean")] == [0.5, 1.0, 1.5]
    assert "ok" not in acc.Tags()["scalars"] and "step" not in acc.Tags()["scalars"]
    text = acc.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert json.loads(text.strip("`").removeprefix("json")) == CONFIG


def _wandb_records(path):
    """The protobuf records of a .wandb file (a LevelDB-style log: 32 KiB blocks of chunks, each
    with a crc32, length and kind header), read without wandb's writer."""
    from wandb.proto import wandb_internal_pb2 as pb
    data = open(path, "rb").read()
    assert data[:4] == b":W&B"
    pos, block, parts, out = 7, 32768, b"", []
    while pos + 7 <= len(data):
        room = block - pos % block
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if room < 7 or (length == 0 and kind == 0):
            pos += room
            continue
        chunk, pos = data[pos + 7:pos + 7 + length], pos + 7 + length
        parts = chunk if kind in (1, 2) else parts + chunk
        if kind in (1, 4):
            record = pb.Record()
            record.ParseFromString(parts)
            out.append(record)
    return out


def test_wandb_offline_run_on_disk_holds_history_config_and_name(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_CONFIG_DIR", str(tmp_path / "wandb-config"))
    _report(("wandb",), tmp_path)
    [path] = glob.glob(str(tmp_path / "out" / "wandb" / "offline-run-*" / "run-*.wandb"))
    records = _wandb_records(path)
    history = [{i.key or "/".join(i.nested_key): json.loads(i.value_json)
                for i in r.history.item} for r in records if r.WhichOneof("record_type") ==
               "history"]
    assert [(h["_step"], h["loss"], h["reward/mean"]) for h in history] == [
        (1, 1.0, 0.5), (2, 0.5, 1.0), (3, pytest.approx(1 / 3), 1.5)]
    [run] = [r.run for r in records if r.WhichOneof("record_type") == "run"]
    config = {i.key: json.loads(i.value_json) for i in run.config.update}
    assert run.display_name == "r1" and str(tmp_path / "out") in run.notes
    assert config["learning_rate"] == 0.1
    assert config["train"] == {"seed": 7, "sizes": [1, 2]}


def test_mlflow_local_file_store_holds_metrics_params_and_tags(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient
    uri = "file:" + str(tmp_path / "mlruns")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    _report(("mlflow",), tmp_path)
    client = MlflowClient(uri)
    [run] = client.search_runs([client.get_experiment_by_name("thinkpipe").experiment_id])
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert run.data.params == {"learning_rate": "0.1", "train.seed": "7", "train.sizes": "[1, 2]"}
    assert run.info.run_name == "r1" and run.info.status == "FINISHED"
    assert run.data.tags["output_dir"] == str(tmp_path / "out")


def test_trackio_local_store_holds_the_metrics(tmp_path, monkeypatch):
    pytest.importorskip("trackio", reason="trackio does not install with pillow 13 (see "
                                          "constraints.txt)")
    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "trackio"))
    _report(("trackio",), tmp_path)
    assert glob.glob(str(tmp_path / "trackio" / "*"))


def test_a_tracker_that_cannot_start_is_a_one_line_service_error(tmp_path, monkeypatch):
    from thinkpipe.core.errors import ServiceError
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///" + str(tmp_path / "m.db"))
    with pytest.raises(ServiceError, match="^--report-to mlflow: cannot start the run: "):
        _report(("tensorboard", "mlflow"), tmp_path)
