"""Which inputs are Hugging Face `datasets`: `hf:NAME[:CONFIG][@SPLIT]` and save_to_disk folders.

Only names and files are looked at here (no pyarrow, no `datasets`), so telling a plain record
file from a dataset stays as cheap as sniffing bytes; hf_read.py reads them, hf_write.py writes
save_to_disk folders.

    hf:openai/gsm8k:main@test    datasets.load_dataset("openai/gsm8k", "main", split="test")
    hf:/data/repo@train          a local dataset repository (JSON/Parquet/CSV files)
    data/train                   a save_to_disk folder: state.json, dataset_info.json, data-*.arrow
    data                         a DatasetDict folder (dataset_dict.json) with a single split

An input that starts with `hf:` always names a dataset; a file of that name is `./hf:...`.
"""
from __future__ import annotations

import json
import os

from ..errors import InputError

HUB_PREFIX = "hf:"
STATE, INFO, DICT = "state.json", "dataset_info.json", "dataset_dict.json"


def is_hub_spec(path: str) -> bool:
    return path.startswith(HUB_PREFIX)


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """`hf:NAME[:CONFIG][@SPLIT]` -> (name, config or None, split, "train" by default).

    The split is taken after the last `@` (it may be a slice such as `train[:100]`), the config
    after the last `:` of the rest when it holds no `/` (hub ids and paths keep theirs)."""
    rest = spec[len(HUB_PREFIX):]
    split = "train"
    if "@" in rest:
        head, _, tail = rest.rpartition("@")
        if tail and "/" not in tail:
            rest, split = head, tail
    config = None
    head, sep, tail = rest.rpartition(":")
    if sep and head and tail and "/" not in tail:
        rest, config = head, tail
    if not rest:
        raise InputError(f"{spec}: no dataset name; write hf:NAME[:CONFIG][@SPLIT]")
    return rest, config, split


def is_dataset_folder(path: str) -> bool:
    """A `Dataset.save_to_disk` folder (state.json and dataset_info.json beside the data)."""
    return os.path.isfile(os.path.join(path, STATE)) and os.path.isfile(os.path.join(path, INFO))


def is_dataset_dict_folder(path: str) -> bool:
    return os.path.isfile(os.path.join(path, DICT))


def is_datasets_input(path: str) -> bool:
    """Whether RecordReader reads `path` through hf_read rather than as a record file."""
    return is_hub_spec(path) or (os.path.isdir(path) and (
        is_dataset_folder(path) or is_dataset_dict_folder(path)))


def dataset_folder(path: str) -> str:
    """The save_to_disk folder to read for `path`: itself, or a DatasetDict's only split.
    InputError naming the splits when there are several."""
    if is_dataset_folder(path):
        return path
    try:
        with open(os.path.join(path, DICT), encoding="utf-8") as f:
            splits = list(json.load(f)["splits"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{path}: unreadable {DICT}: {e}") from None
    if len(splits) != 1:
        names = ", ".join(splits) or "none"
        example = os.path.join(path, splits[0]) if splits else f"{path}/SPLIT"
        raise InputError(f"{path}: a DatasetDict with splits {names}; give one split's folder, "
                         f"DIR/SPLIT (e.g. {example})")
    folder = os.path.join(path, splits[0])
    if not is_dataset_folder(folder):
        raise InputError(f"{folder}: split {splits[0]!r} listed in {DICT} is not a "
                         f"save_to_disk folder")
    return folder


def data_files(folder: str) -> list[str]:
    """The Arrow files of a save_to_disk folder, in the dataset's order (state.json's)."""
    try:
        with open(os.path.join(folder, STATE), encoding="utf-8") as f:
            names = [entry["filename"] for entry in json.load(f)["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InputError(f"{folder}: unreadable {STATE}: {e}") from None
    files = [os.path.join(folder, n) for n in names]
    for file in files:
        if not os.path.isfile(file):
            raise InputError(f"{folder}: {os.path.basename(file)}, listed in {STATE}, is missing")
    return files


def features_of(folder: str) -> dict:
    """dataset_info.json's `features` (datasets' JSON form), {} when it has none."""
    try:
        with open(os.path.join(folder, INFO), encoding="utf-8") as f:
            return json.load(f).get("features") or {}
    except (OSError, ValueError, AttributeError) as e:
        raise InputError(f"{folder}: unreadable {INFO}: {e}") from None
