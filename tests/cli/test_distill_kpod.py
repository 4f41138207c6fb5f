"""distill-kpod from the command line: --make, a tiny end-to-end run with held-out loss, the
emitted token weights, the ablations, bad records, the output-dir rule, resume and Ctrl-C."""
import json
import re
import signal
import subprocess

import pytest

from ..conftest import BIN, CACHE, run

FAST = ["--per-device-train-batch-size", "8", "--weighting-epochs", "1", "--learning-rate", "1e-3",
        "--weighting-lr", "1e-3"]


def _lines(r) -> list[dict]:
    return [json.loads(x) for x in r.out.splitlines()]


def _make(cli, n: int, seed: int) -> bytes:
    r = cli(["distill-kpod", "--make", str(n), "--seed", str(seed)])
    assert r.rc == 0, r.stderr
    return r.out


def _kpod(cli, model, out, *extra, data=b""):
    """distill-kpod on the tiny student, its options fast."""
    return cli(["distill-kpod", "--model", model, "--output-dir", str(out), *FAST, *extra], data)


def _epoch_ends(rows: list[dict]) -> list[dict]:
    return [x for x in rows if "generated" in x]


@pytest.fixture(scope="module")
def e2e(tiny_models, tmp_path_factory):
    """One kpod run: 48 records, 4 epochs (T = 2), a held-out file and --emit-weights."""
    root = tmp_path_factory.mktemp("kpod")
    (root / "train.jsonl").write_bytes(_make(run, 48, 1))
    (root / "held.jsonl").write_bytes(_make(run, 16, 2))
    r = _kpod(run, tiny_models["llama"], root / "out", "--num-train-epochs", "4", "--eval-file",
              str(root / "held.jsonl"), "--emit-weights", str(root / "w.jsonl"),
              str(root / "train.jsonl"))
    return {"r": r, "root": root, "out": root / "out", "student": tiny_models["llama"],
            "train": [json.loads(x) for x in (root / "train.jsonl").read_text().splitlines()],
            "held": [json.loads(x) for x in (root / "held.jsonl").read_text().splitlines()]}


# --make and usage errors (fast)

def test_make_is_seeded_and_each_answer_is_the_last_result(cli):
    a = cli(["distill-kpod", "--make", "20", "--seed", "1"])
    b = cli(["thinkpipe", "distill-kpod", "--make", "20", "--seed", "1"])
    c = cli(["distill-kpod", "--make", "5", "--seed", "2"])
    assert a.rc == b.rc == c.rc == 0, a.stderr + b.stderr + c.stderr
    assert a.out == b.out and a.out.endswith(b"\n")                # same seed: the same bytes
    assert c.out.splitlines() != a.out.splitlines()[:5]            # another seed: others
    records = _lines(a)
    assert len(records) == 20 and len(_lines(c)) == 5
    assert len({r["id"] for r in records}) == 20
    for r in records:
        assert {"question", "rationale", "answer", "question_type", "steps"} <= set(r)
        assert r["question_type"] == "numerical" and isinstance(r["steps"], int)
        results = re.findall(r"= (\d+)\.", r["rationale"])
        assert len(results) == r["steps"] >= 2                     # one `a OP b = c.` per step
        assert isinstance(r["answer"], str) and r["answer"] == str(int(r["answer"]))
        assert int(r["answer"]) == int(results[-1])


def test_make_with_a_model_or_inputs_is_a_usage_error(cli, tmp_path):
    r = cli(["distill-kpod", "--make", "3", "--model", str(tmp_path)])
    assert r.rc == 2 and r.out == b"" and "--make" in r.stderr and "Traceback" not in r.stderr
    (tmp_path / "in.jsonl").write_bytes(b'{"question": "q", "rationale": "r.", "answer": "1"}\n')
    r = cli(["distill-kpod", "--make", "3", str(tmp_path / "in.jsonl")])
    assert r.rc == 2 and r.out == b""


def test_empty_stdin_is_a_one_line_usage_error(cli, tiny_models, tmp_path):
    r = _kpod(cli, tiny_models["llama"], tmp_path / "out", "--num-train-epochs", "2")
    assert r.rc == 2 and r.out == b""
    assert r.stderr.strip().splitlines() == ["distill-kpod: error: no rationales to distil"]


def test_a_non_empty_output_dir_is_refused(cli, tiny_models, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 16, 1))
    r = _kpod(cli, tiny_models["llama"], out, "--num-train-epochs", "2", str(tmp_path / "train.jsonl"))
    assert r.rc == 2 and r.out == b"" and "Traceback" not in r.stderr
    assert "not empty" in r.stderr and "--overwrite-output-dir" in r.stderr and "--resume" in r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]      # nothing written into it


def test_an_answer_model_with_another_tokenizer_is_a_usage_error(cli, tiny_models, tmp_path):
    from thinkpipe.core.models import build_tiny
    from thinkpipe.core.models.tiny import TinySpec
    other = build_tiny("llama", str(tmp_path / "v600"), TinySpec(vocab_size=600))["path"]
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 16, 1))
    r = _kpod(cli, tiny_models["llama"], tmp_path / "out", "--num-train-epochs", "2",
              "--answer-model", other, str(tmp_path / "train.jsonl"))
    assert r.rc == 2 and r.out == b"" and "Traceback" not in r.stderr
    errors = [x for x in r.stderr.splitlines() if "error:" in x]
    assert len(errors) == 1 and "--answer-model" in errors[0] and other in errors[0]
    assert "tokenizer" in errors[0]


# training runs (slow)

@pytest.mark.slow
def test_end_to_end_lowers_held_out_loss_and_follows_the_schedule(e2e):
    import torch
    from thinkpipe.core.models import load
    from thinkpipe.tools.kpod.distill import heldout_loss
    from thinkpipe.tools.kpod.rationale import encode, from_record
    r, out = e2e["r"], e2e["out"]
    assert r.rc == 0, r.stderr[-2000:]
    rows = _lines(r)                       # stdout is metrics JSONL only: every line parses
    assert [x["step"] for x in rows] == list(range(1, 25))        # 48 / 8 = 6 steps x 4 epochs
    assert all(isinstance(x["loss"], float) and x["loss"] > 0 for x in rows)
    ends = _epoch_ends(rows)
    assert [x["step"] for x in ends] == [6, 12, 18, 24]
    assert [x["step"] for x in rows if "eval_loss" in x] == [6, 12, 18, 24]
    assert [x["stage"] for x in ends] == [0, 1, 2, 2]               # T = 4 // 2
    generated = [x["generated"] for x in ends]
    assert 0 < generated[0] < 1 and generated[1] < 1               # the last steps first
    assert generated == sorted(generated) and generated[2:] == [1.0, 1.0]   # all of it at T
    evals = [x["eval_loss"] for x in ends]
    assert evals[-1] < evals[0]
    assert "Traceback" not in r.stderr and "read back" not in r.stderr
    # the saved folder is the final student, with its tokenizer
    assert (out / "tokenizer.json").exists() and (out / "kpod_prepared.pt").exists()
    bundle = load(str(out))
    assert bundle.tokenizer is not None and bundle.model_type == "llama"
    enc = [encode(from_record(h, "held", h["id"]), bundle.tokenizer) for h in e2e["held"]]
    pad = bundle.tokenizer.pad_token_id or 0
    assert heldout_loss(bundle.model, enc, pad) == pytest.approx(evals[-1], abs=1e-3)
    start = load(e2e["student"]).model.state_dict()                     # it was trained
    assert any(not torch.equal(v, start[k]) for k, v in bundle.model.state_dict().items())


@pytest.mark.slow
def test_emit_weights_holds_one_record_per_rationale(e2e):
    r = e2e["r"]
    assert r.rc == 0, r.stderr[-2000:]
    emitted = [json.loads(x) for x in (e2e["root"] / "w.jsonl").read_text().splitlines()]
    assert [e["id"] for e in emitted] == [t["id"] for t in e2e["train"]]
    for e, t in zip(emitted, e2e["train"]):
        assert {"id", "tokens", "weights", "steps", "difficulty", "cluster", "inputs"} <= set(e)
        n = len(e["tokens"])
        assert "".join(e["tokens"]) == t["rationale"]              # the rationale's tokens
        assert len(e["weights"]) == n and all(0 < w < 1 for w in e["weights"])
        bounds = [b for step in e["steps"] for b in step]
        assert bounds[0] == 0 and bounds[-1] == n and bounds == sorted(bounds)
        assert all(a < b for a, b in e["steps"])
        assert all(b == a for (_, b), (a, _) in zip(e["steps"], e["steps"][1:]))   # contiguous
        assert len(e["steps"]) == t["steps"]                        # one sentence a step
        assert all("".join(e["tokens"][a:b]).strip().endswith(".") for a, b in e["steps"])
        assert len(e["difficulty"]) == len(e["steps"]) and all(d >= 0 for d in e["difficulty"])
        assert isinstance(e["cluster"], int) and 0 <= e["cluster"] < 5
        c = e["inputs"]
        assert len(c) == 3 and c == sorted(c, reverse=True) and c[-1] == 0   # stages 0..T
        assert c[0] <= len(e["steps"])
    assert len({e["cluster"] for e in emitted}) > 1
    # the plan is what the metrics report: generated = 1 - sum c_i / sum n_i at each stage
    ends = _epoch_ends(_lines(r))
    total = sum(len(e["steps"]) for e in emitted)
    for stage, row in zip(range(3), ends):
        given = sum(e["inputs"][stage] for e in emitted)
        assert row["generated"] == pytest.approx(1 - given / total, abs=1e-4)


@pytest.mark.slow
def test_the_ablations_run(cli, tiny_models, tmp_path):
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 16, 1))
    runs = {}
    for method in ("plain", "schedule-only", "weights-only"):
        r = _kpod(cli, tiny_models["llama"], tmp_path / method, "--num-train-epochs", "2",
                  "--method", method, str(tmp_path / "train.jsonl"))
        assert r.rc == 0, f"{method}: {r.stderr[-2000:]}"
        rows = _lines(r)
        assert [x["step"] for x in rows] == [1, 2, 3, 4]
        assert (tmp_path / method / "model.safetensors").exists()
        runs[method] = (rows, r.stderr)
    plain, plain_err = runs["plain"]
    assert [x["generated"] for x in _epoch_ends(plain)] == [1.0, 1.0]      # no schedule
    assert [x["stage"] for x in _epoch_ends(plain)] == [0, 0]
    assert "token weighting" not in plain_err and "schedule:" not in plain_err
    sched, sched_err = runs["schedule-only"]
    assert [x["generated"] for x in _epoch_ends(sched)][0] < 1
    assert [x["generated"] for x in _epoch_ends(sched)][-1] == 1.0
    assert "token weighting" not in sched_err and "schedule:" in sched_err
    weights, weights_err = runs["weights-only"]
    assert [x["generated"] for x in _epoch_ends(weights)] == [1.0, 1.0]
    assert "token weighting" in weights_err and "schedule:" not in weights_err
    # the same student, data and order: w_j in (0, 1) scale the first step's token losses down
    assert weights[0]["loss"] < plain[0]["loss"]


@pytest.mark.slow
def test_a_malformed_record_is_exit_65_or_skipped(cli, tiny_models, tmp_path):
    records = [json.loads(x) for x in _make(cli, 16, 1).splitlines()]
    del records[2]["rationale"], records[2]["answer"]
    path = tmp_path / "train.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in records))
    r = _kpod(cli, tiny_models["llama"], tmp_path / "a", "--num-train-epochs", "2", str(path))
    assert r.rc == 65 and r.out == b"" and "Traceback" not in r.stderr
    errors = [x for x in r.stderr.splitlines() if "error:" in x]
    assert len(errors) == 1 and "train.jsonl:3:" in errors[0] and "rationale" in errors[0]
    assert not (tmp_path / "a" / "model.safetensors").exists()
    r = _kpod(cli, tiny_models["llama"], tmp_path / "b", "--num-train-epochs", "2", "--on-error",
              "skip", "--emit-weights", str(tmp_path / "w.jsonl"), str(path))
    assert r.rc == 0, r.stderr[-2000:]
    assert "train.jsonl:3:" in r.stderr and "1 bad record(s) skipped" in r.stderr
    assert [x["step"] for x in _lines(r)] == [1, 2]                # 15 // 8 = 1 step an epoch
    emitted = [json.loads(x)["id"] for x in (tmp_path / "w.jsonl").read_text().splitlines()]
    assert emitted == [x["id"] for i, x in enumerate(records) if i != 2]
    assert (tmp_path / "b" / "model.safetensors").exists()


@pytest.mark.slow
def test_resume_continues_on_the_saved_schedule(cli, tiny_models, tmp_path):
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 16, 1))
    out, data = tmp_path / "out", str(tmp_path / "train.jsonl")
    first = _kpod(cli, tiny_models["llama"], out, "--save-steps", "2", "--max-steps", "4", data)
    assert first.rc == 0, first.stderr[-2000:]
    assert [x["step"] for x in _lines(first)] == [1, 2, 3, 4]
    assert (out / "checkpoint-2").is_dir() and (out / "checkpoint-4").is_dir()
    prepared = (out / "kpod_prepared.pt").read_bytes()
    again = _kpod(cli, tiny_models["llama"], out, "--save-steps", "2", "--max-steps", "6",
                  "--resume", "auto", data)
    assert again.rc == 0, again.stderr[-2000:]
    rows = _lines(again)
    assert [x["step"] for x in rows] == [5, 6]
    assert "read back" in again.stderr and "checkpoint-4" in again.stderr
    assert "token weighting" not in again.stderr                 # not learned anew
    assert (out / "kpod_prepared.pt").read_bytes() == prepared
    assert (out / "checkpoint-6").is_dir() and (out / "model.safetensors").exists()
    # the same losses as a run that was never stopped
    whole = _kpod(cli, tiny_models["llama"], tmp_path / "whole", "--max-steps", "6", data)
    assert whole.rc == 0, whole.stderr[-2000:]
    full = _lines(whole)
    assert [x["loss"] for x in rows] == pytest.approx([x["loss"] for x in full[4:]], rel=1e-5)
    assert rows[-1]["generated"] == full[-1]["generated"] and rows[-1]["stage"] == full[-1]["stage"]


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_130(cli, tiny_models, tmp_path):
    import os
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 16, 1))
    out = tmp_path / "out"
    cmd = ["distill-kpod", "--model", tiny_models["llama"], "--output-dir", str(out), *FAST,
           "--method", "plain", "--max-steps", "400",
           str(tmp_path / "train.jsonl")]
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", ""), "NO_COLOR": "1",
           "XDG_CACHE_HOME": CACHE}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        head = p.stdout.readline()                  # the first step is done: interrupt
        if not head:
            pytest.fail(f"no metrics line: {p.communicate(timeout=60)[1].decode()[-2000:]}")
        assert json.loads(head)["step"] == 1
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
    steps = [json.loads(x)["step"] for x in (head + rest).splitlines()]
    assert p.returncode == 130, err.decode()[-2000:]
    assert "interrupted" in err.decode() and "Traceback" not in err.decode()
    assert (out / f"checkpoint-{steps[-1]}").is_dir() and steps[-1] < 400
    r = _kpod(cli, tiny_models["llama"], out, "--method", "plain", "--max-steps",
              str(steps[-1] + 1), "--resume", "auto", str(tmp_path / "train.jsonl"))
    assert r.rc == 0, r.stderr[-2000:]
    assert [x["step"] for x in _lines(r)] == [steps[-1] + 1]


@pytest.mark.slow
def test_gsm8k_answers_with_calculator_annotations_stripped(cli, tiny_models, tmp_path):
    records = [{"question": f"Tom has {i} apples and buys 3. How many now?",
                "answer": f"He has 3 <<1+2=3>>3 apples.\nSo {i + 3} in all.\n#### {i + 3}"}
               for i in range(8)]
    path = tmp_path / "gsm.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in records))
    r = _kpod(cli, tiny_models["llama"], tmp_path / "out", "--num-train-epochs", "2",
              "--calculator", "strip", "--split", "newline", "--emit-weights",
              str(tmp_path / "w.jsonl"), str(path))
    assert r.rc == 0, r.stderr[-2000:]
    assert [x["step"] for x in _lines(r)] == [1, 2]
    emitted = [json.loads(x) for x in (tmp_path / "w.jsonl").read_text().splitlines()]
    assert len(emitted) == 8
    for i, e in enumerate(emitted):
        text = "".join(e["tokens"])
        assert "<<" not in text and ">>" not in text and "####" not in text
        assert text == f"He has 3 3 apples.\nSo {i + 3} in all."
        assert ["".join(e["tokens"][a:b]) for a, b in e["steps"]] == \
            ["He has 3 3 apples.\n", f"So {i + 3} in all."]               # split at new lines


@pytest.mark.slow
def test_two_ranks_with_zero2_follow_one_process_with_the_whole_batch(cli, tiny_models, tmp_path):
    """torchrun x 2 with ZeRO-2 and 4 per rank makes the updates of one process with 8: every
    rank prepares the same weights and plan, and the loop splits each global batch."""
    import os
    (tmp_path / "train.jsonl").write_bytes(_make(cli, 32, 1))
    common = ["--num-train-epochs", "2", "--weighting-epochs", "1", "--learning-rate", "1e-3",
              "--weighting-lr", "1e-3", "-q", str(tmp_path / "train.jsonl")]
    one = cli(["distill-kpod", "--model", tiny_models["llama"], "--output-dir",
               str(tmp_path / "one"), "--per-device-train-batch-size", "8", *common])
    assert one.rc == 0, one.stderr[-2000:]
    env = {k: v for k, v in os.environ.items()
           if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    p = subprocess.run([os.path.join(BIN, "torchrun"), "--nproc_per_node", "2",
                        "--master_port", "29657", os.path.join(BIN, "distill-kpod"),
                        "--model", tiny_models["llama"], "--output-dir", str(tmp_path / "two"),
                        "--per-device-train-batch-size", "4", "--zero", "2", *common],
                       capture_output=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    a = _lines(one)
    b = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert [r["step"] for r in b] == [r["step"] for r in a] and b[-1]["world_size"] == 2
    assert [r.get("generated") for r in b] == [r.get("generated") for r in a]
    assert [r["loss"] for r in b] == pytest.approx([r["loss"] for r in a], rel=2e-3)
    from thinkpipe.core.models import load
    assert load(str(tmp_path / "two")).model.config.model_type == "llama"
