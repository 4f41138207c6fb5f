"""reject-sample and sft from the command line."""
import pytest
import json

RESP = [
    {"id": "a", "question": "Which?", "options": ["x", "y"], "answer": "B", "task": "mc",
     "responses": ["<think>h</think><answer>B</answer>", "<answer>B</answer>", "<answer>A</answer>"]},
    {"id": "b", "question": "How many?", "answer": "3", "question_type": "numerical",
     "responses": ["<think>c</think><answer>3</answer>", "no idea"]},
]
DATA = "".join(json.dumps(r) + "\n" for r in RESP).encode()


def test_accepted_plus_rejected_is_sampled(cli, tmp_path):
    rej = tmp_path / "rej.jsonl"
    r = cli(["reject-sample", "--require", "correct,format", "--rejected", str(rej)], DATA)
    kept = [json.loads(x) for x in r.out.splitlines()]
    dropped = [json.loads(x) for x in rej.read_text().splitlines()]
    assert r.rc == 0 and len(kept) + len(dropped) == 5
    assert [k["id"] for k in kept] == ["a-s0", "b-s0"] and kept[0]["source_id"] == "a"
    assert {d["id"]: d["rejected_for"] for d in dropped}["a-s2"] == ["correct", "format"]
    assert "5 samples, 2 accepted" in r.stderr


def test_records_without_responses_have_nothing_to_sample(cli):
    r = cli(["reject-sample"], b'{"id": "x", "question": "q", "answer": "a"}\n')
    assert r.rc == 0 and r.out == b"" and "give --model" in r.stderr
    r = cli(["reject-sample"], b'{"id": "x", "answer": "a", "responses": [3]}\n')
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "responses[0]" in r.stderr


@pytest.mark.slow
def test_sampling_with_a_model_and_the_drawing_loop(cli, tiny_models, tmp_path):
    tasks = cli(["synth-draw", "--task", "maze", "--count", "2", "--canvas", "224"]).out
    rej = tmp_path / "rej.jsonl"
    r = cli(["reject-sample", "--model", tiny_models["qwen2-vl"], "--tools", "draw",
             "--num-samples", "2", "--max-turn-tokens", "24", "--max-turns", "3",
             "--require", "format", "--rejected", str(rej)], tasks)
    kept, dropped = r.out.splitlines(), rej.read_text().splitlines()
    assert r.rc == 0 and len(kept) + len(dropped) == 4
    sample = json.loads((kept + dropped)[0])
    assert sample["finish_reason"] and sample["seed"] is not None and sample["num_turns"] >= 1
    again = cli(["reject-sample", "--model", tiny_models["qwen2-vl"], "--tools", "draw",
                 "--num-samples", "2", "--max-turn-tokens", "24", "--max-turns", "3",
                 "--require", "format", "--rejected", str(tmp_path / "rej2.jsonl")], tasks)
    assert again.out == r.out and (tmp_path / "rej2.jsonl").read_bytes() == rej.read_bytes()


@pytest.mark.slow
def test_sft_trains_saves_and_resumes(cli, tiny_models, tmp_path):
    data = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                            {"role": "assistant", "content": f"<answer>{i}</answer>"}]}) + "\n"
                   for i in range(16)).encode()
    out = tmp_path / "ckpt"
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(out), "--max-steps", "6",
             "--learning-rate", "5e-3", "--per-device-train-batch-size", "4"], data)
    rows = [json.loads(x) for x in r.out.splitlines()]
    assert r.rc == 0 and [x["step"] for x in rows] == list(range(1, 7))
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
    again = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(out), "--max-steps", "8",
                 "--learning-rate", "5e-3", "--per-device-train-batch-size", "4", "--resume", "auto"], data)
    assert [json.loads(x)["step"] for x in again.out.splitlines()] == [7, 8]


@pytest.mark.slow
def test_sft_usage_errors(cli, tiny_models, tmp_path):
    assert cli(["sft", "--output-dir", str(tmp_path)], b"").rc == 2                   # no --model
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path)], b"")
    assert r.rc == 2 and "no training examples" in r.stderr
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path)],
            b'{"messages": [{"role": "user", "content": "hi"}]}\n')
    assert r.rc == 65 and "<stdin>:1" in r.stderr


@pytest.mark.slow
def test_torchrun_ranks_merge_in_input_order(cli, tmp_path):
    import os
    import sys
    data = b"".join(json.dumps({**r, "id": f"{r['id']}{i}"}).encode() + b"\n"
                    for i in range(5) for r in RESP)
    (tmp_path / "in.jsonl").write_bytes(data)
    one = cli(["reject-sample", "--require", "correct", str(tmp_path / "in.jsonl"),
               "-o", str(tmp_path / "one.jsonl"), "--rejected", str(tmp_path / "r1.jsonl")])
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    script = os.path.join(os.path.dirname(sys.executable), "reject-sample")
    two = cli([torchrun, "--nproc_per_node", "2", "--master_port", "29631", script, "--require",
               "correct", str(tmp_path / "in.jsonl"), "-o", str(tmp_path / "two.jsonl"),
               "--rejected", str(tmp_path / "r2.jsonl")],
              )
    assert one.rc == 0 and two.rc == 0, two.stderr[-2000:]
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()
    assert (tmp_path / "r1.jsonl").read_bytes() == (tmp_path / "r2.jsonl").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))


def _out(r):
    return [json.loads(x) for x in r.out.splitlines()]


def test_option_text_golds_and_a_clear_summary(cli):
    data = b"".join(json.dumps(r).encode() + b"\n" for r in [
        {"id": "c", "options": ["cat", "dog", "bird", "fish"], "answer": "dog", "responses": ["dog", "B"]},
        {"id": "y", "options": ["Yes", "No"], "answer": "Yes", "responses": ["Yes"]},
        {"id": "m", "options": list("wxyz"), "answer": "AC", "responses": ["AC", "(A) or (C)"]},
        {"id": "n", "question": "q"}])
    r = cli(["reject-sample", "--require", "correct"], data)
    assert r.rc == 0 and [k["id"] for k in _out(r)] == ["c-s0", "c-s1", "y-s0", "m-s0"]
    assert "4 records read, 3 with samples: 5 samples, 4 accepted" in r.stderr


def test_a_rollout_record_is_one_sample_and_a_cut_off_one_is_truncated(cli, tmp_path):
    rollout = {"id": "p-step1-g0-s0", "question": "How many?", "answer": "7",
               "question_type": "numerical", "response": "3 + 4 = 7 and so", "finish_reason": "length"}
    r = cli(["reject-sample", "--require", "correct", "--rejected", str(tmp_path / "rej.jsonl")],
            (json.dumps(rollout) + "\n").encode())
    out = [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert r.rc == 0 and len(out) == 1 and out[0]["status"] == "truncated"
    assert out[0]["finish_reason"] == "length"
    r = cli(["reject-sample", "--require", "correct"],
            (json.dumps({**rollout, "finish_reason": "stop"}) + "\n").encode())
    assert [o["status"] for o in _out(r)] == ["correct"]


def test_require_correct_needs_a_gold_answer_and_keep_needs_one_sample(cli):
    r = cli(["reject-sample", "--require", "correct"], b'{"id": "x", "responses": ["<answer>1</answer>"]}\n')
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "gold `answer`" in r.stderr
    assert cli(["reject-sample", "--keep", "0"], DATA).rc == 2


@pytest.mark.slow
def test_generation_meets_bad_records_under_the_error_policy(cli, tiny_models, red_png, tmp_path):
    data = (json.dumps({"id": "1", "question": "Q?", "answer": "A", "images": ["nope.png"]}) + "\n" +
            json.dumps({"id": "2", "question": "Q?", "answer": "A"}) + "\n").encode()
    cmd = ["reject-sample", "--model", tiny_models["qwen2-vl"], "--num-samples", "1",
           "--max-turn-tokens", "4", "--require", "format"]
    r = cli(cmd, data)
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "nope.png" in r.stderr
    r = cli(cmd + ["--on-error", "skip", "--rejected", str(tmp_path / "rej.jsonl")], data)
    both = _out(r) + [json.loads(x) for x in (tmp_path / "rej.jsonl").read_text().splitlines()]
    assert r.rc == 0 and {o["source_id"] for o in both} == {"2"}
    text = (json.dumps({"id": "3", "question": "Q?", "answer": "A", "images": [red_png]}) + "\n").encode()
    r = cli(["reject-sample", "--model", tiny_models["llama"], "--num-samples", "1"], text)
    assert r.rc == 65 and "text-only" in r.stderr


def _sft(cli, model, out, data, *extra):
    return cli(["sft", "--model", model, "--output-dir", str(out), "--per-device-train-batch-size",
                "2", "--learning-rate", "5e-3", *extra], data)


@pytest.mark.slow
def test_a_non_empty_output_dir_is_refused_and_a_finished_resume_leaves_the_model(cli, tiny_models, tmp_path):
    data = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                            {"role": "assistant", "content": f"{i}"}]}) + "\n"
                   for i in range(8)).encode()
    out, model = tmp_path / "ckpt", tiny_models["llama"]
    assert _sft(cli, model, out, data, "--max-steps", "4", "--save-steps", "2").rc == 0
    weights = (out / "model.safetensors").read_bytes()
    r = _sft(cli, model, out, data, "--max-steps", "2")
    assert r.rc == 2 and "not empty" in r.stderr and "--overwrite-output-dir" in r.stderr
    r = _sft(cli, model, out, data, "--max-steps", "3", "--resume", "auto")
    assert r.rc == 0 and r.out == b"" and "nothing to train" in r.stderr
    assert (out / "model.safetensors").read_bytes() == weights
    r = _sft(cli, model, out, data, "--max-steps", "1", "--overwrite-output-dir")
    assert r.rc == 0 and [x["step"] for x in _out(r)] == [1]
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1"]
    (tmp_path / "in.jsonl").write_bytes(data if isinstance(data, bytes) else data.encode())
    r = _sft(cli, model, tmp_path / "new", data, "--max-steps", "1", "--resume", str(tmp_path / "in.jsonl"))
    assert r.rc == 2 and "that is a record file" in r.stderr and "--resume auto" in r.stderr
    r = _sft(cli, model, tmp_path / "new", data, "--max-steps", "1", "--lr-scheduler-type",
             "cosine_with_min_lr")
    assert r.rc == 0


@pytest.mark.slow
def test_truncation_that_leaves_no_assistant_token_is_skipped_and_counted(cli, tiny_models, tmp_path):
    long_prompt = {"messages": [{"role": "user", "content": "word " * 200},
                                {"role": "assistant", "content": "yes"}]}
    short = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yes"}]}
    r = _sft(cli, tiny_models["llama"], tmp_path / "a", (json.dumps(long_prompt) + "\n").encode(),
             "--max-seq-length", "64", "--max-steps", "1")
    assert r.rc == 2 and "no training examples" in r.stderr and "--max-seq-length 64" in r.stderr
    data = "".join(json.dumps(x) + "\n" for x in [long_prompt, short, short]).encode()
    r = _sft(cli, tiny_models["llama"], tmp_path / "b", data, "--max-seq-length", "64", "--max-steps", "1")
    assert r.rc == 0 and "1 example(s) skipped" in r.stderr and _out(r)[0]["loss"] > 0


@pytest.mark.slow
def test_sft_reads_the_sharegpt_and_trl_image_layouts(cli, tiny_models, tmp_path):
    vl, llm = tiny_models["qwen2-vl"], tiny_models["llama"]
    media = tmp_path / "img"
    cli(["synth-draw", "--task", "maze", "--count", "2", "--canvas", "224", "--style", "sharegpt",
         "--media-dir", str(media), "-o", str(tmp_path / "m.jsonl")])
    records = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    data = (tmp_path / "m.jsonl").read_bytes()
    with_images = _sft(cli, vl, tmp_path / "a", data, "--max-steps", "1", "--max-seq-length", "4096")
    assert with_images.rc == 0, with_images.stderr
    stripped = b"".join(json.dumps({**r, "images": [], "messages": [
        {**m, "content": m["content"].replace("<image>", "")} for m in r["messages"]]}).encode() + b"\n"
        for r in records)
    text_only = _sft(cli, vl, tmp_path / "b", stripped, "--max-steps", "1", "--max-seq-length", "4096")
    assert _out(with_images)[0]["tokens"] > _out(text_only)[0]["tokens"]   # the images were seen
    short = json.dumps({**records[0], "images": records[0]["images"][:1]}).encode() + b"\n"
    r = _sft(cli, vl, tmp_path / "c", short, "--max-steps", "1")
    assert r.rc == 65 and "<stdin>:1" in r.stderr and "image placeholder" in r.stderr
    r = _sft(cli, llm, tmp_path / "d", data, "--max-steps", "1")
    assert r.rc == 65 and "text-only" in r.stderr
    trl = {"images": records[0]["images"][:1], "messages": [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is shown?"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A maze."}]}]}
    r = _sft(cli, vl, tmp_path / "e", (json.dumps(trl) + "\n").encode() * 2, "--max-steps", "1")
    assert r.rc == 0, r.stderr
    r = _sft(cli, llm, tmp_path / "f", (json.dumps(trl) + "\n").encode(), "--freeze-vision")
    assert r.rc == 2 and "text-only" in r.stderr


@pytest.mark.slow
def test_an_unwritable_output_dir_or_metrics_file_is_exit_73(cli, tiny_models, tmp_path):
    (tmp_path / "file").write_text("a file, not a folder")
    data = (json.dumps({"messages": [{"role": "user", "content": "hi"},
                                     {"role": "assistant", "content": "yo"}]}) + "\n").encode()
    r = _sft(cli, tiny_models["llama"], tmp_path / "file" / "ckpt", data, "--max-steps", "1")
    assert r.rc == 73 and "--output-dir" in r.stderr and "internal" not in r.stderr
    r = _sft(cli, tiny_models["llama"], tmp_path / "ok", data * 2, "--max-steps", "1",
             "--metrics", str(tmp_path / "file" / "m.jsonl"))
    assert r.rc == 73 and "--metrics" in r.stderr


@pytest.mark.slow
def test_a_resumed_run_keeps_the_metrics_file_one_run_long(cli, tiny_models, tmp_path):
    data = "".join(json.dumps({"messages": [{"role": "user", "content": f"say {i}"},
                                            {"role": "assistant", "content": f"{i}"}]}) + "\n"
                   for i in range(8)).encode()
    metrics = tmp_path / "m.jsonl"
    _sft(cli, tiny_models["llama"], tmp_path / "o", data, "--max-steps", "2", "--metrics", str(metrics))
    metrics.write_text(metrics.read_text() + json.dumps({"step": 3, "loss": 9}) + "\n")  # past the checkpoint
    _sft(cli, tiny_models["llama"], tmp_path / "o", data, "--max-steps", "4", "--metrics", str(metrics),
         "--resume", "auto")
    assert [json.loads(x)["step"] for x in metrics.read_text().splitlines()] == [1, 2, 3, 4]
    assert json.loads(metrics.read_text().splitlines()[2])["loss"] != 9
