"""fira-pretrain from the command line: it learns, it resumes, it refuses sharded optimizers."""
import pytest
import json
import random


def corpus(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    words = "the ball is left of the box and the path turns right twice before the goal".split()
    return "".join(json.dumps({"text": " ".join(rng.choice(words) for _ in range(rng.randint(5, 30)))})
                   + "\n" for _ in range(n)).encode()


def run(cli, tmp_path, out, *extra, data=None):
    (tmp_path / "val.jsonl").write_bytes(corpus(40, 1))
    return cli(["fira-pretrain", "--tokenizer", str(tmp_path / "tok"), "--size", "tiny",
                "--seq-len", "32", "--per-device-train-batch-size", "8", "--eval-file",
                str(tmp_path / "val.jsonl"), "--eval-batches", "4", "--output-dir", str(out),
                "--learning-rate", "1e-2", *extra], data if data is not None else corpus(400, 0))


@pytest.mark.slow
def test_learns_and_reports_state_and_perplexity(cli, tmp_path, tiny_models):
    import shutil
    shutil.copytree(tiny_models["llama"], tmp_path / "tok")
    r = run(cli, tmp_path, tmp_path / "f", "--max-steps", "30", "--eval-steps", "10", "--rank", "16")
    rows = [json.loads(x) for x in r.out.splitlines()]
    assert r.rc == 0, r.stderr[-2000:]
    ppl = [x["eval_perplexity"] for x in rows if "eval_perplexity" in x]
    assert len(ppl) == 3 and ppl[-1] < 0.5 * ppl[0]        # validation perplexity falls
    assert rows[0]["optimizer_state_elements"] > 0
    assert (tmp_path / "f" / "model.safetensors").exists()


@pytest.mark.slow
def test_resume_matches_an_uninterrupted_run(cli, tmp_path, tiny_models):
    import shutil
    shutil.copytree(tiny_models["llama"], tmp_path / "tok")
    full = [json.loads(x) for x in run(cli, tmp_path, tmp_path / "a", "--max-steps", "6",
                                       "--update-proj-gap", "3", "--rank", "8").out.splitlines()]
    first = run(cli, tmp_path, tmp_path / "b", "--max-steps", "6", "--update-proj-gap", "3",
                "--rank", "8", "--save-steps", "3")
    assert first.rc == 0
    shutil.rmtree(tmp_path / "b" / "checkpoint-6")
    again = [json.loads(x) for x in run(cli, tmp_path, tmp_path / "b", "--max-steps", "6",
                                        "--update-proj-gap", "3", "--rank", "8",
                                        "--resume", "auto").out.splitlines()]
    assert [x["step"] for x in again] == [4, 5, 6]
    assert [x["loss"] for x in again] == [x["loss"] for x in full[3:]]


@pytest.mark.slow
def test_refusals(cli, tmp_path, tiny_models):
    import shutil
    shutil.copytree(tiny_models["llama"], tmp_path / "tok")
    r = run(cli, tmp_path, tmp_path / "z", "--zero", "2")
    assert r.rc == 2 and "ZeRO" in r.stderr
    r = run(cli, tmp_path, tmp_path / "t", "--targets", "conv", "--max-steps", "1")
    assert r.rc == 2 and "no matrix selected" in r.stderr
    r = run(cli, tmp_path, tmp_path / "e", "--max-steps", "1", data=b'{"txt": "x"}\n')
    assert r.rc == 65 and "<stdin>:1" in r.stderr
