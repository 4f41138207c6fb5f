"""distill-plankd's records: one per frame, written by `collect`, read by `train`.

    {"id": "ep7-0042", "episode": 7, "frame": 42,
     "images": [BEV raster, an RGB PNG],            # scene.py says what each channel holds
     "measurements": [m1, ..., mM],                 # m1 = ego speed / 30 m/s; scene.MEASUREMENTS
     "target_point": [x, y],                        # metres, ego frame (x forward)
     "waypoints": [[x, y], ...],                    # K future ego positions, ego frame
     "actors": [[x, y], ...],                       # other agents' positions, ego frame (0..J)
     "labels": {"front": 0..2, "left_blocked": 0|1, ...}}   # scene.LABELS: planning states

A CARLA export fills the same fields: its BEV rendered as an image (any size, RGB), its
measurements (the speed / 30 first, then e.g. the command), the route's target point, the expert's future
waypoints, the nearby vehicles' and pedestrians' positions and the planning states the IB
decoder predicts (any names; each label's classes are counted from the data).
"""
from __future__ import annotations

import base64

from dataclasses import dataclass

import numpy as np
import torch

from thinkpipe.core.errors import RecordError

from . import scene
from .episode import Outcome, future_waypoints

FIELDS = ("images", "measurements", "target_point", "waypoints", "labels")


def frame_records(out: Outcome, episode: int, horizon: int) -> list[dict]:
    """An expert episode as records: every frame with `horizon` future frames (the ones
    before a crash dropped, as the waypoints would lead into it)."""
    from PIL import Image

    from thinkpipe.core.records.media import png_bytes
    frames = out.frames[:-5] if out.collided else out.frames
    rows = []
    for t, frame in enumerate(frames):
        wp = future_waypoints(frames, t, horizon)
        if wp is None:
            break
        if any(f.perturbed for f in frames[t:t + horizon]):   # its future holds a push
            continue
        rows.append({"id": f"ep{episode}-{t:04d}", "episode": episode, "frame": t,
                     "images": [{"path": None, "bytes": base64.b64encode(png_bytes(
                         Image.fromarray(frame.bev), compress_level=1)).decode("ascii")}],
                     "measurements": [round(float(v), 4) for v in frame.measurements],
                     "target_point": frame.target_point, "waypoints": wp.round(3).tolist(),
                     "actors": frame.actors.round(3).tolist(), "labels": frame.labels})
    return rows


@dataclass
class Frames:
    bev: torch.Tensor                    # (N, 3, H, W) uint8
    meas: torch.Tensor                   # (N, M)
    target: torch.Tensor                 # (N, 2)
    waypoints: torch.Tensor              # (N, K, 2)
    actors: torch.Tensor                 # (N, J, 2), zero-padded
    actor_mask: torch.Tensor             # (N, J) bool
    labels: torch.Tensor                 # (N, L) long
    episode: np.ndarray                  # (N,)
    label_names: tuple                   # (L,)
    label_classes: tuple                 # (L,) classes per label

    def __len__(self) -> int:
        return len(self.bev)

    def take(self, idx) -> "Frames":
        idx = torch.as_tensor(idx, dtype=torch.long)
        return Frames(self.bev[idx], self.meas[idx], self.target[idx], self.waypoints[idx],
                      self.actors[idx], self.actor_mask[idx], self.labels[idx],
                      self.episode[idx.numpy()], self.label_names, self.label_classes)


def _bev(where: str, record: dict) -> np.ndarray:
    from thinkpipe.core.records.media import open_image
    images = record["images"]
    if type(images) is not list or not images:
        raise RecordError(where, "images must be a list holding the BEV raster")
    try:
        return np.asarray(open_image(images[0]), np.uint8)
    except (OSError, ValueError) as e:
        raise RecordError(where, f"cannot read the BEV image: {e}") from None


def _points(where: str, record: dict, key: str, n: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(record.get(key) or np.zeros((0, 2)), np.float32)
    except (TypeError, ValueError):
        arr = np.zeros((0, 3))
    if arr.ndim != 2 or arr.shape[1] != 2 or (n is not None and len(arr) != n):
        raise RecordError(where, f"{key} must be a list of [x, y] pairs"
                          + (f" ({n} of them, as in the first record)" if n else ""))
    return arr


def _row(where: str, record: dict, first: dict | None) -> dict:
    missing = [k for k in FIELDS if k not in record] if type(record) is dict else FIELDS
    if missing:
        raise RecordError(where, f"a planner record needs {', '.join(missing)}")
    row = {"bev": _bev(where, record), "labels": record["labels"],
           "waypoints": _points(where, record, "waypoints", first and len(first["waypoints"])),
           "actors": _points(where, record, "actors"), "episode": record.get("episode", 0)}
    try:
        row["meas"] = np.asarray(record["measurements"], np.float32).reshape(-1)
        row["target"] = np.asarray(record["target_point"], np.float32).reshape(2)
    except (TypeError, ValueError):
        raise RecordError(where, "measurements must be numbers and target_point [x, y]") from None
    if type(row["labels"]) is not dict or not all(type(v) is int and v >= 0
                                                  for v in row["labels"].values()):
        raise RecordError(where, "labels must map names to class indices (0, 1, ...)")
    if first is not None:
        for key in ("meas", "labels"):
            same = (len(row[key]) == len(first[key]) if key == "meas"
                    else row[key].keys() == first[key].keys())
            if not same:
                name = "measurements" if key == "meas" else "label names"
                raise RecordError(where, f"{name} differ from the first record's")
        if row["bev"].shape != first["bev"].shape:
            raise RecordError(where, f"the BEV is {row['bev'].shape[:2]}, the first record's "
                              f"{first['bev'].shape[:2]}")
    return row


def load(items) -> Frames:
    """(where, record) pairs from the runner -> Frames; a bad record raises RecordError."""
    rows, first = [], None
    for where, record in items:
        row = _row(where, record, first)
        first = first or row
        rows.append(row)
    if not rows:
        raise RecordError("input", "no planner records")
    names = tuple(first["labels"])
    labels = torch.tensor([[r["labels"][n] for n in names] for r in rows], dtype=torch.long)
    classes = tuple(max(2, int(labels[:, i].max()) + 1) for i in range(len(names)))
    if names == tuple(n for n, _ in scene.LABELS):
        classes = tuple(max(c, k) for c, (_, k) in zip(classes, scene.LABELS))
    j = max(1, max(len(r["actors"]) for r in rows))
    actors = torch.zeros(len(rows), j, 2)
    mask = torch.zeros(len(rows), j, dtype=torch.bool)
    for i, r in enumerate(rows):
        actors[i, :len(r["actors"])] = torch.from_numpy(r["actors"])
        mask[i, :len(r["actors"])] = True
    bev = torch.from_numpy(np.stack([r["bev"] for r in rows])).permute(0, 3, 1, 2)
    return Frames(bev.contiguous(), torch.from_numpy(np.stack([r["meas"] for r in rows])),
                  torch.from_numpy(np.stack([r["target"] for r in rows])),
                  torch.from_numpy(np.stack([r["waypoints"] for r in rows])), actors, mask,
                  labels, np.asarray([r["episode"] for r in rows]), names, classes)
