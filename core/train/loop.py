"""One training loop for every trainer: single process, torchrun or DeepSpeed, CPU or GPU.

    trainer = Trainer(cfg, model, n_examples=len(dataset))   # resumes when cfg.resume is set
    fit(trainer, dataset, collate)                           # supervised: sft, kpod, fira-pretrain
    trainer.save_model(cfg.output_dir, processor)            # a loadable HF folder

Trainers with their own step (grpo) use the pieces: `trainer.engine.model` for forward passes,
`trainer.engine.backward`, `trainer.optimizer_step()`, `trainer.log()`, `trainer.maybe_save()`.

Loss normalisation: the loss of a step is the mean over every labelled token of the global batch
(all micro-batches, all ranks). Each rank counts its tokens before the forward passes, the counts
are summed over ranks (N), and micro-batch j contributes sum_j(CE) / N; engines undo their
backends' own averaging (engines.py). So one process with batch 4 and two ranks with batch 2
make the same update, and padding never reweights examples (HF Trainer's accumulation bug).

Stopping: SIGINT or SIGTERM finishes the current step, saves a checkpoint and raises
Interrupted (exit 130); a second signal stops at once. A resumed run continues from the saved
step with the same data order and RNG state, so its losses match an uninterrupted run.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import signal
import time
from dataclasses import asdict
from typing import Callable, Sequence

import torch

from ..errors import OutputError, UsageError
from ..progress import current
from . import checkpoint, data, dist, trackers
from .config import TrainConfig
from .engines import make_engine
from .metrics import Metrics, NullMetrics
from .schedules import multiplier

log = logging.getLogger("thinkpipe.train")


class Interrupted(KeyboardInterrupt):
    """Training stopped by a signal after saving `checkpoint`."""

    def __init__(self, checkpoint_path: str):
        super().__init__(checkpoint_path)
        self.checkpoint = checkpoint_path


def plan_steps(cfg: TrainConfig, n_examples: int, world_size: int) -> int:
    """Optimizer steps of the run: max_steps, else epochs x full accumulation cycles per epoch."""
    per_epoch = data.micro_batches_per_epoch(n_examples, cfg.per_device_train_batch_size,
                                             world_size) // cfg.gradient_accumulation_steps
    if per_epoch == 0:
        raise UsageError(
            f"{n_examples} examples do not fill one optimizer step of "
            f"{cfg.per_device_train_batch_size} per device x {world_size} ranks x "
            f"{cfg.gradient_accumulation_steps} accumulation steps")
    return cfg.max_steps if cfg.max_steps > 0 else math.ceil(cfg.num_train_epochs * per_epoch)


def default_optimizer(model, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases and norm weights (1-D parameters), as HF Trainer."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay},
              {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=cfg.learning_rate,
                             betas=(cfg.adam_beta1, cfg.adam_beta2), eps=cfg.adam_epsilon)


def check_output_dir(cfg: TrainConfig, remove: bool = True) -> None:
    """HF Trainer's rule: a run starts in an empty (or new) output_dir unless it resumes
    (--resume) or starts over (--overwrite-output-dir, which deletes the old checkpoint-N
    folders so two runs' checkpoints never mix). UsageError otherwise; OutputError when the
    folder cannot be created."""
    try:
        os.makedirs(cfg.output_dir, exist_ok=True)
        held = sorted(os.listdir(cfg.output_dir))
    except OSError as e:
        raise OutputError(f"--output-dir {cfg.output_dir}: cannot create: {e.strerror}") from None
    if not held or cfg.resume:
        return
    if not cfg.overwrite_output_dir:
        shown = ", ".join(held[:4]) + (", ..." if len(held) > 4 else "")
        raise UsageError(f"--output-dir {cfg.output_dir} is not empty ({shown}): give --resume "
                         "auto to continue its run, or --overwrite-output-dir to start a new one")
    for _, path in checkpoint.checkpoints(cfg.output_dir) if remove else ():
        shutil.rmtree(path, ignore_errors=True)


class Trainer:
    def __init__(self, cfg: TrainConfig, model, total_steps: int | None = None,
                 n_examples: int | None = None, optimizer=None, local_rank: int | None = None,
                 hparams: dict | None = None):
        """`hparams`: the tool's whole resolved config, for the trackers (default: cfg)."""
        self.cfg = cfg
        self.info = dist.setup(local_rank, need_group=cfg.uses_deepspeed)
        check_output_dir(cfg, remove=self.info.is_main)   # every rank decides alike, then
        dist.barrier()                                    # rank 0 writes train_config.json
        self.total_steps = total_steps or plan_steps(cfg, n_examples or 0, self.info.world_size)
        if cfg.gradient_checkpointing:
            model.gradient_checkpointing_enable()
        model.to(self.info.device).train()
        optimizer = optimizer or default_optimizer(model, cfg)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, multiplier(
            cfg.lr_scheduler_type, cfg.warmup(self.total_steps), self.total_steps,
            cfg.min_lr_ratio))
        self.engine = make_engine(model, optimizer, scheduler, cfg, self.info)
        self.state = checkpoint.TrainerState(config=asdict(cfg))
        self._stop, self._last_saved = False, -1
        self.finished = False     # resumed from a checkpoint that already holds every step
        if self.info.is_main:
            try:
                with open(os.path.join(cfg.output_dir, "train_config.json"), "w") as f:
                    f.write(cfg.to_json())
            except OSError as e:
                raise OutputError(f"--output-dir {cfg.output_dir}: cannot write: "
                                  f"{e.strerror}") from None
        self._resume()
        self.metrics = self._metrics(hparams) if self.info.is_main else NullMetrics()
        current().begin("steps", total=self.total_steps, done=self.state.step)
        self._install_signals()

    def _metrics(self, hparams: dict | None) -> Metrics:
        cfg = self.cfg
        run = trackers.Run(cfg.output_dir, cfg.run_name, hparams or asdict(cfg), cfg.logging_dir)
        report = trackers.Report(cfg.trackers, run) if cfg.trackers else None
        return Metrics(cfg.metrics, self.state.step if cfg.resume else None, report)

    def _resume(self) -> None:
        if not self.cfg.resume:
            return
        if self.info.is_main:            # what a killed save left (checkpoint.py's protocol)
            checkpoint.clean(self.cfg.output_dir)
        dist.barrier()
        path = checkpoint.latest(self.cfg.output_dir) if self.cfg.resume == "auto" \
            else self.cfg.resume
        if path is None:
            log.info("no checkpoint in %s: starting from scratch", self.cfg.output_dir)
            return
        if not os.path.exists(os.path.join(path, checkpoint.STATE_FILE)):
            raise UsageError(f"--resume {path}: not a checkpoint (no {checkpoint.STATE_FILE})")
        self.state = checkpoint.load(self.engine, path, self.info)
        self._last_saved = self.state.step
        log.info("resumed from %s at step %d", path, self.state.step)
        self.finished = self.state.step >= self.total_steps
        if self.finished:
            log.warning("the checkpoint is at step %d, at or past this run's %d steps: nothing "
                        "to train, the model in %s is %s (raise --max-steps or "
                        "--num-train-epochs to train on)", self.state.step, self.total_steps,
                        self.cfg.output_dir, "written again from it" if self.cfg.resume ==
                        "auto" else "left as it is")

    def _install_signals(self) -> None:
        def on_signal(signum, frame):
            if self._stop:
                raise KeyboardInterrupt
            self._stop = True
            log.warning("signal %d: saving a checkpoint after this step (again to stop now)",
                        signum)

        try:
            signal.signal(signal.SIGINT, on_signal)
            signal.signal(signal.SIGTERM, on_signal)
        except ValueError:  # not the main thread: leave signals alone
            pass

    def stop_requested(self) -> bool:
        """True on every rank when any rank was signalled."""
        return dist.all_reduce_sum(float(self._stop), self.info.device) > 0

    def optimizer_step(self) -> float:
        grad_norm = self.engine.step()
        self.state.step += 1
        return grad_norm

    def log(self, row: dict, force: bool = False) -> None:
        shown = {k: row[k] for k in ("loss", "reward") if isinstance(row.get(k), (int, float))}
        current().set(self.state.step, **shown)
        if force or self.state.step % max(1, self.cfg.logging_steps) == 0 or self.state.step == 1:
            self.metrics.log(row)

    def save(self) -> str:
        path = checkpoint.save(self.engine, self.state, self.cfg.output_dir, self.info,
                               self.cfg.save_total_limit)
        self._last_saved = self.state.step
        return path

    def maybe_save(self, since: int | None = None) -> None:
        """Save on the save_steps schedule (a multiple of save_steps passed since step `since`,
        the previous call's step: trainers that take several steps between calls); on a
        signal, save and raise Interrupted."""
        if self.stop_requested():
            path = self.save() if self._last_saved != self.state.step else \
                os.path.join(self.cfg.output_dir, f"checkpoint-{self.state.step}")
            log.warning("stopped at step %d; resume with --resume (checkpoint %s)",
                        self.state.step, path)
            raise Interrupted(path)
        every, since = self.cfg.save_steps, self.state.step - 1 if since is None else since
        if every and self.state.step // every > since // every:
            self.save()

    def save_model(self, path: str, processor=None) -> None:
        """The trained model as an HF folder (gathered from every rank), with its processor.
        A run resumed with nothing left to train writes it again after --resume auto (the
        latest checkpoint holds the final weights, and a kill during the final save may have
        left the folder half written) and leaves the old model after --resume PATH."""
        if self.finished and self.cfg.resume != "auto":
            return
        state = self.engine.full_state_dict()
        if self.info.is_main:
            self.engine.module.save_pretrained(path, state_dict=state)
            if processor is not None:
                processor.save_pretrained(path)
            with open(os.path.join(path, "train_config.json"), "w") as f:
                f.write(self.cfg.to_json())
        dist.barrier()

    def close(self) -> None:
        self.metrics.close()


def fit(trainer: Trainer, dataset: Sequence, collate: Callable[[list], dict],
        loss_fn: Callable = data.causal_lm_loss,
        count: Callable[[dict], int] = data.count_tokens,
        lengths: Sequence[int] | None = None,
        hook: Callable[[checkpoint.TrainerState], dict | None] | None = None,
        view: Callable[[int], Sequence] | None = None) -> checkpoint.TrainerState:
    """Supervised training to trainer.total_steps; checkpoints on save_steps and at the end.
    With `lengths`, micro-batches group examples of similar length (data.group_by_length);
    `hook(state)` runs after every step and its dict (an evaluation, say) joins that step's
    metrics line, which is then written whatever logging_steps says. `view(epoch)` gives the
    examples of an epoch (a curriculum: distill-kpod's schedule), the same length as `dataset`;
    being a function of the epoch, a resumed run sees what the uninterrupted one saw."""
    cfg, info, st = trainer.cfg, trainer.info, trainer.state
    gas, start = cfg.gradient_accumulation_steps, time.perf_counter()
    stream = _positions(len(dataset), cfg, info, st.epoch, st.micro, lengths)
    while st.step < trainer.total_steps:
        t0 = time.perf_counter()
        group = [next(stream) for _ in range(gas)]
        batches = [_to(collate([(view(e) if view else dataset)[i] for i in idx]), info.device)
                   for e, _, idx in group]
        n_global = dist.all_reduce_sum(sum(count(b) for b in batches), info.device)
        seen = dist.all_reduce_sum(sum(int(b["attention_mask"].sum()) for b in batches),
                                   info.device)
        lr, loss_sum = trainer.engine.lr(), 0.0   # the lr this step uses (DeepSpeed steps in backward)
        for j, batch in enumerate(batches):
            loss, _ = loss_fn(trainer.engine.model, batch)
            trainer.engine.backward(loss * info.world_size / max(n_global, 1), j == gas - 1)
            loss_sum += loss.item()
        grad_norm = trainer.optimizer_step()
        st.epoch, st.micro = group[-1][0], group[-1][1] + 1
        st.tokens += int(seen)
        step_s = time.perf_counter() - t0
        row = {"step": st.step, "epoch": round(st.epoch + st.micro / _per_epoch(
            len(dataset), cfg, info), 4), "loss": dist.all_reduce_sum(loss_sum, info.device)
            / max(n_global, 1), "lr": lr, "grad_norm": grad_norm, "tokens": st.tokens,
            "tokens_per_s": round(seen / step_s, 1), "step_s": round(step_s, 4),
            "elapsed_s": round(time.perf_counter() - start, 2), "world_size": info.world_size}
        extra = hook(st) if hook is not None else None
        trainer.log({**row, **(extra or {})}, force=bool(extra))
        trainer.maybe_save()
    if trainer._last_saved != st.step:
        trainer.save()
    return st


def _per_epoch(n: int, cfg: TrainConfig, info) -> int:
    return data.micro_batches_per_epoch(n, cfg.per_device_train_batch_size, info.world_size)


def _positions(n: int, cfg: TrainConfig, info, epoch: int, micro: int, lengths=None):
    """(epoch, micro index, this rank's example indices), from a saved position onwards."""
    while True:
        for m, idx in enumerate(data.micro_batches(n, cfg.per_device_train_batch_size,
                                                   info.world_size, info.rank, cfg.seed,
                                                   epoch, micro, lengths), start=micro):
            yield epoch, m, idx
        epoch, micro = epoch + 1, 0


def _to(batch: dict, device) -> dict:
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
