"""The training configuration every trainer shares (names follow HF TrainingArguments / TRL)."""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass

from ..errors import UsageError
from . import trackers
from .schedules import SCHEDULES


@dataclass(frozen=True)
class TrainConfig:
    """The shared loop's settings, named as HF TrainingArguments / TRL name them.

    output_dir                   checkpoints, train_config.json and the final model
    learning_rate                peak lr; weight_decay: AdamW's (not on biases and norms)
    adam_beta1, adam_beta2, adam_epsilon   AdamW's
    max_grad_norm                clip the global gradient norm (0: no clipping)
    lr_scheduler_type            constant | linear | cosine | cosine_min (schedules.py)
    min_lr_ratio                 the floor of cosine_min, as a fraction of the peak
    warmup_ratio, warmup_steps   linear warm-up (steps win when > 0)
    num_train_epochs, max_steps  how long (max_steps wins when > 0)
    per_device_train_batch_size  examples per micro-batch per rank
    gradient_accumulation_steps  micro-batches per optimizer step
    seed                         data order and initialisation
    logging_steps                a metrics line every N steps
    save_steps                   a checkpoint every N steps (0: at the end and on Ctrl-C)
    save_total_limit             checkpoints kept (0: all)
    resume                       None | "auto" (the latest in output_dir) | a checkpoint folder
    overwrite_output_dir         start anew in a non-empty output_dir (its old checkpoint-N
                                 folders are deleted)
    deepspeed, zero              a DeepSpeed JSON config ("auto" filled in), or a ZeRO stage
    bf16, gradient_checkpointing as in HF
    metrics                      metrics JSONL file (default: stdout, rank 0)
    report_to                    experiment trackers: none | a comma list of tensorboard, wandb,
                                 mlflow, trackio (trackers.py)
    run_name                     the trackers' run name (default: output_dir's basename)
    logging_dir                  TensorBoard's folder (default: output_dir/runs/RUN_NAME)
    """
    output_dir: str
    learning_rate: float = 1e-5
    weight_decay: float = 0.0
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = 1.0
    lr_scheduler_type: str = "cosine"
    min_lr_ratio: float = 0.1
    warmup_ratio: float = 0.0
    warmup_steps: int = 0
    num_train_epochs: float = 1.0
    max_steps: int = 0
    per_device_train_batch_size: int = 1
    gradient_accumulation_steps: int = 1
    seed: int = 0
    logging_steps: int = 1
    save_steps: int = 0
    save_total_limit: int = 2
    resume: str | None = None
    overwrite_output_dir: bool = False
    deepspeed: str | None = None
    zero: int | None = None
    bf16: bool = False
    gradient_checkpointing: bool = False
    metrics: str | None = None
    report_to: str = "none"
    run_name: str | None = None
    logging_dir: str | None = None

    def __post_init__(self):
        problems = []
        if self.lr_scheduler_type not in SCHEDULES:
            problems.append(f"lr_scheduler_type must be one of {', '.join(SCHEDULES)}")
        if self.zero is not None and self.zero not in (0, 1, 2, 3):
            problems.append("zero must be 0, 1, 2 or 3")
        if self.per_device_train_batch_size < 1 or self.gradient_accumulation_steps < 1:
            problems.append("batch size and gradient accumulation steps must be at least 1")
        if not 0 <= self.warmup_ratio < 1:
            problems.append("warmup_ratio must be in [0, 1)")
        if self.resume not in (None, "auto") and not _is_checkpoint(self.resume):
            problems.append(_not_a_checkpoint(self.resume))
        try:
            trackers.check(trackers.parse(self.report_to))
        except UsageError as e:
            problems.append(str(e))
        if self.resume and self.overwrite_output_dir:
            problems.append("--resume and --overwrite-output-dir pull opposite ways; pick one")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def uses_deepspeed(self) -> bool:
        return self.deepspeed is not None or self.zero is not None

    def warmup(self, total_steps: int) -> int:
        return self.warmup_steps if self.warmup_steps > 0 else int(self.warmup_ratio * total_steps)

    @property
    def trackers(self) -> tuple[str, ...]:
        return trackers.parse(self.report_to)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)


def _not_a_checkpoint(path: str) -> str:
    """Why `--resume path` cannot be resumed from, saying what path is (a record file: the
    inputs were probably taken as --resume's value)."""
    from ..records.reader import sniff
    if os.path.isfile(path):
        with open(path, "rb") as f:
            head = f.read(4)
        if sniff(head) != "jsonl" or head.lstrip()[:1] == b"{":   # Parquet, gzip, or JSONL
            return (f"--resume {path}: that is a record file, not a checkpoint folder; --resume "
                    f"takes `auto` or a checkpoint-N folder, so write `--resume auto {path}` to "
                    f"continue the latest checkpoint in --output-dir on this data")
        what = "a file"
    else:
        what = "a folder with no trainer_state.json" if os.path.isdir(path) else "missing"
    return (f"--resume {path}: neither `auto` nor a checkpoint folder (it is {what}; to continue "
            f"the latest checkpoint in --output-dir give `--resume auto`)")


def _is_checkpoint(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "trainer_state.json"))
