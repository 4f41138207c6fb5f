"""Train a tiny LLaMA for a few steps: does this machine's torchrun / DeepSpeed setup work?

    python -m thinkpipe.cli.selfcheck --steps 8
    torchrun --nproc_per_node 2 -m thinkpipe.cli.selfcheck --zero 2
    deepspeed --num_gpus 2 --module thinkpipe.cli.selfcheck --zero 3

It builds a tiny model (thinkpipe init-model's llama) in the output folder, packs generated text
into 32-token sequences, trains with the shared loop and prints metrics JSONL on stdout (rank 0).
Every option of the loop is available, so it doubles as the test bed of core/train.
"""
from __future__ import annotations

import os


def packed_examples(tokenizer, n: int, seq_len: int) -> list[dict]:
    from ..models.tokenizer import corpus
    ids: list[int] = []
    for line in corpus(n_lines=n * 4, seed=1):
        ids += tokenizer(line + "\n")["input_ids"]
        if len(ids) >= n * seq_len:
            break
    return [{"input_ids": ids[i * seq_len:(i + 1) * seq_len]} for i in range(n)]


def run(args) -> None:
    """Build (once), train and save the tiny model; `args` holds the options cli/selfcheck.py
    parses (names as in TrainConfig)."""
    import time

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..models.loading import quiet_transformers
    from ..models.tiny import build_tiny
    from . import TrainConfig, Trainer, dist, fit
    from .data import pad_collate

    quiet_transformers()
    info = dist.setup(args.local_rank, need_group=args.zero is not None or bool(args.deepspeed))
    model_dir = os.path.join(args.output_dir, "tiny-llama")
    if info.is_main and not os.path.exists(os.path.join(model_dir, "config.json")):
        build_tiny("llama", model_dir)
    dist.barrier()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    cfg = TrainConfig(output_dir=args.output_dir, learning_rate=args.learning_rate,
                      max_steps=args.steps, per_device_train_batch_size=args.per_device_train_batch_size,
                      gradient_accumulation_steps=args.gradient_accumulation_steps,
                      lr_scheduler_type=args.lr_scheduler_type, warmup_steps=args.warmup_steps,
                      save_steps=args.save_steps, zero=args.zero, deepspeed=args.deepspeed,
                      resume=args.resume, seed=args.seed,
                      # the folder holds the tiny model built above: a fresh self-check starts
                      # over in it (old checkpoint-N folders go), --resume continues it
                      overwrite_output_dir=not args.resume)
    examples = packed_examples(tokenizer, args.examples, args.seq_len)
    trainer = Trainer(cfg, model, n_examples=len(examples), local_rank=args.local_rank)

    def collate(batch):
        if args.step_sleep:  # lets tests interrupt a run mid-way
            time.sleep(args.step_sleep)
        return pad_collate(batch, tokenizer.pad_token_id)

    fit(trainer, examples, collate)
    trainer.save_model(os.path.join(args.output_dir, "final"), tokenizer)
    trainer.close()

