"""Rollout collection, phases 1-2 of a GRPO step: prompts, G samples each, rewards.

    prompts_from(items, config, policy, bundle)  the usable prompt records (bad ones: the policy)
    PromptStream                                 prompts in a per-epoch permutation, resumable
    Collector.collect()                          this rank's whole groups for one rollout batch

Sample seeds derive from (seed, epoch, prompt index, sample), so a resumed run draws the same
rollouts. With --filter-groups (DAPO's dynamic sampling) groups whose rewards tie are dropped and
more prompts sampled, in rounds every rank takes together; a batch still short after
--max-filter-rounds is padded with masked copies of its last group (no gradient).
"""
from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import torch

from thinkpipe.core.errors import RunFailed
from thinkpipe.core.train import dist
from thinkpipe.core.train.data import permutation

from .batch import Completion
from .losses import tied_groups


def prompts_from(items: Iterator[tuple[str, dict]], config, policy, bundle=None):
    """(id, record, prompt messages) for every usable record, its videos decoded to frames;
    bad ones go to the policy: a prompt that cannot be built or that the model cannot take (an
    unreadable image or video, images for a text-only model), or no gold `answer` for a reward
    that needs one (accuracy, vilasr)."""
    from thinkpipe.core.drawing.rollout import prompt_for
    from thinkpipe.core.errors import UsageError
    from thinkpipe.core.models.chat import render
    from thinkpipe.core.records.jsonl import dumps
    from thinkpipe.core.rewards import NEEDS_ANSWER

    from thinkpipe.core.records.video import expand_videos

    gold = sorted(set(config.rewards) & NEEDS_ANSWER)
    out, seen = [], set()
    for where, record in items:
        try:
            if gold and record.get("answer") is None:
                raise ValueError(f"no gold `answer` for the {gold[0]} reward")
            record = expand_videos(record, config.max_frames, config.fps)
            prompt = prompt_for(record, config.system, config.rollout.tools == "draw")
            if bundle is not None:
                render(bundle, prompt)
        except (ValueError, OSError) as e:
            policy.handle(where, str(e), dumps(record))
            continue
        pid = str(record["id"]) if record.get("id") is not None else \
            "p" + hashlib.sha256(dumps(record)).hexdigest()[:12]
        if pid in seen:
            pid = f"{pid}#{len(out)}"
        seen.add(pid)
        out.append((pid, record, prompt))
    if not out:
        raise UsageError("no prompts to train on")
    return out


def sample_seed(seed: int, epoch: int, prompt_index: int, k: int) -> int:
    return int(hashlib.sha256(f"{seed}:{epoch}:{prompt_index}:{k}".encode()).hexdigest()[:8], 16)


class PromptStream:
    """Prompts in a per-epoch permutation; position = (epoch, prompts taken this epoch), kept
    in the trainer state, so a checkpoint resumes it."""

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


def _view(c: Completion, record: dict) -> dict:
    """What the reward specs see of a completion: its record, its messages, how it ended."""
    view = {k: v for k, v in record.items() if k not in ("response", "responses")}
    view["messages"] = c.traj.messages
    view["finish_reason"] = c.traj.reason     # a cut-off completion scores as truncated
    return view


def _concurrently(fn, items: list, concurrency: int) -> list:
    """[fn(x) for x in items], `concurrency` at a time in threads. The first failure (a
    ServiceError after its retries) cancels the calls not yet started and is raised once the
    running ones end."""
    if concurrency <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="reward")
    try:
        return list(pool.map(fn, items))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def score(completions: list[Completion], record_of: dict, reward_fns, weights,
          concurrency: int = 1) -> None:
    """Weighted sum of the reward specs; a spec returning None leaves the sample unrewarded.
    The calls of endpoint specs (`remote`) for the whole batch go out `concurrency` at a time;
    in-process specs run in this thread (math-verify's timer works only on the main thread).
    An exception from any call stops the batch: no step trains on partial rewards."""
    views = [_view(c, record_of[c.prompt_id]) for c in completions]
    parts = [[None] * len(reward_fns) for _ in completions]    # [completion][spec]
    remote = [k for k, fn in enumerate(reward_fns) if getattr(fn, "remote", False)]
    for k, fn in enumerate(reward_fns):
        if k not in remote:
            for i, view in enumerate(views):
                parts[i][k] = fn(view)
    jobs = [(i, k) for k in remote for i in range(len(views))]
    for (i, k), result in zip(jobs, _concurrently(lambda job: reward_fns[job[1]](views[job[0]]),
                                                  jobs, concurrency)):
        parts[i][k] = result
    for c, results in zip(completions, parts):
        total = 0.0
        for result, w in zip(results, weights):
            if result is None:
                c.reward = None
                break
            c.rewards.update(result)
            total += w * sum(result.values())
        else:
            c.reward = total


def tied(groups: list[list[Completion]]) -> list[bool]:
    """Per group: do its rewards tie (losses.tied_groups over the valid rewards)?"""
    if not groups:
        return []
    flat = [c for g in groups for c in g]
    rewards = torch.tensor([c.reward if c.reward is not None else 0.0 for c in flat])
    valid = torch.tensor([c.reward is not None for c in flat])
    return tied_groups(rewards, len(groups[0]), valid).tolist()


class Group(list):
    """One prompt's G completions; `shuffled`: its T-GRPO shuffled-frame samples (no gradient)."""

    def __init__(self, *items):
        super().__init__(*items)
        self.shuffled: list = []


def shuffled_prompts(cfg, record: dict, epoch: int, idx: int) -> list[tuple[list, list, int]]:
    """T-GRPO: (prompt, permutation, seed) for each shuffled-frame sample of a frames record
    (none for other records, or without --temporal)."""
    from thinkpipe.core.drawing.rollout import prompt_for
    from thinkpipe.core.records.video import frame_refs, shuffled

    if not cfg.shaping.temporal or not frame_refs(record) or len(frame_refs(record)) < 2:
        return []
    G, out = cfg.num_generations, []
    for j in range(cfg.shaping.shuffled_count(G)):
        rec, perm = shuffled(record, sample_seed(cfg.train.seed, epoch, idx, -1 - j))
        out.append((prompt_for(rec, cfg.system, cfg.rollout.tools == "draw"), list(perm),
                    sample_seed(cfg.train.seed, epoch, idx, G + j)))
    return out


class Collector:
    """Phases 1-2 of a step for one rank.

    cfg        the GRPOConfig (num_generations, filter_groups, max_filter_rounds, seed,
               reward_concurrency)
    sampler    generates trajectories (sampler.py)
    stream     the PromptStream
    record_of  prompt id -> its record (for the rewards)
    reward_fns the loaded --reward specs, and `weights` theirs
    info       this rank (core/train/dist.py)
    per_rank   groups this rank trains per step; per_step: prompts per step over all ranks
    shapers    the reward variants (variants.py), applied to every round's groups
    step       () -> the optimizer steps taken so far (Trust-GRPO's annealing)
    """

    def __init__(self, cfg, sampler, stream, record_of, reward_fns, weights, info, per_rank,
                 per_step, shapers=(), step=lambda: 0):
        self.cfg, self.sampler, self.stream, self.record_of = cfg, sampler, stream, record_of
        self.reward_fns, self.weights, self.info = reward_fns, weights, info
        self.per_rank, self.per_step, self.shapers, self.step = per_rank, per_step, shapers, step

    def sample(self) -> list[Group]:
        """One round: the next prompts, G scored completions each (and T-GRPO's shuffled-frame
        samples, generated in the same call), as shaped groups."""
        G = self.cfg.num_generations
        prompts, seeds, owners = [], [], []
        for epoch, idx, (pid, rec, prompt) in self.stream.take(self.per_step, self.info.rank,
                                                               self.per_rank):
            for k in range(G):
                prompts.append(prompt)
                seeds.append(sample_seed(self.cfg.train.seed, epoch, idx, k))
                owners.append((pid, len(prompt), k, None))
            for j, (p, perm, seed) in enumerate(shuffled_prompts(self.cfg, rec, epoch, idx)):
                prompts.append(p)
                seeds.append(seed)
                owners.append((pid, len(p), G + j, perm))
        self._pad_in_lock_step(prompts, seeds, owners)
        trajs = self.sampler.generate(prompts, seeds)
        comps = [Completion(pid, 0, k, t, n, permutation=perm)
                 for (pid, n, k, perm), t in zip(owners, trajs) if pid is not None]
        score(comps, self.record_of, self.reward_fns, self.weights, self.cfg.reward_concurrency)
        groups = []
        for c in comps:
            if c.permutation is not None:
                groups[-1].shuffled.append(c)
                c.trained = False
            else:
                if c.sample == 0:
                    groups.append(Group())
                groups[-1].append(c)
        for shaper in self.shapers:
            shaper(groups, self.step())
        return groups

    def _pad_in_lock_step(self, prompts: list, seeds: list, owners: list) -> None:
        """Every rank generates as many prompts (ZeRO-3 needs the same forward passes on all):
        ranks with fewer shuffled-frame samples than the most add throw-away ones."""
        if not self.cfg.shaping.temporal:
            return
        most = int(dist.all_reduce_max(len(prompts), self.info.device))
        while prompts and len(prompts) < most:
            prompts.append(prompts[0])
            seeds.append(seeds[0])
            owners.append((None, 0, -1, None))

    def collect(self) -> tuple[list[Completion], dict]:
        """This rank's completions for one step (whole groups, numbered), and statistics."""
        t0, kept, rounds, tied_count, groups_total = time.perf_counter(), [], 0, 0, 0
        while True:
            rounds += 1
            groups = self.sample()
            ties = tied(groups)
            groups_total, tied_count = groups_total + len(groups), tied_count + sum(ties)
            kept += [g for g, t in zip(groups, ties) if not (t and self.cfg.filter_groups)]
            need = dist.all_reduce_sum(max(0, self.per_rank - len(kept)), self.info.device)
            if not self.cfg.filter_groups or need == 0 or rounds >= self.cfg.max_filter_rounds:
                break
        while len(kept) < self.per_rank:   # still short: pad with masked copies (no gradient)
            if not kept:
                raise RunFailed(f"--filter-groups found no group with differing rewards in "
                                f"{rounds} sampling round(s) (--max-filter-rounds): every "
                                "group's rewards tie, so there is nothing to learn from")
            kept.append([Completion(c.prompt_id, 0, c.sample, c.traj, c.prompt_len,
                                    dict(c.rewards), c.reward, 0.0, trained=False)
                         for c in kept[-1]])
        flat = []
        for i, group in enumerate(kept[:self.per_rank]):
            for c in group:
                c.group = i
                flat.append(c)
        shuffled = []
        for i, group in enumerate(kept[:self.per_rank]):
            for s in getattr(group, "shuffled", []):
                s.group = i
                shuffled.append(s)
        shaping: dict = {}
        for shaper in self.shapers:
            shaping.update(shaper.stats())
        return flat, {"rounds": rounds, "tied_groups": tied_count, "groups": groups_total,
                      "time_rollout": time.perf_counter() - t0, "shuffled": shuffled,
                      "shaping": shaping}
