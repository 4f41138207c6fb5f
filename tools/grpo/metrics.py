"""One metrics row per optimizer step, summed over ranks (what `grpo` writes as JSONL).

    reward, reward_std, rewards/<name>   over the step's completions (the batch's, every iteration)
    loss, lr, grad_norm, iteration       this optimizer step (iteration: 0..num_iterations-1)
    kl, clip_fraction, entropy           per trained token; null when no token was trained on
    completion_length, turns, truncated_fraction
    tied_group_fraction                  groups whose rewards all tie (TRL's
                                         frac_reward_zero_std), --filter-groups or not: near 1
                                         means the run cannot learn
    sampling_rounds, trained_tokens, tokens_per_s, time_rollout/reward/update, step_s
    thinking, trust_gamma, trust_fired, think_weight      Trust-GRPO: mean R^t of the scored
                                         responses, mean gamma, fraction of groups with
                                         gamma < 1, mean weight applied to R^t
    thinking_calls, thinking_failures, thinking_s         reward-model calls, failures, seconds
    temporal_fired, temporal_p, temporal_p_shuffled       T-GRPO: fraction of frame groups
                                         given the bonus, mean ordered / shuffled accuracy
    length_bonus, format_broken          fraction given the length bonus / failing the format
"""
from __future__ import annotations

import math

from thinkpipe.core.train import dist


def step_row(comps, stats: dict, sums: dict, lr: float, grad_norm: float, iteration: int,
             seconds: float, info, state, n_prompts: int) -> dict:
    valid = [c for c in comps if c.reward is not None]
    keys = sorted({k for c in comps for k in c.rewards})
    local = {"n": len(comps), "n_valid": len(valid),
             "r_sum": sum(c.reward for c in valid), "r_sq": sum(c.reward ** 2 for c in valid),
             "len_sum": sum(c.length for c in comps), "turns": sum(c.traj.turns for c in comps),
             "truncated": sum(c.truncated for c in comps), **sums,
             **{f"c:{k}": sum(c.rewards.get(k, 0.0) for c in comps) for k in keys},
             **{k: stats[k] for k in ("rounds", "tied_groups", "groups")}}
    for key, (value, count) in stats.get("shaping", {}).items():   # (sum, count) per rank
        local[f"s:{key}"], local[f"n:{key}"] = value, count
    total = {k: dist.all_reduce_sum(v, info.device) for k, v in local.items()}
    n, nv = max(1, total["n"]), max(1, total["n_valid"])

    def per_token(value: float) -> float | None:   # None: no token was trained on
        return value / total["tokens"] if total["tokens"] else None
    mean = total["r_sum"] / nv
    first = iteration == 0
    return {"step": state.step, "epoch": state.epoch + state.micro / max(1, n_prompts),
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
            "time_rollout": stats["time_rollout"] if first else 0.0,
            "time_reward": stats["time_reward"] if first else 0.0,
            "time_update": stats["time_update"], "step_s": seconds,
            **_shaping(total, first)}


def _shaping(total: dict, first: bool) -> dict:
    """Variant metrics (variants.py): means over what each counted; call counts and seconds as
    totals; reported on a batch's first iteration only (they belong to its rollouts)."""
    out = {}
    for key in sorted(k[2:] for k in total if k.startswith("s:")):
        value, count = total[f"s:{key}"], total[f"n:{key}"]
        if key in ("thinking_calls", "thinking_failures", "thinking_s"):
            out[key] = value if first else 0
        else:
            out[key] = value / count if count else None
    return out
