"""One episode on a highway-env road: the expert (collect) or a planner (drive) at the wheel,
the scene observed every frame, the outcome scored like a CARLA leaderboard route.

Driving-score analogue: score = progress x penalty, where progress = min(1, distance along
the road / World.route) when the episode stops (route done, a collision, leaving the road, or
World.timeout) and the penalty multiplies CARLA's infraction coefficients: 0.60 for a
collision with a vehicle, 0.65 for leaving the road (CARLA's collision with the static
layout). An episode ends at its first infraction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import scene

PENALTY = {"collided": 0.60, "offroad": 0.65}


@dataclass
class Frame:
    bev: np.ndarray                      # uint8 (ROWS, COLS, 3)
    measurements: list                   # scene.MEASUREMENTS
    target_point: list                   # [x, y] ego frame
    actors: np.ndarray                   # (J, 2) ego frame
    labels: dict                         # scene.LABELS (the action ones once driven)
    position: np.ndarray                 # world (2,)
    heading: float                       # world, rad
    perturbed: bool = False              # the expert's action was pushed during this frame


@dataclass
class Outcome:
    frames: list = field(default_factory=list)
    collided: bool = False
    offroad: bool = False
    progress: float = 0.0
    mean_speed: float = 0.0
    seconds: float = 0.0                 # simulated

    @property
    def score(self) -> float:
        penalty = np.prod([PENALTY[k] for k in PENALTY if getattr(self, k)])
        return float(self.progress * penalty)


def observe(road, ego) -> Frame:
    rel = scene.actors(road, ego)
    return Frame(scene.rasterise(road, ego), scene.measurements(road, ego),
                 scene.target_point(road, ego), rel, scene.scene_labels(road, ego, rel),
                 ego.position.copy(), float(ego.heading))


def run(world: scene.World, seed: int, policy: Callable | None = None,
        keep_frames: bool = True) -> Outcome:
    """Drive one seeded episode. policy(frame) -> {"steering", "acceleration"} drives a plain
    kinematic ego; without one the IDM/MOBIL expert drives."""
    env = scene.make_env(world, seed)
    try:
        ego = scene.replace_ego(env, "planner" if policy else "idm", world.expert_speed)
        road, out, x0 = env.unwrapped.road, Outcome(), float(ego.position[0])
        substeps, speeds = max(1, world.sim_hz // world.frame_hz), []
        push = _Push(world.perturb if policy is None else 0.0, seed)
        for _ in range(int(world.timeout * world.frame_hz)):
            frame = observe(road, ego)
            if policy is not None:
                ego.action = policy(frame)
            frame.perturbed = push.next_frame()
            for k in range(substeps):
                road.act()
                push.apply(ego)
                if k == 0:
                    a = getattr(ego, "action", {}) or {}
                    frame.labels.update(scene.action_labels(ego, float(a.get("acceleration", 0)),
                                                            float(a.get("steering", 0))))
                road.step(1.0 / world.sim_hz)
            out.seconds += substeps / world.sim_hz
            speeds.append(float(ego.speed))
            if keep_frames:
                out.frames.append(frame)
            out.progress = min(1.0, max(0.0, float(ego.position[0]) - x0) / world.route)
            out.collided = bool(ego.crashed)
            out.offroad = not ego.lane.on_lane(ego.position, margin=1.0)
            if out.collided or out.offroad or out.progress >= 1.0:
                break
        out.mean_speed = float(np.mean(speeds)) if speeds else 0.0
        return out
    finally:
        env.close()


class _Push:
    """Perturbations of the expert for collect (DART/CIL-style noise injection): with chance
    `p` per frame a 1 s burst adds 1-3 m/s^2 of throttle to the expert's own command, so the
    data holds the states a planner that is too fast drives into, and the expert's recovery
    from them. Frames whose future holds a push are not recorded (data.frame_records)."""

    def __init__(self, p: float, seed: int):
        self.p, self.left, self.extra = p, 0, 0.0
        self.rng = np.random.default_rng([seed, 7]) if p > 0 else None

    def next_frame(self) -> bool:
        """Whether this frame is pushed (starting a burst with chance p)."""
        if self.rng is not None and self.left == 0 and self.rng.random() < self.p:
            self.left, self.extra = 5, float(self.rng.uniform(1.0, 3.0))
        if self.left == 0:
            self.extra = 0.0
            return False
        self.left -= 1
        return True

    def apply(self, ego) -> None:
        if self.extra and getattr(ego, "action", None):
            ego.action = {**ego.action, "acceleration": ego.action["acceleration"] + self.extra}


def future_waypoints(frames: list, t: int, horizon: int) -> np.ndarray | None:
    """The ego positions of frames t+1..t+horizon in frame t's ego frame, or None when the
    episode ends first."""
    if t + horizon >= len(frames):
        return None
    future = np.stack([frames[t + k].position for k in range(1, horizon + 1)])
    return scene.to_ego(future, frames[t].position, frames[t].heading)
