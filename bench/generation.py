"""Generation and training throughput of the core engine on tiny models (bench/RESULTS.md).

    python bench/generation.py            # a few minutes on 2 CPU cores

1. Generation: tokens/s of core.models.generate (left-padded batches) against the loop users
   write first, one `model.generate` call per prompt, on the same tiny model, prompts and
   decoding length (greedy; EOS disabled so every prompt decodes the same number of tokens).
2. Decoders (core/models/decoding.py): tokens/s of `hf` (transformers' generate), `loop` and
   `static` at batch 8 and 32, the same prompts (of different lengths), seeds and 32 sampled
   tokens a row (temperature 1; EOS off so every row decodes them all), ROUNDS rounds in a
   rotated order; `forward` is the lower bound of a decoder over the model's forward, the same
   32 forward calls with an argmax and no rules. static's first call at each batch size
   compiles (an empty inductor cache), timed apart.
3. Training: tokens/s of the shared loop on one process against ZeRO-2 on two ranks (torchrun,
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

ROUNDS, NEW_TOKENS = 7, 32


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


def forward_only(model, batch: dict, new_tokens: int):
    """The decode's forward calls alone (DynamicCache, argmax): no rules, no sampler."""
    import torch
    from transformers import DynamicCache

    from thinkpipe.core.models.decoding import positions

    cache, pos = DynamicCache(config=model.config), positions(batch["attention_mask"])
    mask, ids = batch["attention_mask"], batch["input_ids"]
    with torch.inference_mode():
        for _ in range(new_tokens):
            out = model(input_ids=ids, attention_mask=mask, position_ids=pos, cache=cache,
                        logits_to_keep=1, use_cache=True)
            ids, pos = out.logits[:, -1].argmax(-1, keepdim=True), pos[:, -1:] + 1
            mask = torch.cat([mask, mask.new_ones((len(ids), 1))], -1)


def decoders(path: str, batch: int) -> dict:
    """Seconds per call of each decoder over ROUNDS rotated rounds, static's first call, and
    whether each path's tokens equal hf's."""
    from dataclasses import replace

    from thinkpipe.core.models import Sampling, encode, generate_rendered, load, prompt_messages, render

    bundle = load(path, device="cpu")
    bundle.model.generation_config.eos_token_id = None    # every row decodes NEW_TOKENS
    prompts = [render(bundle, prompt_messages({"question": f"Question {i}: which path reaches "
                                               f"the goal in {'the fewest ' * (i % 5)}turns?"}))
               for i in range(batch)]
    seeds = list(range(batch))
    hot = Sampling(temperature=1.0, max_new_tokens=NEW_TOKENS, ignore_eos=True)
    calls = {d: (lambda d=d: generate_rendered(bundle, prompts, replace(hot, decoder=d), seeds))
             for d in ("hf", "loop", "static")}
    encoded = encode(bundle, prompts)
    calls["forward"] = lambda: forward_only(bundle.model, encoded, NEW_TOKENS)
    tokens, first = {}, {}
    for d in ("hf", "loop", "static", "forward"):      # the first calls: warm-up, and compile
        t = time.perf_counter()
        out = calls[d]()
        first[d] = time.perf_counter() - t
        if d != "forward":
            tokens[d] = [c.sampled_ids for c in out]
    times: dict[str, list[float]] = {d: [] for d in calls}
    order = list(calls)
    for r in range(ROUNDS):
        for d in order[r % len(order):] + order[:r % len(order)]:
            t = time.perf_counter()
            calls[d]()
            times[d].append(time.perf_counter() - t)
    assert all(len(ids) == NEW_TOKENS for ids in tokens["hf"])
    return {"batch": batch, "times": times, "lengths": [int(n) for n in encoded["attention_mask"].sum(1)],
            "compile_s": first["static"] - statistics.median(times["static"]),
            "same": {d: tokens[d] == tokens["hf"] for d in tokens}}


def decoder_rows(results: list[dict]) -> list[str]:
    rows = ["| decoder | batch | tok/s (median) | tok/s range | vs hf | tokens = hf's |",
            "|---|---:|---:|---:|---:|---|"]
    for res in results:
        n = res["batch"] * NEW_TOKENS
        hf = statistics.median(res["times"]["hf"])
        for d, ts in res["times"].items():
            med = statistics.median(ts)
            rows.append(f"| {d} | {res['batch']} | {n / med:,.0f} | {n / max(ts):,.0f}-"
                        f"{n / min(ts):,.0f} | {hf / med:.2f}x | {res['same'].get(d, '-')} |")
    return rows


def decoder_text(results: list[dict]) -> list[str]:
    def tok_s(res, d):
        return res["batch"] * NEW_TOKENS / statistics.median(res["times"][d])
    small, big = results
    growth = ", ".join(f"{d} {tok_s(big, d) / tok_s(small, d):.1f}x"
                       for d in ("hf", "loop", "static", "forward"))
    return [
        f"Decoders, tiny llama, {NEW_TOKENS} sampled tokens a row (temperature 1, seeds 0..B-1, "
        f"EOS off), prompts of {min(big['lengths'])}-{max(big['lengths'])} tokens, {ROUNDS} rounds "
        "in rotated order "
        "(core/models/decoding.py):", "",
        *decoder_rows(results), "",
        f"static's first call compiles the decode step (empty inductor cache): "
        f"{small['compile_s']:.0f} s at batch {small['batch']}, {big['compile_s']:.0f} s more at "
        f"batch {big['batch']}. Cost and work: tokens/s at batch {big['batch']} vs "
        f"{small['batch']}: {growth} ({big['batch'] // small['batch']}x the rows; what falls "
        "short of that is the part of a step that grows with the rows, the rest is per-kernel and "
        "Python overhead at this width). hf minus loop is generate's own machinery; loop minus "
        "forward is our rules (sampler, EOS, stop strings).",
        ""]


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
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as root:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(root, "inductor")  # a cold compile
        gens = [generation("llama", root, 32, 48, 16), generation("qwen2-vl", root, 32, 48, 16)]
        decoding = [decoders(os.path.join(root, "llama"), b) for b in (8, 32)]
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
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}. "
        f"Load average at the start: {load:.2f}.",
        "Tiny random models from `thinkpipe init-model` (~200k parameters), float32 on the CPU, "
        "greedy decoding with EOS ignored (`Sampling(ignore_eos=True)`) so both sides decode the "
        "same number of tokens.",
        "",
        *rows,
        "",
        *decoder_text(decoding),
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
