"""KPOD vs plain CoT distillation: the same student, data and budget, held-out answer accuracy.

    python bench/kpod.py                      # (a) synthetic arithmetic, tiny student, 3 seeds
    python bench/kpod.py --gsm8k 128          # and (b) a GSM8K subset with SmolLM2-135M
    python bench/kpod.py --seeds 0 --epochs 4 # quicker

(a) Multi-step arithmetic with filler words (distill-kpod --make): a tiny LLaMA whose tokenizer
was trained with the task's words (1.1M parameters) is first distilled plainly on a separate
pretraining split, so the student before distillation (KPOD's theta_s^pre, and the answer
predictor's copy) can read a rationale, as the paper's pretrained LLaMA can. From that one
checkpoint each method trains the same epochs on the same 2000 rationales; accuracy is
`thinkpipe eval --model` on 200 unseen questions (greedy; the answer is read from "the answer
is N"). (b) GSM8K (../shared/data/gsm8k; skipped when absent): the worked solutions as
rationales (calculator annotations stripped), SmolLM2-135M-Instruct (init-model --arch smollm2)
as the student, one seed. Everything runs through the commands, as a user would.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import machine, write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GSM8K = os.path.join(ROOT, "..", "shared", "data", "gsm8k")
TEST_GSM8K = 50


def sh(*args: str, out: str | None = None) -> float:
    t0 = time.time()
    with open(out, "wb") if out else open(os.devnull, "wb") as f:
        r = subprocess.run(list(args), stdout=f, stderr=subprocess.PIPE)
    if r.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{r.stderr.decode()[-3000:]}")
    return time.time() - t0


def accuracy(path: str) -> float:
    rows = [json.loads(line) for line in open(path)]
    return sum(r["score"] or 0 for r in rows) / len(rows)


def tiny_student(work: str) -> str:
    from thinkpipe.core.models.tiny import TinySpec, build_tiny
    from thinkpipe.tools.kpod.synthetic import arithmetic
    texts = tuple(t for r in arithmetic(400, seed=99) for t in (r["question"], r["rationale"]))
    path = os.path.join(work, "tiny")
    build_tiny("llama", path, TinySpec(corpus=texts, hidden_size=128, intermediate_size=256,
                                       num_layers=4, initializer_range=0.02))
    return path


def run_method(work, student, method, data, test, seed, epochs, lr, batch, max_new, extra=(),
               label="", reuse=False):
    """Train one student and score it; with `reuse`, a run whose files exist is read back."""
    out = os.path.join(work, f"{method}{label}-{seed}")
    train_s = None
    if not (reuse and os.path.exists(out + ".scored.jsonl")):
        train_s = sh("distill-kpod", "--model", student, "--method", method, "--output-dir",
                     out, "--overwrite-output-dir", "--num-train-epochs", str(epochs),
                     "--learning-rate", str(lr), "--per-device-train-batch-size", str(batch),
                     "--seed", str(seed), "--eval-file", test, *extra, data,
                     out=out + ".metrics.jsonl")
        sh("thinkpipe", "eval", "--model", out, "--max-new-tokens", str(max_new), "-q", test,
           out=out + ".scored.jsonl")
        with open(out + ".train_s", "w") as f:
            f.write(f"{train_s:.1f}")
    if os.path.exists(out + ".train_s"):
        train_s = float(open(out + ".train_s").read())
    metrics = [json.loads(line) for line in open(out + ".metrics.jsonl")]
    return {"method": method, "variant": label.strip("_").replace("_", " "), "seed": seed,
            "accuracy": accuracy(out + ".scored.jsonl"),
            "eval_loss": [m["eval_loss"] for m in metrics if "eval_loss" in m][-1],
            "kept": kept(out), "train_s": round(train_s, 1) if train_s else "-"}


def kept(out: str) -> str:
    """The share of rationale tokens the weighting module keeps (w > 0.5), or - without one."""
    import torch
    path = os.path.join(out, "kpod_prepared.pt")
    w = torch.load(path, weights_only=False)["weights"] if os.path.exists(path) else None
    if not w:
        return "-"
    flat = [x for ws in w for x in ws]
    return f"{sum(x > 0.5 for x in flat) / len(flat):.0%} (mean w {sum(flat) / len(flat):.2f})"


# Seed-0 variants: which part moves the result, and whether a milder weighting changes it.
ABLATIONS = [("schedule-only", (), ""), ("weights-only", (), ""),
             ("kpod", ("--alpha", "0.1"), "_alpha_0.1")]


def synthetic(work: str, seeds: list[int], epochs: int, n_train: int, reuse: bool,
              ablations: bool) -> list[dict]:
    paths = {k: os.path.join(work, f"{k}.jsonl") for k in ("pre", "train", "test")}
    for k, (n, s) in {"pre": (400, 101), "train": (n_train, 1), "test": (200, 7)}.items():
        sh("distill-kpod", "--make", str(n), "--seed", str(s), out=paths[k])
    base = os.path.join(work, "base")
    if not (reuse and os.path.exists(os.path.join(base, "config.json"))):
        sh("distill-kpod", "--model", tiny_student(work), "--method", "plain", "--output-dir",
           base, "--overwrite-output-dir", "--num-train-epochs", "4", "--learning-rate", "2e-3",
           "--per-device-train-batch-size", "8", "-q", paths["pre"])
    runs = [(m, (), "", seed) for seed in seeds for m in ("plain", "kpod")]
    runs += [(m, extra, label, seeds[0]) for m, extra, label in ABLATIONS] if ablations else []
    rows = []
    for method, extra, label, seed in runs:
        rows.append(run_method(work, base, method, paths["train"], paths["test"], seed, epochs,
                               2e-3, 16, 96, ("--weighting-lr", "1e-3", "--weighting-epochs",
                                              "4", *extra), label, reuse))
        print(rows[-1], file=sys.stderr)
    return rows


def gsm8k(work: str, n: int, epochs: int, reuse: bool) -> list[dict]:
    def adapt(src, dst, count):
        with open(dst, "w") as f:
            for i, line in enumerate(open(src)):
                if i >= count:
                    break
                r = json.loads(line)
                solution, answer = r["answer"].rsplit("####", 1)
                f.write(json.dumps({"id": f"gsm-{i}", "question": r["question"],
                                    "rationale": solution.strip(),
                                    "answer": answer.strip().replace(",", "")}) + "\n")
    student = os.path.join(work, "smollm2")
    work = os.path.join(work, "gsm8k")
    os.makedirs(work, exist_ok=True)
    train, test = os.path.join(work, "gsm-train.jsonl"), os.path.join(work, "gsm-test.jsonl")
    adapt(os.path.join(GSM8K, "train.jsonl"), train, n)
    adapt(os.path.join(GSM8K, "test.jsonl"), test, TEST_GSM8K)
    if not os.path.exists(os.path.join(student, "config.json")):
        sh("thinkpipe", "init-model", "--arch", "smollm2", student)
    rows = []
    for method in ("plain", "kpod"):
        rows.append(run_method(work, student, method, train, test, 0, epochs, 1e-5, 4, 256,
                               ("--calculator", "strip", "--split", "newline",
                                "--weighting-epochs", "1", "--weighting-lr", "1e-4",
                                "--max-seq-length", "512"), reuse=reuse))
        print(rows[-1], file=sys.stderr)
    return rows


def table(rows: list[dict]) -> str:
    lines = ["| method | seed | held-out accuracy | held-out loss | tokens kept | train s |",
             "| --- | ---: | ---: | ---: | --- | ---: |"]
    lines += [f"| {r['method']} {r['variant']} | {r['seed']} | {r['accuracy']:.1%} | {r['eval_loss']:.4f} | "
              f"{r['kept']} | {r['train_s']} |" for r in rows]
    for m in ("plain", "kpod"):
        acc = [r["accuracy"] for r in rows if r["method"] == m and not r["variant"]]
        lines.append(f"| **{m} mean** | {len(acc)} seeds | {sum(acc) / len(acc):.1%} | | | |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--train", type=int, default=2000, help="synthetic training rationales")
    ap.add_argument("--gsm8k", type=int, default=0, help="GSM8K training questions (0: skip)")
    ap.add_argument("--gsm8k-epochs", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(ROOT, "out", "bench-kpod"))
    ap.add_argument("--no-ablations", action="store_true", help="skip the seed-0 variants")
    ap.add_argument("--reuse", action="store_true", help="read back runs already in --work")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    text = [f"<!-- kpod:start -->\n## KPOD vs plain CoT distillation (bench/kpod.py)\n\n"
            f"{time.strftime('%Y-%m-%d')}, {machine()}.\n\n"
            f"(a) Synthetic arithmetic, tiny student, {args.epochs} epochs (KPOD: T = "
            f"{args.epochs // 2} scheduled stages), {args.train} rationales, lr 2e-3, batch 16, "
            f"200 held-out questions:\n\n"
            + table(synthetic(args.work, args.seeds, args.epochs, args.train, args.reuse,
                            not args.no_ablations))]
    if args.gsm8k and os.path.exists(os.path.join(GSM8K, "train.jsonl")):
        text.append(f"(b) GSM8K: the first {args.gsm8k} training questions, the first "
                    f"{TEST_GSM8K} test questions, SmolLM2-135M-Instruct, "
                    f"{args.gsm8k_epochs} epochs, lr 1e-5, batch 4, one seed:\n\n"
                    + table(gsm8k(args.work, args.gsm8k, args.gsm8k_epochs, args.reuse)))
    elif args.gsm8k:
        text.append(f"(b) GSM8K skipped: {GSM8K} is missing.")
    write_section("\n\n".join(text) + "\n<!-- kpod:end -->\n", "kpod")
    print("\n\n".join(text))


if __name__ == "__main__":
    main()
