"""The GRPO training loop, read top to bottom: `train` runs rollout batches; `GRPORun.steps`
is one batch, in the order its phases run:

  1. rollouts: this rank's prompts (whole groups: completions per device per step =
     per_device_train_batch_size x gradient_accumulation_steps, a multiple of G), G samples
     each from the sampler, scored by the --reward specs; DAPO's dynamic sampling (collect.py);
  2. advantages per group (losses.group_advantages); completions that are cut off under
     --mask-truncated-completions, or unrewarded, stay out of the loss;
  3. tokens and the fixed log-probs: old (before the first update, when num_iterations > 1)
     and reference (beta > 0), once per batch;
  4. num_iterations passes over the batch, each one optimizer step: micro-batches of
     per_device_train_batch_size completions, each normalised by the *global* normaliser of
     its loss type (losses.LOSSES), and a metrics row per step (metrics.py).
Checkpoints fall between batches. Prompts come in a per-epoch permutation whose position lives
in the checkpoint, and sample seeds derive from (seed, epoch, prompt, sample), so a resumed run
continues with the same rollouts. A batch whose rewards cannot be computed (a ServiceError from
phase 1) is never trained on: the run saves the last completed step, with the prompt position
from before that batch, and stops (exit 69).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict

import torch

from thinkpipe.core.errors import ServiceError, UsageError
from thinkpipe.core.records import resolve_format
from thinkpipe.core.train import Trainer, check_output_dir, checkpoint, dist

from . import losses
from .batch import Completion, encode, forward, padded
from .collect import Collector, PromptStream, prompts_from
from .metrics import step_row
from .rollouts import RolloutLog, rollout_rows
from .sampler import HFSampler
from .variants import shapers

log = logging.getLogger("thinkpipe.grpo")


def batch_plan(per_device: int, accumulation: int, group: int, world: int) -> tuple[int, int]:
    """(prompts per rank, prompts per step overall); UsageError with the numbers if uneven."""
    per_rank = per_device * accumulation
    if per_rank % group:
        raise UsageError(
            f"completions per device per step = per_device_train_batch_size {per_device} x "
            f"gradient_accumulation_steps {accumulation} = {per_rank}, not a multiple of "
            f"--num-generations {group}: each device must hold whole groups")
    return per_rank // group, per_rank // group * world


def planned_steps(config, n_prompts: int, per_step: int) -> int:
    """Optimizer steps of the run: --max-steps, else whole epochs of rollout batches, each
    trained on num_iterations times (one optimizer step per pass)."""
    if config.train.max_steps:
        return config.train.max_steps
    rollouts = math.ceil(config.train.num_train_epochs * n_prompts / per_step)
    return max(1, rollouts) * config.num_iterations


def train(items, config, policy, local_rank=None, sampler=None):
    """Optimizer steps until --max-steps (or the epochs' rollout batches x num_iterations);
    checkpoints at rollout-batch boundaries, so a resumed run regenerates nothing it used."""
    check_output_dir(config.train, remove=False)     # before loading a model
    run = GRPORun(config, items, policy, local_rank, sampler)
    trainer = run.trainer
    try:
        while trainer.state.step < trainer.total_steps:
            start, position = trainer.state.step, (trainer.state.epoch, trainer.state.micro)
            try:
                for row in run.steps(trainer.total_steps - start):
                    trainer.log(row)
            except ServiceError:
                _stop_unscored(trainer, position)
                raise
            trainer.maybe_save(since=start)
        if trainer._last_saved != trainer.state.step:
            trainer.save()
        trainer.save_model(config.train.output_dir, run.bundle.processor or run.bundle.tokenizer)
    finally:
        run.close()
        trainer.close()
    return trainer.state


def _stop_unscored(trainer, position: tuple[int, int]) -> None:
    """A rollout batch could not be scored: put the prompt position back to where that batch
    began and save the last completed step (unless saved already), so --resume regenerates the
    batch; nothing of it was trained on."""
    state = trainer.state
    state.epoch, state.micro = position
    if state.step == 0:
        log.warning("the first step could not be scored: stopped with no step to save")
        return
    path = trainer.save() if trainer._last_saved != state.step else \
        checkpoint.latest(trainer.cfg.output_dir)
    log.warning("step %d could not be scored: stopped at step %d; resume with --resume "
                "(checkpoint %s)", state.step + 1, state.step, path)


class GRPORun:
    """One GRPO run's state.

    cfg          the GRPOConfig
    info         this rank (core/train/dist.py)
    per_rank     groups this rank trains per step; per_step: prompts per step over all ranks
    bundle       the policy's model and processor; trainer: core/train's loop around it
    ref          the frozen reference policy (beta > 0), else None
    sampler      generates trajectories with the policy's current weights (sampler.py)
    collector    phases 1-2 (collect.py); stream: its PromptStream; record_of: id -> record
    pad          the pad token id; warned: reward names already reported as constant
    rollout_log  --rollouts FILE, else None
    """

    def __init__(self, config, items, policy, local_rank=None, sampler=None):
        """Load the policy, then read the prompts (each checked against the model: a prompt it
        cannot take is a bad record under --on-error), then plan the run."""
        from thinkpipe.core.models import load
        from thinkpipe.core.rewards import load_reward

        self.cfg = config
        self.info = dist.setup(local_rank, need_group=config.train.uses_deepspeed)
        self.per_rank, self.per_step = batch_plan(config.train.per_device_train_batch_size,
                                                  config.train.gradient_accumulation_steps,
                                                  config.num_generations, self.info.world_size)
        self.bundle = load(config.model, device=str(self.info.device), train=True)
        prompts = prompts_from(items, config, policy, self.bundle)
        self.trainer = Trainer(config.train, self.bundle.model,
                               total_steps=planned_steps(config, len(prompts), self.per_step),
                               local_rank=local_rank, hparams=asdict(config))
        self.ref = self._reference() if config.beta > 0 else None
        self.sampler = sampler or HFSampler(self.bundle, self.trainer.engine.module,
                                            config.rollout)
        reward_fns = [load_reward(s) for s in config.rewards]
        self.record_of = {pid: rec for pid, rec, _ in prompts}
        self.stream = PromptStream(prompts, config.train.seed, self.trainer.state)
        total = planned_steps(config, len(prompts), self.per_step)
        self.collector = Collector(config, self.sampler, self.stream, self.record_of, reward_fns,
                                   list(config.reward_weights or [1.0] * len(reward_fns)),
                                   self.info, self.per_rank, self.per_step,
                                   shapers(config.shaping, total, self.record_of,
                                           config.scale_rewards),
                                   lambda: self.trainer.state.step)
        self.pad = self.bundle.tokenizer.pad_token_id or 0
        self.warned: set[str] = set()
        self.rollout_log = None
        if config.rollouts_path:
            path = config.rollouts_path if self.info.world_size == 1 else \
                f"{config.rollouts_path}.rank{self.info.rank}"
            resumed = self.trainer.state.step if config.train.resume else None
            self.rollout_log = RolloutLog(path, resumed, resolve_format(config.rollouts_path, None))

    def _reference(self):
        """The frozen reference policy, sharded like the policy under ZeRO-3."""
        from thinkpipe.core.models import load
        ref = load(self.cfg.model, device=str(self.info.device)).model.eval()
        for p in ref.parameters():
            p.requires_grad = False
        if getattr(self.trainer.engine, "stage", 0) == 3:
            import deepspeed
            ds = {"train_micro_batch_size_per_gpu": self.cfg.train.per_device_train_batch_size,
                  "zero_optimization": {"stage": 3}, "bf16": {"enabled": self.cfg.train.bf16}}
            ref = deepspeed.initialize(model=ref, config=ds)[0]
            ref.eval()
        return ref

    # ---------------------------------------------------------------- one rollout batch
    def steps(self, budget: int):
        """One rollout batch, trained on for min(num_iterations, budget) optimizer steps; a
        metrics row per step (--max-steps counts optimizer steps)."""
        cfg, info, trainer = self.cfg, self.info, self.trainer
        t_start = time.perf_counter()
        # 1. rollouts: G scored samples per prompt, whole groups (dynamic sampling inside)
        comps, stats = self.collector.collect()
        t1 = time.perf_counter()
        # 2. advantages within each group; what stays out of the loss
        self.advantages(comps)
        # 3. tokens, then the log-probs that stay fixed over the batch's iterations
        prompt_cache: dict = {}
        for c in comps:
            encode(c, self.bundle, cfg.max_seq_length, prompt_cache)
            c.trained = c.trained and c.tokens is not None
        self.fixed_logprobs([c for c in comps if c.tokens is not None])
        stats["time_reward"] = time.perf_counter() - t1
        if self.rollout_log is not None:
            self.rollout_log.write(rollout_rows(comps + stats["shuffled"], self.record_of,
                                                trainer.state.step + 1))
        # 4. num_iterations passes, one optimizer step each, over micro-batches
        micro = cfg.train.per_device_train_batch_size
        batches = [comps[i:i + micro] for i in range(0, len(comps), micro)]
        norm = dist.all_reduce_sum(self.normaliser(comps), info.device) or 1.0
        for it in range(min(cfg.num_iterations, budget)):
            t2 = time.perf_counter()
            sums = {"loss": 0.0, "clipped": 0.0, "kl": 0.0, "entropy": 0.0, "tokens": 0.0}
            lr = trainer.engine.lr()
            for j, mb in enumerate(batches):
                self.micro_step(mb, norm, j == len(batches) - 1, sums)
            grad_norm = trainer.optimizer_step()
            self.sampler.sync()
            stats["time_update"] = time.perf_counter() - t2
            yield step_row(comps, stats, sums, lr, grad_norm, it,
                           time.perf_counter() - (t_start if it == 0 else t2), info,
                           trainer.state, len(self.stream.prompts))

    def advantages(self, comps: list[Completion]) -> None:
        G = self.cfg.num_generations
        rewards = torch.tensor([c.reward if c.reward is not None else 0.0 for c in comps])
        valid = torch.tensor([c.reward is not None and c.trained for c in comps])
        adv = losses.group_advantages(rewards, G, self.cfg.scale_rewards, self.cfg.advantage_eps,
                                      valid)
        for c, a, ok in zip(comps, adv.tolist(), valid.tolist()):
            c.advantage, c.trained = a, c.trained and ok
            if self.cfg.mask_truncated and c.truncated:
                c.trained = False
        for name in sorted({k for c in comps for k in c.rewards} - {"outcome"}):  # the total
            if name in self.warned or len(comps) < 2 * G:
                continue
            values = torch.tensor([c.rewards.get(name, 0.0) for c in comps])
            if losses.constant_within_groups(values, G) and len(set(values.tolist())) > 1:
                self.warned.add(name)
                log.warning("reward %s is constant within every group: group normalisation "
                            "cancels it, so it changes no advantage", name)

    def normaliser(self, comps: list[Completion]) -> float:
        """This rank's share of the loss type's normaliser, from the trained completions."""
        tokens = [sum(1 for x in c.tokens["labels"][1:] if x != -100) for c in comps if c.trained]
        return losses.LOSSES[self.cfg.loss_type].normaliser(tokens, self.cfg.rollout.max_total_tokens)

    def fixed_logprobs(self, comps: list[Completion]) -> None:
        """Old (before the first update, when num_iterations > 1) and reference log-probs, under
        inference mode like the rollout (the same kernels and values; no autograd bookkeeping,
        which made the reference forward a third slower)."""
        micro = self.cfg.train.per_device_train_batch_size
        with torch.inference_mode():
            for i in range(0, len(comps), micro):
                mb = comps[i:i + micro]
                if self.cfg.num_iterations > 1:
                    logp, _, _ = forward(self.trainer.engine.module, mb, self.pad, self.info.device)
                    for c, row in zip(mb, logp):
                        c.old_logp = row[:len(c.tokens["input_ids"]) - 1].cpu()
                if self.ref is not None:
                    logp, _, _ = forward(self.ref, mb, self.pad, self.info.device)
                    for c, row in zip(mb, logp):
                        c.ref_logp = row[:len(c.tokens["input_ids"]) - 1].cpu()

    def micro_step(self, mb: list[Completion], norm: float, last: bool, sums: dict) -> None:
        """Forward and backward of one micro-batch; its statistics added to `sums`."""
        cfg, info = self.cfg, self.info
        live = [c for c in mb if c.tokens is not None]
        if not live:  # keep collectives in step with the other ranks: a zero-loss backward
            zero = sum(p.sum() * 0.0 for p in self.trainer.engine.module.parameters()
                       if p.requires_grad)
            self.trainer.engine.backward(zero, last)
            return
        logp, mask, ent = forward(self.trainer.engine.model, live, self.pad, info.device,
                                  entropy=True)
        trained = torch.tensor([float(c.trained) for c in live], device=info.device)
        mask = mask * trained.unsqueeze(1)
        width = logp.shape[1]
        old = padded([c.old_logp for c in live], width, info.device) \
            if cfg.num_iterations > 1 else logp.detach()
        ref = padded([c.ref_logp for c in live], width, info.device) if self.ref is not None else None
        adv = torch.tensor([c.advantage for c in live], device=info.device)
        out = losses.token_loss(logp, old, adv, mask, cfg.epsilon, cfg.epsilon_high, cfg.beta, ref)
        contrib = losses.LOSSES[cfg.loss_type].contribution(out.per_token, mask,
                                                            cfg.rollout.max_total_tokens)
        self.trainer.engine.backward(contrib * info.world_size / norm, last)
        sums["loss"] += float(contrib.detach()) / norm  # summed over ranks in step_row
        # every statistic over the same tokens: those trained on (mask, after --mask-truncated-
        # completions and the other exclusions), so entropy <= ln(vocabulary size)
        sums["clipped"] += float(out.clipped.sum())
        sums["kl"] += float(out.kl.detach().sum())
        sums["entropy"] += float((ent * mask).sum())
        sums["tokens"] += float(mask.sum())

    def close(self) -> None:
        if self.rollout_log is not None:
            self.rollout_log.close()
