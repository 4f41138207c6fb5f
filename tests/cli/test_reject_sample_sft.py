"""reject-sample and sft from the command line."""
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


def test_sampling_with_a_model_and_the_drawing_loop(cli, tiny_models, tmp_path):
    tasks = cli(["synth-draw", "--task", "maze", "--count", "2", "--canvas", "224"]).out
    rej = tmp_path / "rej.jsonl"
    r = cli(["reject-sample", "--model", tiny_models["qwen2-vl"], "--tools", "draw",
             "--num-samples", "2", "--max-turn-tokens", "24", "--max-turns", "3",
             "--require", "format", "--rejected", str(rej)], tasks)
    kept, dropped = r.out.splitlines(), rej.read_text().splitlines()
    assert r.rc == 0 and len(kept) + len(dropped) == 4
    sample = json.loads((kept + dropped)[0])
    assert sample["end_reason"] and sample["seed"] is not None and sample["num_turns"] >= 1
    again = cli(["reject-sample", "--model", tiny_models["qwen2-vl"], "--tools", "draw",
                 "--num-samples", "2", "--max-turn-tokens", "24", "--max-turns", "3",
                 "--require", "format", "--rejected", str(tmp_path / "rej2.jsonl")], tasks)
    assert again.out == r.out and (tmp_path / "rej2.jsonl").read_bytes() == rej.read_bytes()


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


def test_sft_usage_errors(cli, tiny_models, tmp_path):
    assert cli(["sft", "--output-dir", str(tmp_path)], b"").rc == 2                   # no --model
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path)], b"")
    assert r.rc == 2 and "no training examples" in r.stderr
    r = cli(["sft", "--model", tiny_models["llama"], "--output-dir", str(tmp_path)],
            b'{"messages": [{"role": "user", "content": "hi"}]}\n')
    assert r.rc == 65 and "<stdin>:1" in r.stderr


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
