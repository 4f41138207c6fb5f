"""The simulator side of distill-plankd: a highway-env road (highway-env 1.12: IDM/MOBIL
traffic, kinematic bicycle vehicles, real collision checks), seen from the ego vehicle as a
BEV raster, measurements, a target point, actor positions and planning labels.

Ego frame: x forward along the ego's heading, y to the side (highway-env's lateral axis),
metres. The BEV raster covers x in [-16, 64) and y in [-16, 16) at 1 m per pixel, an RGB
image of 32 rows (y) by 80 columns (x):
    R  the road (128) and its lane lines (255)
    G  other vehicles (255)
    B  their speed relative to the ego, 128 + 8 * (v_other - v_ego) m/s, clipped to 1..255
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

X_RANGE, Y_RANGE, CELL = (-16.0, 64.0), (-16.0, 16.0), 1.0
ROWS, COLS = int((Y_RANGE[1] - Y_RANGE[0]) / CELL), int((X_RANGE[1] - X_RANGE[0]) / CELL)
ACTOR_RADIUS, MAX_ACTORS = 50.0, 15
LABELS = (("front", 3), ("left_blocked", 2), ("right_blocked", 2), ("vehicle_near", 2),
          ("lane_change", 2), ("brake", 2), ("steer", 2), ("throttle", 2))
MEASUREMENTS = ("speed / 30", "heading to the lane, rad", "lateral offset in the lane / 2",
                "left lane exists", "right lane exists")
SPEED_UNIT = 30.0                        # measurements[0] = ego speed / SPEED_UNIT (m/s)
TARGET_AHEAD = 40.0                      # the target point: this far ahead on the ego's lane


@dataclass(frozen=True)
class World:
    lanes: int = 3                       # highway lanes
    vehicles: int = 20                   # other vehicles (IDM/MOBIL, randomised behaviour)
    density: float = 1.0                 # highway-env vehicles_density
    sim_hz: int = 10                     # simulation steps per second
    frame_hz: int = 5                    # planner (and record) frames per second
    route: float = 400.0                 # metres to drive for progress 1
    timeout: float = 40.0                # seconds before an episode stops
    expert_speed: float = 30.0           # the IDM expert's target speed, m/s
    perturb: float = 0.0                 # collect: chance per frame of a 1 s throttle push (DART-like)


def make_env(world: World, seed: int):
    """A reset highway-v0 environment; its road is driven directly (no observation or reward
    is computed: the tool observes the scene itself)."""
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the environments)
    env = gym.make("highway-v0")
    env.unwrapped.configure({"lanes_count": world.lanes, "vehicles_count": world.vehicles,
                             "vehicles_density": world.density, "duration": world.timeout,
                             "simulation_frequency": world.sim_hz,
                             "policy_frequency": world.frame_hz})
    env.reset(seed=seed)
    return env


def replace_ego(env, kind: str, target_speed: float):
    """Swap the controlled vehicle for the expert (`idm`: IDM speed, MOBIL lane changes) or a
    plain kinematic vehicle (`planner`: its action is set by the controller)."""
    from highway_env.vehicle.behavior import IDMVehicle
    from highway_env.vehicle.kinematics import Vehicle
    road, old = env.unwrapped.road, env.unwrapped.vehicle
    if kind == "idm":
        ego = IDMVehicle.create_from(old)
        ego.target_speed = target_speed
    else:
        ego = Vehicle(road, old.position.copy(), old.heading, old.speed)
    road.vehicles[road.vehicles.index(old)] = ego
    env.unwrapped.vehicle = ego
    env.unwrapped.controlled_vehicles = [ego]
    return ego


def to_ego(points: np.ndarray, origin: np.ndarray, heading: float) -> np.ndarray:
    """World points (..., 2) in the frame of a vehicle at `origin` facing `heading`."""
    c, s = np.cos(heading), np.sin(heading)
    d = points - origin
    return np.stack([d[..., 0] * c + d[..., 1] * s, -d[..., 0] * s + d[..., 1] * c], axis=-1)


def _grid(ego) -> np.ndarray:
    """World coordinates of every raster cell centre: (ROWS, COLS, 2)."""
    xs = X_RANGE[0] + CELL * (np.arange(COLS) + 0.5)
    ys = Y_RANGE[0] + CELL * (np.arange(ROWS) + 0.5)
    local = np.stack(np.meshgrid(xs, ys), axis=-1)
    c, s = np.cos(ego.heading), np.sin(ego.heading)
    return ego.position + np.stack([local[..., 0] * c - local[..., 1] * s,
                                    local[..., 0] * s + local[..., 1] * c], axis=-1)


def rasterise(road, ego) -> np.ndarray:
    """The BEV raster of the scene around `ego`: uint8 (ROWS, COLS, 3)."""
    world = _grid(ego)
    bev = np.zeros((ROWS, COLS, 3), np.uint8)
    for lane in road.network.lanes_list():
        lat = np.abs((world - lane.start) @ lane.direction_lateral)   # straight lanes
        half = lane.width_at(0) / 2
        red = bev[..., 0]
        red[(lat <= half) & (red < 128)] = 128
        red[np.abs(lat - half) < CELL / 2] = 255
    for other in road.vehicles:
        if other is ego or np.linalg.norm(other.position - ego.position) > 80:
            continue
        u = to_ego(world, other.position, other.heading)
        inside = (np.abs(u[..., 0]) <= other.LENGTH / 2) & (np.abs(u[..., 1]) <= other.WIDTH / 2 + 0.25)
        rel = other.speed * np.cos(other.heading - ego.heading) - ego.speed
        bev[..., 1][inside] = 255
        bev[..., 2][inside] = int(np.clip(128 + 8 * rel, 1, 255))
    return bev


def _lanes(road, ego):
    index = ego.lane_index
    side = road.network.side_lanes(index)
    left = any(i[2] < index[2] for i in side)
    right = any(i[2] > index[2] for i in side)
    return road.network.get_lane(index), left, right


def measurements(road, ego) -> list[float]:
    """The MEASUREMENTS vector of `ego`."""
    lane, left, right = _lanes(road, ego)
    s, lat = lane.local_coordinates(ego.position)
    heading = (ego.heading - lane.heading_at(s) + np.pi) % (2 * np.pi) - np.pi
    return [ego.speed / SPEED_UNIT, float(heading), float(lat) / 2.0, float(left), float(right)]


def target_point(road, ego) -> list[float]:
    """TARGET_AHEAD metres ahead on the centre of the ego's lane, in the ego frame."""
    lane = road.network.get_lane(ego.lane_index)
    s, _ = lane.local_coordinates(ego.position)
    return to_ego(np.asarray(lane.position(s + TARGET_AHEAD, 0.0)), ego.position,
                  ego.heading).round(3).tolist()


def actors(road, ego) -> np.ndarray:
    """Ego-frame positions of the MAX_ACTORS nearest other vehicles within ACTOR_RADIUS."""
    others = [v.position for v in road.vehicles if v is not ego]
    if not others:
        return np.zeros((0, 2))
    pos = to_ego(np.asarray(others), ego.position, ego.heading)
    dist = np.linalg.norm(pos, axis=1)
    keep = np.argsort(dist)[:MAX_ACTORS]
    return pos[keep[dist[keep] <= ACTOR_RADIUS]]


def scene_labels(road, ego, rel: np.ndarray) -> dict:
    """The planning labels that the scene alone decides (the expert's action adds the rest)."""
    lane, left, right = _lanes(road, ego)
    lane_w = lane.width_at(0)
    ahead = rel[(np.abs(rel[:, 1]) < lane_w / 2) & (rel[:, 0] > 0), 0] if len(rel) else rel
    gap = float(ahead.min()) if len(ahead) else np.inf
    near_side = (rel[:, 0] > -10) & (rel[:, 0] < 20) if len(rel) else np.zeros(0, bool)
    left_busy = bool(np.any(near_side & (rel[:, 1] < -lane_w / 2) & (rel[:, 1] > -1.5 * lane_w)))
    right_busy = bool(np.any(near_side & (rel[:, 1] > lane_w / 2) & (rel[:, 1] < 1.5 * lane_w)))
    return {"front": 2 if gap < 15 else 1 if gap < 40 else 0,
            "left_blocked": int(left_busy or not left), "right_blocked": int(right_busy or not right),
            "vehicle_near": int(bool(len(rel)) and float(np.linalg.norm(rel, axis=1).min()) < 12)}


def action_labels(ego, accel: float, steering: float) -> dict:
    """Labels from what the driver did (the code's brake / steer / throttle)."""
    return {"lane_change": int(ego.lane_index != getattr(ego, "target_lane_index", ego.lane_index)),
            "brake": int(accel < -0.5), "steer": int(abs(steering) > 0.02),
            "throttle": int(accel > 0.1)}
