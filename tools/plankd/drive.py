"""Closed-loop driving: a planner's waypoints -> a controller -> highway-env, one record per
episode and a summary.

Controller (ours; TCP and InterFuser use PID controllers of the same shape): the desired speed
is the mean spacing of the first four waypoints over the frame time; acceleration
= (desired - current) / 0.6 s (highway-env's own speed gain), clipped to [-6, 3] m/s^2;
steering is pure pursuit on the fourth waypoint for highway-env's bicycle model,
tan(delta) = 2 L sin(alpha) / d (L = 5 m, the vehicle length its yaw rate uses), clipped to
0.5 rad.
"""
from __future__ import annotations

import math
import time

import numpy as np
import torch

from . import episode, scene

LOOK, GAIN, ACCEL, STEER = 4, 1 / 0.6, (-6.0, 3.0), 0.5


def control(waypoints: np.ndarray, speed: float, dt: float) -> dict:
    """Waypoints (K, 2) in the ego frame at the frame time `dt` apart -> an action."""
    pts = np.vstack([np.zeros((1, 2)), waypoints[:LOOK]])
    desired = float(np.linalg.norm(np.diff(pts, axis=0), axis=1).mean() / dt)
    aim = waypoints[min(LOOK, len(waypoints)) - 1]
    dist = max(1.0, float(np.linalg.norm(aim)))
    steer = math.atan(2 * 5.0 * math.sin(math.atan2(aim[1], aim[0])) / dist)
    return {"steering": float(np.clip(steer, -STEER, STEER)),
            "acceleration": float(np.clip(GAIN * (desired - speed), *ACCEL))}


class PlannerPolicy:
    """frame -> action through a planner, timing each forward pass."""

    def __init__(self, model, world: scene.World):
        self.model, self.dt, self.ms = model.eval(), 1.0 / world.frame_hz, []

    @torch.no_grad()
    def __call__(self, frame: episode.Frame) -> dict:
        bev = torch.from_numpy(np.ascontiguousarray(frame.bev)).permute(2, 0, 1).unsqueeze(0)
        meas = torch.tensor([frame.measurements], dtype=torch.float32)
        target = torch.tensor([frame.target_point], dtype=torch.float32)
        clock = time.perf_counter()
        wp = self.model(bev, meas, target)["waypoints"][0].numpy()
        self.ms.append(1000 * (time.perf_counter() - clock))
        return control(wp, frame.measurements[0] * scene.SPEED_UNIT, self.dt)


def drive(model, world: scene.World, episodes: int, seed: int, on_episode) -> dict:
    """Drive `episodes` seeded episodes (seed, seed + 1, ...) with `model` (None: the expert);
    on_episode(record) for each; returns the summary record."""
    from thinkpipe.core.progress import current
    progress, rows, ms = current(), [], []
    progress.begin("episodes", total=episodes)
    for i in range(episodes):
        policy = PlannerPolicy(model, world) if model is not None else None
        out = episode.run(world, seed + i, policy, keep_frames=False)
        row = {"episode": i, "seed": seed + i, "collided": out.collided, "offroad": out.offroad,
               "progress": round(out.progress, 4), "mean_speed": round(out.mean_speed, 3),
               "score": round(out.score, 4), "seconds": round(out.seconds, 1)}
        if policy is not None and policy.ms:
            ms.extend(policy.ms)
            row["model_ms"] = round(float(np.median(policy.ms)), 3)
        rows.append(row)
        on_episode(row)
        progress.advance(1, score=f"{np.mean([r['score'] for r in rows]):.3f}")
    progress.end()
    return summary(rows, ms)


def summary(rows: list[dict], ms: list[float]) -> dict:
    score = np.array([r["score"] for r in rows])
    half = 1.96 * score.std(ddof=1) / math.sqrt(len(score)) if len(score) > 1 else float("nan")
    out = {"summary": True, "episodes": len(rows),
           "collision_rate": round(float(np.mean([r["collided"] for r in rows])), 4),
           "offroad_rate": round(float(np.mean([r["offroad"] for r in rows])), 4),
           "progress_mean": round(float(np.mean([r["progress"] for r in rows])), 4),
           "score_mean": round(float(score.mean()), 4), "score_ci95": round(float(half), 4),
           "mean_speed": round(float(np.mean([r["mean_speed"] for r in rows])), 3)}
    if ms:
        out["model_ms"] = round(float(np.median(ms)), 3)
    return out
