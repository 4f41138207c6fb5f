"""Reading Hugging Face `datasets` as records: save_to_disk folders and `hf:NAME` datasets.

A save_to_disk folder holds Arrow IPC stream files (data-0000K-of-0000N.arrow, in state.json's
order). Each is memory-mapped and read batch by batch, a batch cut to at most BATCH_ROWS rows
before it becomes Python dicts, so memory stays at one small batch whatever the dataset's size.
`hf:NAME[:CONFIG][@SPLIT]` goes through `datasets.load_dataset` (imported only then; offline it
reads the local cache) and its memory-mapped table is iterated the same way.

A folder we wrote (hf_write.py) carries the `thinkpipe` schema metadata and is decoded exactly as
our Parquet is (parquet.restorer), so JSONL -> folder -> JSONL gives back every field and value.
Anything else is read as plain rows, except that Image / Audio / Video feature columns (and lists
of them) become media references: {"path": p, "bytes": raw bytes}, or the path alone.
"""
from __future__ import annotations

import os
from typing import Callable, Iterator

import pyarrow as pa

from . import hf
from ..errors import InputError, RecordError
from .parquet import BATCH_ROWS, check_schema, iter_rows, restorer, thinkpipe_meta

MEDIA_TYPES = ("Image", "Audio", "Video")
LIST_TYPES = ("List", "Sequence", "LargeList")


def iter_folder(path: str, pos: list) -> Iterator[dict]:
    """The records of a save_to_disk folder (or a single-split DatasetDict folder) at `path`."""
    folder = hf.dataset_folder(path)
    files = hf.data_files(folder)
    features = hf.features_of(folder)
    batches = _file_batches(files, path)
    first = next(batches, None)
    if first is None:
        return
    schema = first.schema
    check_schema(schema, path)
    restore = restorer(schema) if thinkpipe_meta(schema) is not None else \
        media_restorer(features)
    yield from iter_rows(_chain(first, batches), restore, path, pos, "dataset")


def _file_batches(files: list[str], name: str) -> Iterator[pa.RecordBatch]:
    """The batches of every file in turn, each file memory-mapped, none larger than BATCH_ROWS."""
    for file in files:
        try:
            reader = pa.ipc.open_stream(pa.memory_map(file, "r"))
        except (pa.ArrowException, OSError) as e:
            raise RecordError(name, f"{os.path.basename(file)}: not a readable Arrow stream "
                              f"file: {e}") from None
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as e:
                raise RecordError(name, f"{os.path.basename(file)}: cannot read: {e}") from None
            yield from _slices(batch)


def _slices(batch) -> Iterator:
    """`batch` (a RecordBatch or Table) in pieces of at most BATCH_ROWS rows (zero-copy)."""
    for start in range(0, batch.num_rows, BATCH_ROWS):
        yield batch.slice(start, BATCH_ROWS)


def _chain(first, rest: Iterator) -> Iterator:
    yield first
    yield from rest


def _media_kind(feature) -> str | None:
    """"one" for an Image/Audio/Video feature, "list" for a list of them, else None (datasets'
    JSON form: {"_type": "Image"}, {"_type": "List", "feature": {...}}, or an old [{...}])."""
    if isinstance(feature, list) and len(feature) == 1:
        return "list" if _media_kind(feature[0]) == "one" else None
    if not isinstance(feature, dict):
        return None
    if feature.get("_type") in MEDIA_TYPES:
        return "one"
    if feature.get("_type") in LIST_TYPES and _media_kind(feature.get("feature")) == "one":
        return "list"
    return None


def _ref(item: dict | None):
    """A datasets media struct {bytes, path} -> a media reference (raw bytes in memory)."""
    if item is None:
        return None
    if item.get("bytes") is None:
        return item.get("path")
    return {"path": item.get("path"), "bytes": item["bytes"]}


def media_restorer(features: dict) -> Callable[[dict], None] | None:
    """A function turning the media feature columns of a row into references, or None."""
    kinds = {name: k for name, f in features.items() if (k := _media_kind(f)) is not None}
    if not kinds:
        return None

    def restore(rec: dict) -> None:
        for name, kind in kinds.items():
            value = rec.get(name)
            if value is None:
                continue
            rec[name] = _ref(value) if kind == "one" else [_ref(x) for x in value]
    return restore


def iter_hub(spec: str, pos: list) -> Iterator[dict]:
    """The records of `hf:NAME[:CONFIG][@SPLIT]`, loaded with datasets.load_dataset."""
    ds = load(spec)
    schema = ds.data.schema
    check_schema(schema, spec)
    restore = restorer(schema) if thinkpipe_meta(schema) is not None else \
        media_restorer(ds.features.to_dict())
    tables = ds.with_format("arrow").iter(batch_size=BATCH_ROWS)
    yield from iter_rows(tables, restore, spec, pos, "dataset")


def load(spec: str):
    """datasets.load_dataset for a spec; any failure is one InputError line, never a traceback."""
    name, config, split = hf.parse_hub_spec(spec)
    import datasets  # only for an hf: input
    quiet_before = datasets.are_progress_bars_disabled()
    datasets.disable_progress_bars()    # stderr gets our progress, not datasets' bars
    try:
        ds = datasets.load_dataset(name, config, split=split)
    except Exception as e:              # datasets raises many kinds; all mean "cannot open"
        raise InputError(f"{hf.HUB_PREFIX}{name}: {_reason(e)}") from None
    finally:
        if not quiet_before:
            datasets.enable_progress_bars()
    if not isinstance(ds, datasets.Dataset):
        raise InputError(f"{spec}: not a map-style dataset ({type(ds).__name__})")
    return ds


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
               for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))


def _reason(e: Exception) -> str:
    """The reason a dataset did not load, on one line."""
    text = " ".join(str(e).split()) or type(e).__name__
    if _offline() and ("offline" in text.lower() or isinstance(e, ConnectionError)):
        return ("not available (offline and not in the local cache; run once online, or unset "
                "HF_HUB_OFFLINE / HF_DATASETS_OFFLINE)")
    return f"not available: {text[:300]}{'...' if len(text) > 300 else ''}"
