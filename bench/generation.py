"""Generation and training throughput of the core engine on tiny models (bench/RESULTS.md).

    python bench/generation.py            # a few minutes on 2 CPU cores

1. Generation: tokens/s of core.models.generate (left-padded batches) against the loop users
   write first, one `model.generate` call per prompt, on the same tiny model, prompts and
   decoding length (greedy; EOS disabled so every prompt decodes the same number of tokens).
2. Training: tokens/s of the shared loop on one process against ZeRO-2 on two ranks (torchrun,
   gloo), same global batch, via `python -m thinkpipe.cli.selfcheck`; median over steps after
   the first two.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from _common import machine, write_section  # noqa: E402


def generation(arch: str, root: str, n_prompts: int, new_tokens: int, batch: int) -> dict:
    import torch

    from thinkpipe.core.models import Sampling, build_tiny, generate, load, prompt_messages
    from thinkpipe.core.models.chat import encode, render

    path = os.path.join(root, arch)
    build_tiny(arch, path)
    bundle = load(path, device="cpu")
    questions = [f"Question {i}: which path from the start reaches the goal in "
                 f"{'the fewest ' * (i % 4)}turns?" for i in range(n_prompts)]
    convs = [prompt_messages({"question": q}) for q in questions]
    greedy = Sampling(temperature=0, max_new_tokens=new_tokens, ignore_eos=True)
    generate(bundle, convs[:batch], greedy, batch_size=batch)  # warm-up
    t = time.perf_counter()
    out = generate(bundle, convs, greedy, batch_size=batch)
    batched_s = time.perf_counter() - t
    tokens = sum(len(c.token_ids) for c in out)
    t = time.perf_counter()
    naive_tokens = 0
    no_eos = bundle.model.generation_config
    no_eos.eos_token_id = None
    with torch.inference_mode():
        for conv in convs:
            inputs = encode(bundle, [render(bundle, conv)])
            ids = bundle.model.generate(**inputs, max_new_tokens=new_tokens, do_sample=False,
                                        generation_config=no_eos,
                                        pad_token_id=bundle.tokenizer.pad_token_id)
            naive_tokens += ids.shape[1] - inputs["input_ids"].shape[1]
    naive_s = time.perf_counter() - t
    return {"arch": arch, "prompts": n_prompts, "new_tokens": new_tokens, "batch": batch,
            "batched_tok_s": tokens / batched_s, "naive_tok_s": naive_tokens / naive_s,
            "same_tokens": tokens == naive_tokens}


def training(root: str, ranks: int, zero: int | None, steps: int) -> float:
    cmd = [sys.executable, "-m", "thinkpipe.cli.selfcheck", "--output-dir",
           os.path.join(root, f"train-{ranks}"), "--steps", str(steps), "--seq-len", "128",
           "--examples", "512", "--per-device-train-batch-size", str(8 // ranks)]
    if zero is not None:
        cmd += ["--zero", str(zero)]
    if ranks > 1:
        cmd = [os.path.join(os.path.dirname(sys.executable), "torchrun"), "--nproc_per_node",
               str(ranks), "--master_port", "29651", *cmd[1:]]
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return statistics.median(r["tokens_per_s"] for r in rows[2:])


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        gens = [generation("llama", root, 32, 48, 16), generation("qwen2-vl", root, 32, 48, 16)]
        single = training(root, 1, None, 12)
        zero2 = training(root, 2, 2, 12)
    rows = ["| model | prompts x new tokens | batch | batched tok/s | one-at-a-time tok/s | ratio "
            "| same token count |", "|---|---:|---:|---:|---:|---:|---|"]
    for g in gens:
        rows.append(f"| tiny {g['arch']} | {g['prompts']} x {g['new_tokens']} | {g['batch']} | "
                    f"{g['batched_tok_s']:,.0f} | {g['naive_tok_s']:,.0f} | "
                    f"**{g['batched_tok_s'] / g['naive_tok_s']:.1f}x** | {g['same_tokens']} |")
    text = "\n".join([
        "<!-- generation:start -->",
        "## Generation and training engine (bench/generation.py)",
        "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        "Tiny random models from `thinkpipe init-model` (~200k parameters), float32 on the CPU, "
        "greedy decoding with EOS ignored (`Sampling(ignore_eos=True)`) so both sides decode the "
        "same number of tokens.",
        "",
        *rows,
        "",
        "Training, tiny LLaMA, 128-token sequences, global batch 8, median tokens/s over steps 3-12:",
        "",
        "| setup | tokens/s | ratio |",
        "|---|---:|---:|",
        f"| one process (2 torch threads) | {single:,.0f} | 1.00 |",
        f"| ZeRO-2, 2 ranks (torchrun, gloo) | {zero2:,.0f} | {zero2 / single:.2f} |",
        "",
        "On 2 cores the two ranks share the cores one process already used, so ZeRO-2 here can "
        "only add communication; the row shows the cost of the distributed path, not a speed-up.",
        "<!-- generation:end -->",
    ]) + "\n"
    write_section(text, "generation")
    print(text)


if __name__ == "__main__":
    main()
