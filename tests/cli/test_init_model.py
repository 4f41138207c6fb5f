"""thinkpipe init-model from the command line."""
import pytest
import json
import os


@pytest.mark.slow
def test_writes_a_folder_and_describes_it_on_stdout(cli, tmp_path):
    r = cli(["thinkpipe", "init-model", "--arch", "llama", str(tmp_path / "m"), "--hidden-size", "32"])
    info = json.loads(r.out)
    assert r.rc == 0 and info["arch"] == "llama" and info["parameters"] > 10_000
    assert os.path.exists(tmp_path / "m" / "model.safetensors")
    assert "parameters" in r.stderr  # the summary, on stderr


def test_refuses_a_non_empty_folder_without_force(cli, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    r = cli(["thinkpipe", "init-model", str(tmp_path)])
    assert r.rc == 2 and "--force" in r.stderr and r.out == b""
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_bad_sizes_are_usage_errors(cli, tmp_path):
    assert cli(["thinkpipe", "init-model", str(tmp_path / "x"), "--hidden-size", "40"]).rc == 2
    assert cli(["thinkpipe", "init-model", str(tmp_path / "x"), "--arch", "gpt"]).rc == 2


def test_an_unwritable_folder_is_exit_73(cli, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    r = cli(["thinkpipe", "init-model", str(tmp_path / "file" / "m")])
    assert r.rc == 73 and "cannot write" in r.stderr and "internal" not in r.stderr


def test_writes_a_tiny_audio_model_with_its_processor(cli, tmp_path):
    r = cli(["thinkpipe", "init-model", "--arch", "qwen2-audio", str(tmp_path / "a")])
    info = json.loads(r.out)
    assert r.rc == 0 and info["arch"] == "qwen2-audio" and 100_000 < info["parameters"] < 1_000_000
    config = json.load(open(tmp_path / "a" / "config.json"))
    assert config["model_type"] == "qwen2_audio"
    processor = json.load(open(tmp_path / "a" / "processor_config.json"))
    assert processor["feature_extractor"]["feature_size"] == 128
    assert processor["feature_extractor"]["sampling_rate"] == 16000
