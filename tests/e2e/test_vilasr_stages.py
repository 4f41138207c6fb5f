"""VILASR stages 1-2 end to end on a tiny Qwen2.5-VL, through the real executables.

init-model -> synth-draw --count 64 -> sft -> synth-draw | reject-sample --tools draw
--require format -> sft again on the accepted samples.

What is asserted is what is true of a ~200k-parameter model: the loss falls; the filter's
counts add up; accepted samples are format-valid multi-turn drawing trajectories; the second
fine-tune trains on them. A model this small cannot learn 64 drawing traces in CI time, but it
memorises four, so stage 1 trains on the first 4 of the 64 (--limit 4) and stage 2 samples
those same tasks — the way to get well-formed trajectories out of a tiny model to filter.
"""
import json

import pytest

TASKS = ["--task", "maze", "--maze-sizes", "3", "--canvas", "224", "--maze-questions", "reachable",
         "--reflection-rate", "0"]


@pytest.mark.slow
def test_cold_start_then_reflective_rejection_sampling(cli, tmp_path):
    assert cli(["thinkpipe", "init-model", "--arch", "qwen2-vl", str(tmp_path / "base")]).rc == 0
    cold = cli(["synth-draw", *TASKS, "--count", "64"])
    assert cold.rc == 0 and len(cold.out.splitlines()) == 64

    sft1 = cli(["sft", "--model", str(tmp_path / "base"), "--output-dir", str(tmp_path / "cold"),
                "--limit", "4", "--max-steps", "120", "--per-device-train-batch-size", "4",
                "--learning-rate", "5e-3", "--lr-scheduler-type", "constant", "--warmup-ratio", "0",
                "--max-seq-length", "4096"], cold.out, timeout=900)
    losses = [json.loads(x)["loss"] for x in sft1.out.splitlines()]
    assert sft1.rc == 0 and len(losses) == 120
    assert losses[0] > 5 and losses[-1] < 0.05 * losses[0]        # the stated margin

    tasks = b"".join(cold.out.splitlines(keepends=True)[:4])
    rejected = tmp_path / "rejected.jsonl"
    rrs = cli(["reject-sample", "--model", str(tmp_path / "cold"), "--tools", "draw",
               "--num-samples", "4", "--temperature", "0.5", "--max-turn-tokens", "256",
               "--max-turns", "6", "--require", "format", "--rejected", str(rejected)], tasks)
    kept = [json.loads(x) for x in rrs.out.splitlines()]
    dropped = [json.loads(x) for x in rejected.read_text().splitlines()]
    assert rrs.rc == 0 and len(kept) + len(dropped) == 16            # accepted + rejected = sampled
    assert len(kept) >= 8, rrs.stderr                                 # memorised: mostly well formed
    for rec in kept:
        assert rec["format"] == 1.0 and rec["finish_reason"] == "answer" and rec["num_turns"] >= 3
    assert len({(r["source_id"], r["seed"]) for r in kept + dropped}) == 16

    sft2 = cli(["sft", "--model", str(tmp_path / "cold"), "--output-dir", str(tmp_path / "rrs"),
                "--max-steps", "3", "--per-device-train-batch-size", "2", "--learning-rate", "1e-4",
                "--max-seq-length", "4096"], rrs.out, timeout=600)
    rows = [json.loads(x) for x in sft2.out.splitlines()]
    assert sft2.rc == 0 and [r["step"] for r in rows] == [1, 2, 3]
    assert (tmp_path / "rrs" / "model.safetensors").exists()
    assert (tmp_path / "rrs" / "processor_config.json").exists()
