"""Image datasets for pudnet-predict: an IDX folder (MNIST's files), scikit-learn's bundled
digits, or records (an image media reference + a label), all as one `ImageSet`.

An ImageSet holds images (N, C, S, S) float in [0, 1] at one size, labels (N,) long indexing
`names` (the classes as the data spells them), a split per image ("train" or "test") and ids.
Support sets are drawn from the train split, held-out images from the test split: MNIST's
t10k files, a record's "split" field, or for data without one a fixed 30% of each class.
"""
from __future__ import annotations

import gzip
import os
import struct
from dataclasses import dataclass

import numpy as np
import torch

from thinkpipe.core.errors import InputError, RecordError

IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


@dataclass
class ImageSet:
    images: torch.Tensor      # (N, C, S, S) float in [0, 1]
    labels: torch.Tensor      # (N,) long, an index into names
    names: list               # class names as the data spells them (int or str)
    split: np.ndarray         # (N,) "train" | "test"
    ids: list                 # (N,) record ids
    source: str               # what the data was, for summaries

    def where(self, split: str, classes: list[int] | None = None) -> np.ndarray:
        """Indices of one split, restricted to some class indices."""
        keep = self.split == split
        if classes is not None:
            keep &= np.isin(self.labels.numpy(), classes)
        return np.flatnonzero(keep)

    def class_index(self, wanted: list[str]) -> list[int]:
        """Class indices of names given on the command line (compared as text)."""
        text = [str(n) for n in self.names]
        missing = [w for w in wanted if w not in text]
        if missing:
            raise InputError(f"{self.source}: no class {', '.join(missing)} (it has "
                             f"{', '.join(text)})")
        return [text.index(w) for w in wanted]


def _held_out(labels: np.ndarray, fraction: float = 0.3) -> np.ndarray:
    """A fixed split for data without one: the last `fraction` of each class is test."""
    split = np.full(len(labels), "train", dtype=object)
    for c in np.unique(labels):
        at = np.flatnonzero(labels == c)
        split[at[len(at) - int(round(len(at) * fraction)):]] = "test"
    return split


def fit(images: torch.Tensor, size: int, channels: int) -> torch.Tensor:
    """(N, C', H, W) in [0, 1] at (size, size) with `channels` channels (bilinear resize;
    grey repeated to RGB, RGB averaged to grey)."""
    if images.shape[1] != channels:
        images = images.mean(1, keepdim=True) if channels == 1 else images[:, :1].expand(
            -1, channels, -1, -1)
    if images.shape[-2:] != (size, size):
        images = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear",
                                                 align_corners=False, antialias=True)
    return images.clamp(0, 1).contiguous()


def _idx_array(path: str) -> np.ndarray:
    opener = gzip.open if _is_gzip(path) else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 8:
        raise InputError(f"{path}: not an IDX file of unsigned bytes")
    dims = data[3]
    shape = struct.unpack(f">{dims}I", data[4:4 + 4 * dims])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims)
    if body.size != int(np.prod(shape)):
        raise InputError(f"{path}: {body.size} bytes where the header says {shape}")
    return body.reshape(shape)


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def _find(folder: str, stem: str) -> str | None:
    for name in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    return None


def load_idx(folder: str) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """MNIST-style IDX files in a folder: (images (N, 1, H, W), labels, split)."""
    parts = []
    for split, (img_stem, lab_stem) in IDX_FILES.items():
        img, lab = _find(folder, img_stem), _find(folder, lab_stem)
        if img is None or lab is None:
            if split == "train":
                raise InputError(f"{folder}: no {img_stem}[.gz] and {lab_stem}[.gz]")
            continue
        x, y = _idx_array(img), _idx_array(lab)
        if len(x) != len(y):
            raise InputError(f"{img}: {len(x)} images but {lab} has {len(y)} labels")
        parts.append((x, y.astype(np.int64), np.full(len(y), split, dtype=object)))
    x = np.concatenate([p[0] for p in parts])
    images = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    return images, np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts])


def load_digits() -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8x8 digits (1797 images; no download)."""
    try:
        from sklearn.datasets import load_digits as sk_digits
    except ImportError:
        raise InputError("--data digits needs scikit-learn: pip install -c constraints.txt "
                         "scikit-learn") from None
    d = sk_digits()
    images = torch.from_numpy(d.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = d.target.astype(np.int64)
    return images, labels, _held_out(labels)


def from_records(items, size: int) -> tuple[torch.Tensor, list, np.ndarray, list]:
    """(where, record) pairs with an image (`image`, or the first of `images`) and a `label`."""
    from thinkpipe.core.records.media import open_image
    from thinkpipe.core.records.ids import record_id

    pixels, labels, splits, ids = [], [], [], []
    for where, record in items:
        ref = record.get("image") or (record.get("images") or [None])[0]
        label = record.get("label", record.get("answer"))
        if ref is None or label is None or isinstance(label, (list, dict, float)):
            raise RecordError(where, "an image record needs an image and a label (int or text)")
        try:
            img = open_image(ref).resize((size, size))
        except (OSError, ValueError) as e:
            raise RecordError(where, f"cannot read the image: {e}") from None
        pixels.append(np.asarray(img, dtype=np.float32) / 255.0)
        labels.append(label)
        splits.append(record.get("split") if record.get("split") in ("train", "test") else None)
        ids.append(record_id(record))
    if not pixels:
        raise RecordError("input", "no image records")
    images = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2)
    return images, labels, np.array(splits, dtype=object), ids


def load(spec: str, size: int, channels: int, items=None) -> ImageSet:
    """`digits`, an IDX folder, or records (items from the runner) as an ImageSet."""
    ids = None
    if items is not None:
        images, raw, split, ids = from_records(items, size)
        names = sorted(set(raw), key=lambda v: (isinstance(v, str), v))
        labels = np.array([names.index(v) for v in raw], dtype=np.int64)
        if any(s is None for s in split):
            split = _held_out(labels)
    elif spec == "digits":
        images, labels, split = load_digits()
        names = sorted(set(labels.tolist()))
    elif os.path.isdir(spec):
        images, labels, split = load_idx(spec)
        names = sorted(set(labels.tolist()))
        labels = np.array([names.index(v) for v in labels], dtype=np.int64)
    else:
        raise InputError(f"{spec}: no such folder (give an IDX folder, digits, or a records file)")
    ids = ids or [f"{os.path.basename(spec.rstrip('/')) or spec}:{s}:{i}"
                  for i, s in enumerate(split)]
    return ImageSet(fit(images, size, channels), torch.as_tensor(labels), names,
                    np.asarray(split, dtype=object), ids, spec)
