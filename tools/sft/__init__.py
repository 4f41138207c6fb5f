"""sft: supervised fine-tuning on chat records, the loss on assistant tokens only.

VILASR's stages 1 and 2 are full fine-tunes of Qwen2.5-VL on multi-turn drawing conversations
(cold-start traces, then the reflective samples reject-sample keeps), with the vision tower and
projector frozen, cosine schedule, 10% warm-up, DeepSpeed ZeRO-3. This tool trains any Hugging
Face causal LM or Qwen-VL model on DESIGN.md `messages` records (text and images, any number
of turns) with the shared loop (core/train): single process, torchrun or DeepSpeed, resumable
checkpoints, metrics JSONL on stdout, and a loadable model folder (processor included) at the
end.

    synth-draw --task maze --count 2000 | sft --model models/tiny-vl --output-dir ckpt/cold --freeze-vision
    sft --model Qwen/Qwen2.5-VL-7B-Instruct --output-dir ckpt/cold --zero 3 --freeze-vision --learning-rate 1e-5 --num-train-epochs 3 --warmup-ratio 0.1 cold.parquet
    torchrun --nproc_per_node 8 $(which sft) --model M --output-dir ckpt --zero 2 data.jsonl

Masking: system, user and tool-observation turns are context; only assistant turns (with their
end-of-turn marker) are predicted. Spans come from the chat template (dataset.py), so no token
id is hard-coded. Departures from the VILASR recipe: none in the maths; LLaMA-Factory's
`cutoff_len` truncates, while here text-only examples are truncated and image examples that do
not fit are skipped (truncating would cut image tokens) and counted.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Iterator

from thinkpipe.core.train import TrainConfig

log = logging.getLogger("thinkpipe.sft")


@dataclass(frozen=True)
class SFTConfig:
    """What sft trains.

    model            a model folder (any HF causal LM or Qwen-VL)
    train            the shared loop's settings (core/train TrainConfig)
    max_seq_length   tokens per example (text is truncated; image examples that do not fit are
                     skipped)
    freeze_vision    freeze the vision tower and projector
    group_by_length  batch examples of similar length
    thinking_reward  train a Trust-GRPO thinking reward model: each record's question, response
                     and this score field become the rubric prompt and <answer>score</answer>
                     (core/rewards/thinking.py sft_record); None: train on `messages`
    """
    model: str
    train: TrainConfig
    max_seq_length: int = 2048
    freeze_vision: bool = False
    group_by_length: bool = True
    thinking_reward: str | None = None


def freeze_vision(model) -> int:
    """Freeze the vision tower and its projector; returns how many parameters were frozen."""
    inner = getattr(model, "model", model)
    tower = getattr(inner, "visual", None) or getattr(model, "visual", None) or \
        getattr(inner, "vision_tower", None)
    if tower is None:
        raise ValueError("--freeze-vision: this model has no vision tower")
    frozen = 0
    for p in tower.parameters():
        p.requires_grad = False
        frozen += p.numel()
    return frozen


def build_dataset(items: Iterator[tuple[str, dict]], bundle, config: SFTConfig, policy):
    """Prepare every record (bad ones go to the error policy). Skipped and counted: image
    examples that do not fit --max-seq-length, and text examples whose truncation leaves no
    assistant token to learn (their loss would be a meaningless 0)."""
    from thinkpipe.core.records.jsonl import dumps

    from thinkpipe.core.models.tokens import (TokenDataset, labelled_after_truncation, prepare,
                                              token_count)
    examples, too_long, unlabelled = [], 0, 0
    for where, record in items:
        try:
            if config.thinking_reward:
                from thinkpipe.core.rewards.thinking import sft_record
                record = sft_record(record, config.thinking_reward)
            ex = prepare(record, bundle, where)
            if bundle.is_vlm and ex.images:
                if token_count(ex, bundle) > config.max_seq_length:
                    too_long += 1
                    continue
            elif not labelled_after_truncation(ex, bundle, config.max_seq_length):
                unlabelled += 1
                continue
            examples.append(ex)
        except (ValueError, OSError) as e:
            policy.handle(where, str(e), dumps(record))
    if too_long:
        log.warning("%d example(s) with images longer than --max-seq-length %d skipped",
                    too_long, config.max_seq_length)
    if unlabelled:
        log.warning("%d example(s) skipped: truncated to --max-seq-length %d, no assistant token "
                    "is left to train on", unlabelled, config.max_seq_length)
    if not examples and (too_long or unlabelled):
        from thinkpipe.core.errors import UsageError
        raise UsageError(f"no training examples: all {too_long + unlabelled} lost their assistant "
                         f"tokens to --max-seq-length {config.max_seq_length} (raise it)")
    return TokenDataset(examples, bundle, config.max_seq_length)


def train(items: Iterator[tuple[str, dict]], config: SFTConfig, policy, local_rank=None):
    """Load, prepare, train, save. Returns the final trainer state."""
    from thinkpipe.core.errors import UsageError
    from thinkpipe.core.models import load
    from thinkpipe.core.train import Trainer, check_output_dir, dist, fit, pad_collate

    check_output_dir(config.train, remove=False)      # before loading a model
    info = dist.setup(local_rank, need_group=config.train.uses_deepspeed)
    bundle = load(config.model, device=str(info.device), train=True)
    if config.freeze_vision and not bundle.is_vlm:
        raise UsageError(f"--freeze-vision: {config.model} is a text-only model "
                         f"({bundle.model_type}), it has no vision tower")
    if config.freeze_vision:
        log.info("froze %s vision parameters", f"{freeze_vision(bundle.model):,}")
    dataset = build_dataset(items, bundle, config, policy)
    if len(dataset) == 0:
        raise UsageError("no training examples")
    trainer = Trainer(config.train, bundle.model, n_examples=len(dataset), local_rank=local_rank,
                      hparams=asdict(config))
    pad = bundle.tokenizer.pad_token_id if bundle.tokenizer.pad_token_id is not None else 0
    state = fit(trainer, dataset, lambda batch: pad_collate(batch, pad),
                lengths=dataset.lengths() if config.group_by_length else None)
    trainer.save_model(config.train.output_dir, bundle.processor or bundle.tokenizer)
    trainer.close()
    return state


__all__ = ["SFTConfig", "train", "freeze_vision", "build_dataset"]
