"""The GRPO training loop: rollout, reward, advantage, μ clipped-surrogate updates, repeat.

One iteration ("rollout batch"):
  1. take this rank's prompts (whole groups only: completions per device per step =
     per_device_train_batch_size x gradient_accumulation_steps, a multiple of G);
  2. sample G trajectories per prompt (engine.py), score them (core/rewards specs, weighted);
     with --filter-groups, groups whose rewards tie are dropped and more prompts sampled,
     in rounds every rank takes together, so ranks stay in step;
  3. advantages per group (losses.group_advantages); old and reference log-probs once;
  4. num_iterations x gradient_accumulation_steps micro-batches of per_device_train_batch_size
     completions, each normalised by the *global* normaliser of its loss type; one optimizer
     step per pass over the batch.
Prompts come in a per-epoch permutation; the position lives in the checkpoint, and sample seeds
derive from (seed, epoch, prompt, sample), so a resumed run continues with the same rollouts.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time

import torch

from thinkpipe.core.errors import RunFailed, UsageError
from thinkpipe.core.records import resolve_format
from thinkpipe.core.records.jsonl import dumps
from thinkpipe.core.train import Trainer, dist
from thinkpipe.core.train.data import permutation

from . import losses
from .batch import Completion, encode, forward, padded
from .engine import HFEngine
from .rollouts import RolloutLog

log = logging.getLogger("thinkpipe.grpo")
# fields of a prompt record that describe its own trace or scoring, not the new trajectory
TRACE_FIELDS = {"messages", "response", "responses", "num_turns", "reflection", "end_reason",
                "finish_reason", "format", "score", "status", "extracted", "extract_method",
                "verifier", "score_detail", "prediction_from", "rewards", "reward"}


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


def sample_seed(seed: int, epoch: int, prompt_index: int, k: int) -> int:
    return int(hashlib.sha256(f"{seed}:{epoch}:{prompt_index}:{k}".encode()).hexdigest()[:8], 16)


class PromptStream:
    """Prompts in a per-epoch permutation; position = (epoch, prompts taken this epoch)."""

    def __init__(self, prompts: list[tuple[str, dict, list[dict]]], seed: int, state):
        self.prompts, self.seed, self.state = prompts, seed, state

    def take(self, count: int, rank: int, per_rank: int) -> list[tuple[int, int, tuple]]:
        """This rank's share of the next `count` prompts: (epoch, index, prompt)."""
        out, st = [], self.state
        for j in range(count):
            if st.micro >= len(self.prompts):
                st.epoch, st.micro = st.epoch + 1, 0
            idx = permutation(len(self.prompts), self.seed, st.epoch)[st.micro]
            if rank * per_rank <= j < (rank + 1) * per_rank:
                out.append((st.epoch, idx, self.prompts[idx]))
            st.micro += 1
        return out


def score(completions: list[Completion], record_of: dict, reward_fns, weights) -> None:
    """Weighted sum of the reward specs; a spec returning None leaves the sample unrewarded."""
    for c in completions:
        view = {k: v for k, v in record_of[c.prompt_id].items() if k not in ("response", "responses")}
        view["messages"] = c.traj.messages
        view["finish_reason"] = c.traj.reason     # a cut-off completion scores as truncated
        total = 0.0
        for fn, w in zip(reward_fns, weights):
            parts = fn(view)
            if parts is None:
                c.reward = None
                break
            c.rewards.update(parts)
            total += w * sum(parts.values())
        else:
            c.reward = total


class GRPORun:
    def __init__(self, config, items, policy, local_rank=None):
        """Load the policy, then read the prompts (each checked against the model: a prompt it
        cannot take is a bad record under --on-error), then plan the run and build the engine."""
        from thinkpipe.core.models import load
        from thinkpipe.core.rewards import load_reward

        from . import prompts_from

        self.cfg = config
        self.info = dist.setup(local_rank, need_group=config.train.uses_deepspeed)
        self.per_rank, self.per_step = batch_plan(config.train.per_device_train_batch_size,
                                                  config.train.gradient_accumulation_steps,
                                                  config.num_generations, self.info.world_size)
        self.bundle = load(config.model, device=str(self.info.device), train=True)
        prompts = prompts_from(items, config, policy, self.bundle)
        self.trainer = Trainer(config.train, self.bundle.model,
                               total_steps=planned_steps(config, len(prompts), self.per_step),
                               local_rank=local_rank)
        self.ref = self._reference() if config.beta > 0 else None
        self.engine = HFEngine(self.bundle, self.trainer.engine.module, config.rollout)
        self.reward_fns = [load_reward(s) for s in config.rewards]
        self.weights = list(config.reward_weights or [1.0] * len(self.reward_fns))
        self.record_of = {pid: rec for pid, rec, _ in prompts}
        self.stream = PromptStream(prompts, config.train.seed, self.trainer.state)
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
    def collect(self) -> tuple[list[Completion], dict]:
        """This rank's completions for one step (whole groups), and timings."""
        t0, G = time.perf_counter(), self.cfg.num_generations
        kept: list[list[Completion]] = []
        rounds, tied_total, groups_total = 0, 0, 0
        while True:
            rounds += 1
            taken = self.stream.take(self.per_step, self.info.rank, self.per_rank)
            prompts, seeds, owners = [], [], []
            for epoch, idx, (pid, rec, prompt) in taken:
                for k in range(G):
                    prompts.append(prompt)
                    seeds.append(sample_seed(self.cfg.train.seed, epoch, idx, k))
                    owners.append((pid, len(prompt), k))
            trajs = self.engine.generate(prompts, seeds)
            comps = [Completion(pid, 0, k, t, n) for (pid, n, k), t in zip(owners, trajs)]
            score(comps, self.record_of, self.reward_fns, self.weights)
            groups = [comps[i:i + G] for i in range(0, len(comps), G)]
            groups_total += len(groups)
            if self.cfg.filter_groups:
                tied = [g for g in groups if _tied(g)]
                tied_total += len(tied)
                groups = [g for g in groups if not _tied(g)]
            kept += groups
            short = max(0, self.per_rank - len(kept))
            need = dist.all_reduce_sum(short, self.info.device)  # every rank decides alike
            if not self.cfg.filter_groups or need == 0 or rounds >= self.cfg.max_filter_rounds:
                break
        while len(kept) < self.per_rank:  # still short: pad with masked copies (no gradient)
            filler = [Completion(c.prompt_id, 0, c.sample, c.traj, c.prompt_len, dict(c.rewards),
                                 c.reward, 0.0, trained=False) for c in kept[-1]] if kept else []
            if not filler:
                raise RunFailed(f"--filter-groups found no group with differing rewards in "
                                f"{rounds} sampling round(s) (--max-filter-rounds): every group's "
                                "rewards tie, so there is nothing to learn from")
            kept.append(filler)
        flat = []
        for i, group in enumerate(kept[:self.per_rank]):
            for c in group:
                c.group = i
                flat.append(c)
        return flat, {"rounds": rounds, "tied_groups": tied_total, "groups": groups_total,
                      "time_rollout": time.perf_counter() - t0}

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
        names = sorted({k for c in comps for k in c.rewards})
        for name in names:
            if name in self.warned or len(comps) < 2 * G:
                continue
            values = torch.tensor([c.rewards.get(name, 0.0) for c in comps])
            if losses.constant_within_groups(values, G) and len(set(values.tolist())) > 1:
                self.warned.add(name)
                log.warning("reward %s is constant within every group: group normalisation "
                            "cancels it, so it changes no advantage", name)

    def steps(self, budget: int):
        """One rollout batch, trained on for min(num_iterations, budget) optimizer steps: a
        metrics row per step (--max-steps counts optimizer steps, so a budget can end a batch's
        iterations early)."""
        cfg, info, trainer = self.cfg, self.info, self.trainer
        t_start = time.perf_counter()
        comps, stats = self.collect()
        t1 = time.perf_counter()
        self.advantages(comps)
        prompt_cache: dict = {}
        for c in comps:
            encode(c, self.bundle, cfg.max_seq_length, prompt_cache)
            c.trained = c.trained and c.tokens is not None
        live = [c for c in comps if c.tokens is not None]
        self._reference_logprobs(live)
        stats["time_reward"] = time.perf_counter() - t1
        self._write_rollouts(comps, trainer.state.step + 1)
        micro = cfg.train.per_device_train_batch_size
        batches = [comps[i:i + micro] for i in range(0, len(comps), micro)]
        norm = dist.all_reduce_sum(self._normaliser(comps), info.device) or 1.0
        for it in range(min(cfg.num_iterations, budget)):
            t2 = time.perf_counter()
            sums = {"loss": 0.0, "clipped": 0.0, "kl": 0.0, "entropy": 0.0, "tokens": 0.0}
            lr = trainer.engine.lr()
            for j, mb in enumerate(batches):
                self._micro(mb, norm, j == len(batches) - 1, sums)
            grad_norm = trainer.optimizer_step()
            self.engine.sync()
            stats["time_update"] = time.perf_counter() - t2
            yield self._metrics(comps, stats, sums, lr, grad_norm, it,
                                time.perf_counter() - (t_start if it == 0 else t2))

    def _normaliser(self, comps: list[Completion]) -> float:
        mask = [c for c in comps if c.trained]
        if self.cfg.loss_type == "dapo":
            return float(sum(sum(1 for x in c.tokens["labels"][1:] if x != -100) for c in mask))
        if self.cfg.loss_type == "dr_grpo":
            return float(len(mask) * self.cfg.rollout.max_total_tokens)
        return float(len(mask))

    def _reference_logprobs(self, comps: list[Completion]) -> None:
        """Old (before the first update, when num_iterations > 1) and reference log-probs."""
        micro = self.cfg.train.per_device_train_batch_size
        with torch.no_grad():
            for i in range(0, len(comps), micro):
                mb = comps[i:i + micro]
                if self.cfg.num_iterations > 1:
                    logp, mask, _ = forward(self.trainer.engine.module, mb, self.pad, self.info.device)
                    for c, row in zip(mb, logp):
                        c.old_logp = row[:len(c.tokens["input_ids"]) - 1].cpu()
                if self.ref is not None:
                    logp, _, _ = forward(self.ref, mb, self.pad, self.info.device)
                    for c, row in zip(mb, logp):
                        c.ref_logp = row[:len(c.tokens["input_ids"]) - 1].cpu()

    def _micro(self, mb: list[Completion], norm: float, last: bool, sums: dict):
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
        contrib, _ = losses.aggregate(out.per_token, mask, cfg.loss_type,
                                      cfg.rollout.max_total_tokens)
        self.trainer.engine.backward(contrib * info.world_size / norm, last)
        sums["loss"] += float(contrib.detach()) / norm  # summed over ranks in _metrics
        # every statistic over the same tokens: those trained on (mask, after --mask-truncated-
        # completions and the other exclusions), so entropy <= ln(vocabulary size)
        sums["clipped"] += float(out.clipped.sum())
        sums["kl"] += float(out.kl.detach().sum())
        sums["entropy"] += float((ent * mask).sum())
        sums["tokens"] += float(mask.sum())

    def _write_rollouts(self, comps: list[Completion], step: int) -> None:
        """Every trajectory of the batch as a record eval and reject-sample read: the prompt
        record's fields (its images included), `response` (the last assistant turn), `turns`,
        rewards, advantage and `finish_reason`; `step` is the first optimizer step it trains."""
        if self.rollout_log is None:
            return
        rows = []
        for c in comps:
            rec = self.record_of[c.prompt_id]
            base = {k: v for k, v in rec.items() if k not in TRACE_FIELDS}
            if isinstance(rec.get("messages"), list):     # the prompt, without a stored trace
                base["messages"] = prompt_turns(rec["messages"])
            turns = [m["content"] for m in c.traj.messages[c.prompt_len:] if m["role"] == "assistant"]
            rows.append({
                **base, "id": f"{c.prompt_id}-step{step}-g{c.group}-s{c.sample}",
                "prompt_id": c.prompt_id, "step": step, "group": c.group, "sample": c.sample,
                "seed": c.traj.seed, "response": turns[-1] if turns else "", "turns": turns,
                "rewards": c.rewards, "reward": c.reward, "advantage": c.advantage,
                "num_turns": c.traj.turns, "finish_reason": c.traj.reason, "trained": c.trained})
        self.rollout_log.write(rows)

    def _metrics(self, comps, stats, sums, lr, grad_norm, iteration, seconds) -> dict:
        info = self.info
        valid = [c for c in comps if c.reward is not None]
        keys = sorted({k for c in comps for k in c.rewards})
        local = {"n": len(comps), "n_valid": len(valid),
                 "r_sum": sum(c.reward for c in valid), "r_sq": sum(c.reward ** 2 for c in valid),
                 "len_sum": sum(c.length for c in comps), "turns": sum(c.traj.turns for c in comps),
                 "truncated": sum(c.truncated for c in comps), **sums,
                 **{f"c:{k}": sum(c.rewards.get(k, 0.0) for c in comps) for k in keys},
                 **{k: stats[k] for k in ("rounds", "tied_groups", "groups")}}
        total = {k: dist.all_reduce_sum(v, info.device) for k, v in local.items()}
        n, nv = max(1, total["n"]), max(1, total["n_valid"])

        def per_token(value: float) -> float | None:   # None: no token was trained on
            return value / total["tokens"] if total["tokens"] else None
        mean = total["r_sum"] / nv
        st = self.trainer.state
        row = {"step": st.step, "epoch": st.epoch + st.micro / max(1, len(self.stream.prompts)),
               "loss": total["loss"], "lr": lr, "grad_norm": grad_norm,
               "reward": mean, "reward_std": math.sqrt(max(0.0, total["r_sq"] / nv - mean ** 2)),
               **{f"rewards/{k}": total[f"c:{k}"] / n for k in keys},
               "kl": per_token(total["kl"]), "clip_fraction": per_token(total["clipped"]),
               "entropy": per_token(total["entropy"]), "iteration": iteration,
               "completion_length": total["len_sum"] / n, "turns": total["turns"] / n,
               "truncated_fraction": total["truncated"] / n,
               "tied_group_fraction": total["tied_groups"] / max(1.0, total["groups"]),
               "sampling_rounds": total["rounds"] / info.world_size,
               "trained_tokens": total["tokens"], "tokens_per_s": total["tokens"] / seconds,
               "time_rollout": stats["time_rollout"] if iteration == 0 else 0.0,
               "time_reward": stats["time_reward"] if iteration == 0 else 0.0,
               "time_update": stats["time_update"], "step_s": seconds}
        return row

    def close(self) -> None:
        if self.rollout_log is not None:
            self.rollout_log.close()


def prompt_turns(messages: list) -> list:
    """The turns before the first assistant turn."""
    first = next((i for i, m in enumerate(messages)
                  if isinstance(m, dict) and m.get("role") == "assistant"), len(messages))
    return messages[:first]


def _tied(group: list[Completion]) -> bool:
    values = [c.reward for c in group if c.reward is not None]
    return len(values) < 2 or max(values) - min(values) < 1e-12
