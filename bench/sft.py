"""sft against TRL's SFTTrainer, and reject-sample's batching across records (bench/RESULTS.md).

    python bench/sft.py            # a few minutes on 2 cores; needs trl (make bench)

1. Training tokens/s on the same tiny LLaMA (thinkpipe init-model --arch llama) and the same 512
   chat records, batch 8, 40 steps, AdamW, full-precision CPU: `sft` (the shared loop) vs TRL
   1.16's SFTTrainer (gradient checkpointing off, no packing). Both count the tokens they feed
   the model (attention mask); the median step after warm-up is compared, in one run.
2. reject-sample's drawing loop on a tiny Qwen2.5-VL: trajectories/s when the samples of 8
   records share each generation batch (the default) vs one record's samples per batch.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402

STEPS, BATCH = 40, 8


def records(n: int) -> list[dict]:
    rng = random.Random(0)
    words = "the ball is left of the box and the path turns right twice before the goal".split()
    out = []
    for i in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30)))
        a = " ".join(rng.choice(words) for _ in range(rng.randint(8, 40)))
        out.append({"messages": [{"role": "user", "content": q + "?"},
                                 {"role": "assistant", "content": f"<think>{a}</think><answer>{i % 7}</answer>"}]})
    return out


def ours(model: str, data: str, root: str) -> float:
    cmd = [os.path.join(os.path.dirname(sys.executable), "sft"), "--model", model, "--output-dir",
           os.path.join(root, "ours"), "--overwrite-output-dir", "--max-steps", str(STEPS),
           "--per-device-train-batch-size",
           str(BATCH), "--learning-rate", "1e-3", "--no-group-by-length", data]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = [json.loads(x) for x in out.splitlines()]
    return statistics.median(r["tokens_per_s"] for r in rows[3:])


def trl(model: str, recs: list[dict], root: str) -> float:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    tok = AutoTokenizer.from_pretrained(model)
    tok.padding_side = "right"
    times, tokens = [], []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t)

    torch.manual_seed(0)
    cfg = SFTConfig(output_dir=os.path.join(root, "trl"), max_steps=STEPS,
                    per_device_train_batch_size=BATCH, learning_rate=1e-3, logging_steps=1,
                    report_to="none", use_cpu=True, save_strategy="no", max_length=2048,
                    gradient_checkpointing=False, packing=False, dataloader_num_workers=0)
    trainer = SFTTrainer(model=AutoModelForCausalLM.from_pretrained(model), args=cfg,
                         train_dataset=Dataset.from_list(recs), processing_class=tok,
                         callbacks=[Clock()])
    loader = iter(trainer.get_train_dataloader())
    for _ in range(STEPS):
        tokens.append(int(next(loader)["attention_mask"].sum()))
    trainer.train()
    rates = [n / t for n, t in zip(tokens, times)]
    return statistics.median(rates[3:])


def rollout_rates(root: str) -> tuple[float, float]:
    from thinkpipe.core.drawing.rollout import RolloutConfig
    from thinkpipe.core.models import build_tiny, load
    from thinkpipe.tools.reject_sample import RejectConfig, process
    from thinkpipe.tools.synth_draw import SynthConfig, make_record

    path = os.path.join(root, "vl")
    build_tiny("qwen2-vl", path)
    bundle = load(path)
    tasks = [make_record(SynthConfig(tasks=("maze",), canvas=224, maze_sizes=(3,)), i) for i in range(8)]
    rates = []
    for per_batch in (8, 1):
        cfg = RejectConfig(num_samples=4, records_per_batch=per_batch,
                           rollout=RolloutConfig(tools="draw", max_turn_tokens=48, max_turns=3,
                                                 temperature=1.0, batch_size=32))
        start = time.perf_counter()
        n = sum(len(s) for _, s in process(((i, "b", dict(t)) for i, t in enumerate(tasks)),
                                           cfg, bundle, []))
        rates.append(n / (time.perf_counter() - start))
    return rates[0], rates[1]


def main() -> None:
    from thinkpipe.core.models import build_tiny
    with tempfile.TemporaryDirectory() as root:
        model = os.path.join(root, "llama")
        build_tiny("llama", model)
        recs = records(512)
        data = os.path.join(root, "data.jsonl")
        with open(data, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in recs)
        mine, theirs = ours(model, data, root), trl(model, recs, root)
        batched, unbatched = rollout_rates(root)
    text = "\n".join([
        "<!-- sft:start -->", "## sft and reject-sample (bench/sft.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        f"Tiny LLaMA (~200k parameters), 512 chat records, batch {BATCH}, {STEPS} steps, CPU float32; "
        "median tokens/s over steps 4-40 (tokens = attention mask).", "",
        "| trainer | tokens/s | ratio |", "|---|---:|---:|",
        f"| TRL 1.16 SFTTrainer | {theirs:,.0f} | 1.00 |",
        f"| thinkpipe sft | {mine:,.0f} | **{mine / theirs:.2f}x** |", "",
        "reject-sample, drawing loop, tiny Qwen2.5-VL, 8 maze tasks x 4 samples (<= 3 turns of "
        "<= 48 tokens):", "",
        "| batching | trajectories/s | ratio |", "|---|---:|---:|",
        f"| one record's samples per batch | {unbatched:.1f} | 1.00 |",
        f"| samples of 8 records per batch (default) | {batched:.1f} | **{batched / unbatched:.1f}x** |",
        "<!-- sft:end -->"]) + "\n"
    write_section(text, "sft")
    print(text)


if __name__ == "__main__":
    main()
