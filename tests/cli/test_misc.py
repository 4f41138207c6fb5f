"""env, completion and the stubs of tools still to come."""
import json

import pytest

from thinkpipe.cli.stubs import PLANNED


def test_env_json_names_the_stack(cli):
    r = cli(["thinkpipe", "env", "--json"])
    info = json.loads(r.out)
    assert r.rc == 0 and info["torch"].startswith("2.") and "deepspeed" in info
    assert "cuda_available" in info


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_cover_every_executable(cli, shell):
    r = cli(["thinkpipe", "completion", shell])
    assert r.rc == 0
    for prog in ("thinkpipe", "synth-draw", "grpo", "fira-pretrain"):
        assert prog in r.text


def test_completion_answers_a_real_request(cli):
    env = {"COMP_WORDS": "thinkpipe conv", "COMP_CWORD": "1", "_THINKPIPE_COMPLETE": "complete_bash"}
    assert cli(["thinkpipe"], env=env).text.split() == ["convert"]
    env = {"COMP_WORDS": "thinkpipe convert --on-e", "COMP_CWORD": "2",
           "_THINKPIPE_COMPLETE": "complete_bash"}
    assert cli(["thinkpipe"], env=env).text.split() == ["--on-error"]


def test_completion_needs_a_shell(cli):
    assert cli(["thinkpipe", "completion"]).rc == 2
    assert cli(["thinkpipe", "completion", "tcsh"]).rc == 2


@pytest.mark.parametrize("name", sorted(PLANNED))
def test_stubs_say_so_and_exit_1(cli, name):
    from thinkpipe.cli.main import COMMANDS, STANDALONE
    if name in COMMANDS:
        pytest.skip("landed")
    cmd = [name] if name in STANDALONE else ["thinkpipe", name]
    r = cli(cmd)
    assert r.rc == 1 and "not implemented yet" in r.stderr


@pytest.mark.slow
def test_a_mistyped_model_path_fails_at_once_without_the_hub(cli, tiny_models, tmp_path):
    import shutil
    import time
    shutil.copytree(tiny_models["llama"], tmp_path / "models" / "tiny-llm")
    for model, env in (("models/tiny-lm", {}), ("./tiny-llm", {}), ("some-org/some-model",
                                                                    {"HF_HUB_OFFLINE": "1"})):
        start = time.perf_counter()
        r = cli(["thinkpipe", "eval", "--model", model], b'{"question": "q", "answer": "a"}\n',
                cwd=tmp_path, env=env)
        assert r.rc == 66 and "no such model folder" in r.stderr, r.stderr
        assert time.perf_counter() - start < 10       # the hub's retries took ~25 s
    assert "did you mean models/tiny-llm" in cli(["thinkpipe", "eval", "--model", "models/tiny-lm"],
                                                 b"", cwd=tmp_path).stderr


def test_man_synopsis_names_the_arguments():
    from pathlib import Path
    man = Path(__file__).parents[2] / "man"
    assert "[\\fIOPTIONS\\fR] \\fIDIR\\fR" in (man / "thinkpipe-init-model.1").read_text()
    assert "[\\fIOPTIONS\\fR] \\fISHELL\\fR" in (man / "thinkpipe-completion.1").read_text()
