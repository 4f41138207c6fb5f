"""grpo against TRL's GRPOTrainer on the same tiny model and task (bench/RESULTS.md).

    python bench/grpo.py          # about two minutes on 2 cores; needs trl (make bench)

TRL's CPU baseline (../shared/papers/baselines-grpo-io.md) in both: a tiny LLaMA from
`thinkpipe init-model --arch llama`, 64 chat prompts "Reply with the letter A/B.", reward 1 when
the completion contains that letter, G = 4, 8 completions per step, 32 new tokens, lr 1e-3,
beta 0.04 (a reference model is loaded), linear decay, 30 steps. TRL runs with gradient
checkpointing off (its faster setting here) and its 1.16 defaults otherwise (loss dapo,
scale_rewards group). Seconds per step = median over steps 3-30, rollout and update included,
measured in one run; thinkpipe's phases come from its own metrics.
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

STEPS = 30
REWARD = '''def reward(record):
    turns = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    return float(record["answer"] in (turns[-1] if turns else ""))
'''


def prompts() -> list[dict]:
    return [{"id": f"p{i}", "question": f"Reply with the letter {'AB'[i % 2]}.", "answer": "AB"[i % 2]}
            for i in range(64)]


def ours(model: str, root: str) -> dict:
    with open(os.path.join(root, "letter.py"), "w") as f:
        f.write(REWARD)
    with open(os.path.join(root, "p.jsonl"), "w") as f:
        f.writelines(json.dumps(p) + "\n" for p in prompts())
    cmd = [os.path.join(os.path.dirname(sys.executable), "grpo"), "--model", model, "--output-dir",
           os.path.join(root, "ours"), "--overwrite-output-dir", "--reward", "letter:reward", "--num-generations", "4",
           "--per-device-train-batch-size", "8", "--max-completion-length", "32",
           "--learning-rate", "1e-3", "--beta", "0.04", "--max-steps", str(STEPS), "p.jsonl", "-q"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=root).stdout
    rows = [json.loads(x) for x in out.splitlines()][2:]
    return {k: statistics.median(r[k] for r in rows)
            for k in ("step_s", "time_rollout", "time_reward", "time_update")}


def trl(model: str, root: str) -> float:
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t)

    def reward(completions, answer, **kw):
        return [float(a in c[-1]["content"]) for c, a in zip(completions, answer)]

    data = Dataset.from_list([{"prompt": [{"role": "user", "content": p["question"]}],
                               "answer": p["answer"]} for p in prompts()])
    cfg = GRPOConfig(output_dir=os.path.join(root, "trl"), num_generations=4,
                     per_device_train_batch_size=8, max_completion_length=32, learning_rate=1e-3,
                     beta=0.04, max_steps=STEPS, logging_steps=1, report_to="none", use_cpu=True,
                     bf16=False, save_strategy="no", seed=0, gradient_checkpointing=False)
    tok = AutoTokenizer.from_pretrained(model)
    trainer = GRPOTrainer(model=AutoModelForCausalLM.from_pretrained(model), reward_funcs=reward,
                          args=cfg, train_dataset=data, processing_class=tok, callbacks=[Clock()])
    trainer.train()
    return statistics.median(times[2:])


def main() -> None:
    from thinkpipe.core.models import build_tiny
    with tempfile.TemporaryDirectory() as root:
        model = os.path.join(root, "llama")
        build_tiny("llama", model)
        runs_ours, runs_trl = [], []
        for _ in range(2):                       # alternate, so a noisy minute hits both
            runs_ours.append(ours(model, root))
            runs_trl.append(trl(model, root))
        mine = min(runs_ours, key=lambda r: r["step_s"])
        theirs = min(runs_trl)
    rows = ["| trainer | s/step (median of steps 3-30, best of 2 runs) | ratio |", "|---|---:|---:|",
            f"| TRL 1.16 GRPOTrainer (gradient checkpointing off) | {theirs:.3f} | 1.00 |",
            f"| thinkpipe grpo | {mine['step_s']:.3f} | **{theirs / mine['step_s']:.2f}x** |"]
    text = "\n".join([
        "<!-- grpo:start -->", "## grpo (bench/grpo.py)", "",
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Machine: {machine()}.",
        "TRL's CPU baseline task in both (tiny LLaMA, G = 4, 8 completions/step, 32 tokens, "
        "lr 1e-3, beta 0.04 with a reference model, 30 steps); target thinkpipe >= 1.5x faster.", "",
        *rows, "",
        f"Where thinkpipe's step goes: rollout {mine['time_rollout'] * 1000:.0f} ms, rewards + "
        f"reference log-probs {mine['time_reward'] * 1000:.0f} ms, update "
        f"{mine['time_update'] * 1000:.0f} ms. cProfile of 40 steps: 55 ms/step in transformers' "
        "generate, of which 45 ms are the 34 forward passes of the model itself (~1.3 ms each for a "
        "2-layer, 64-wide model: Python overhead of the HF modules, not arithmetic). Both trainers "
        "decode with that same generate, so on a model this small neither can go much below it; "
        "a hand-written decode loop over the same forward measured only 6 ms faster per rollout. "
        "What thinkpipe removed: a multinomial call per row per token (now one uniform per row "
        "and one batched inverse-CDF search, 10 ms/step), re-tokenising completions (the update "
        "scores the sampled ids), and rendering a prompt once per group instead of G times. "
        "The 1.5x target needs a faster decoder than HF generate: the sampler is an "
        "interface (tools/grpo/sampler.py) for a vLLM sampler on GPU machines.",
        "<!-- grpo:end -->"]) + "\n"
    write_section(text, "grpo")
    print(text)


if __name__ == "__main__":
    main()
