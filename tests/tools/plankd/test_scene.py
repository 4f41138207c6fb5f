"""The simulator side: seeded episodes repeat exactly, the raster shows the road and the
vehicles where they are, the controller steers towards its waypoints, records round-trip and
bad ones are named."""
import numpy as np
import pytest

from thinkpipe.core.errors import RecordError
from thinkpipe.tools.plankd import data, drive, episode, scene

SMALL = scene.World(vehicles=6, route=80.0, timeout=8.0)


def test_a_seeded_expert_episode_repeats_exactly():
    a, b = episode.run(SMALL, 3), episode.run(SMALL, 3)
    assert len(a.frames) == len(b.frames) > 10
    assert all(np.array_equal(x.bev, y.bev) and np.array_equal(x.position, y.position)
               for x, y in zip(a.frames, b.frames))
    c = episode.run(SMALL, 4)
    assert not np.array_equal(a.frames[0].bev, c.frames[0].bev)


def test_raster_road_and_a_vehicle_ahead():
    env = scene.make_env(SMALL, 0)
    road, ego = env.unwrapped.road, env.unwrapped.vehicle
    for v in list(road.vehicles):
        if v is not ego:
            road.vehicles.remove(v)
    other = type(ego)(road, ego.position + np.array([20.0, 0.0]), ego.heading, ego.speed + 5)
    road.vehicles.append(other)
    bev = scene.rasterise(road, ego)
    row = int((0 - scene.Y_RANGE[0]) / scene.CELL)           # the ego's own row
    col = int((20 - scene.X_RANGE[0]) / scene.CELL)           # 20 m ahead
    assert bev[row, col, 1] == 255 and bev[row, col, 2] == 128 + 8 * 5
    assert bev[row, col - 5, 1] == 0 and bev[row, 0, 0] >= 128       # road behind, no car
    assert scene.scene_labels(road, ego, scene.actors(road, ego))["front"] == 1   # 15-40 m
    assert scene.actors(road, ego).round(3).tolist() == [[20.0, 0.0]]
    env.close()


def test_controller_holds_speed_on_straight_waypoints_and_steers_to_the_side():
    straight = np.stack([np.arange(1, 11) * 4.0, np.zeros(10)], 1)   # 20 m/s at 0.2 s
    act = drive.control(straight, 20.0, 0.2)
    assert act == {"steering": 0.0, "acceleration": 0.0}
    assert drive.control(straight, 25.0, 0.2)["acceleration"] < 0
    side = straight + np.array([0.0, 2.0])
    assert drive.control(side, 20.0, 0.2)["steering"] > 0             # towards +y


def test_records_round_trip_and_keep_their_shapes():
    out = episode.run(SMALL, 1)
    rows = data.frame_records(out, 1, 10)
    assert len(rows) == len(out.frames) - 10
    frames = data.load((f"d.jsonl:{i + 1}", r) for i, r in enumerate(rows))
    assert frames.bev.shape == (len(rows), 3, scene.ROWS, scene.COLS)
    assert frames.waypoints.shape == (len(rows), 10, 2)
    assert frames.label_names == tuple(n for n, _ in scene.LABELS)
    assert frames.label_classes == tuple(k for _, k in scene.LABELS)
    wp0 = np.asarray(rows[0]["waypoints"])
    assert (np.diff(wp0[:, 0]) > 0).all()                              # the expert drives forward


@pytest.mark.parametrize("change, message", [
    (lambda r: r.pop("waypoints"), "needs waypoints"),
    (lambda r: r.update(waypoints=[[0, 0]]), r"1 of them|10 of them"),
    (lambda r: r.update(labels={"brake": -1}), "labels must map"),
    (lambda r: r.update(images=[{"path": None, "bytes": "aGVsbG8="}]), "cannot read the BEV"),
    (lambda r: r.update(measurements=[1.0]), "measurements differ"),
])
def test_a_bad_record_is_named(change, message):
    rows = data.frame_records(episode.run(SMALL, 1), 1, 10)[:3]
    change(rows[2])
    with pytest.raises(RecordError, match=message) as e:
        data.load((f"d.jsonl:{i + 1}", r) for i, r in enumerate(rows))
    assert e.value.where == "d.jsonl:3"


def test_pushed_frames_never_enter_a_waypoint_label():
    pushed = scene.World(vehicles=6, route=200.0, timeout=20.0, perturb=0.2)
    out = episode.run(pushed, 2)
    flags = [f.perturbed for f in out.frames]
    assert 0 < sum(flags) < len(flags)
    kept = {r["frame"] for r in data.frame_records(out, 2, 10)}
    assert kept and all(not any(flags[t:t + 10]) for t in kept)
    assert episode.run(pushed, 2).frames[5].perturbed == out.frames[5].perturbed
