"""Image data: IDX files (gzip or not), records with image references, and the fixed split."""
import gzip
import struct

import numpy as np
import pytest

from thinkpipe.core.errors import InputError, RecordError
from thinkpipe.tools.pudnet.data import load


def _idx(path, array, compress):
    body = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    data = body + array.astype(np.uint8).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


def test_an_idx_folder_gives_train_and_test_splits(tmp_path):
    rng = np.random.default_rng(0)
    _idx(tmp_path / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (6, 10, 10)), True)
    _idx(tmp_path / "train-labels-idx1-ubyte.gz", np.array([3, 1, 3, 1, 3, 1]), True)
    _idx(tmp_path / "t10k-images-idx3-ubyte", rng.integers(0, 256, (2, 10, 10)), False)
    _idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 3]), False)
    data = load(str(tmp_path), 12, 1)
    assert data.images.shape == (8, 1, 12, 12) and 0 <= data.images.min() <= data.images.max() <= 1
    assert data.names == [1, 3] and data.labels.tolist() == [1, 0, 1, 0, 1, 0, 0, 1]
    assert list(data.split).count("test") == 2
    assert data.class_index(["3"]) == [1]
    with pytest.raises(InputError, match="no class 7"):
        data.class_index(["7"])


def test_a_broken_idx_file_is_named(tmp_path):
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"not idx at all")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"\0\0\x08\x01\0\0\0\x02\x01\x02")
    with pytest.raises(InputError, match="train-images-idx3-ubyte: not an IDX file"):
        load(str(tmp_path), 12, 1)


def test_records_with_images_and_text_labels(red_png):
    items = [(f"in.jsonl:{i + 1}", {"id": f"r{i}", "image": red_png, "label": lab})
             for i, lab in enumerate(["cat", "dog"] * 5)]
    data = load("in.jsonl", 8, 3, items=iter(items))
    assert data.images.shape == (10, 3, 8, 8) and data.names == ["cat", "dog"]
    assert data.ids[0] == "r0" and list(data.split).count("test") == 4   # 30% of each class
    assert float(data.images[0, 0].mean()) > 0.8 > float(data.images[0, 1].mean())
    grey = load("in.jsonl", 8, 1, items=iter(items))
    assert grey.images.shape == (10, 1, 8, 8)


def test_a_record_without_an_image_names_its_line(red_png):
    with pytest.raises(RecordError, match="in.jsonl:2: an image record needs"):
        load("in.jsonl", 8, 1, items=iter([("in.jsonl:1", {"image": red_png, "label": 0}),
                                          ("in.jsonl:2", {"label": 1})]))
