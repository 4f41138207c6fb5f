"""Writing records as a Hugging Face `datasets` save_to_disk folder (`--format hf -o DIR`).

The folder is what `Dataset.save_to_disk` writes, so `datasets.load_from_disk(DIR)` opens it:

    data-00000-of-00001.arrow  Arrow IPC stream files (a new one after MAX_SHARD_BYTES)
    dataset_info.json          citation, description, features (datasets' JSON form), homepage, license
    state.json                 _data_files, _fingerprint, _format_columns, _format_kwargs,
                               _format_type, _output_all_columns, _split (datasets 5's keys)

Rows are built exactly as for Parquet (ParquetWriter: batches spooled, then cast to the final
schema, constant memory) and keep its `thinkpipe` schema metadata, so reading the folder back gives
every record as it was. The features are derived from the Arrow schema, and `images` becomes a
list of datasets.Image (load_from_disk then gives PIL images). `audios` and `videos` stay plain
{bytes, path} structs: datasets 5 decodes Audio and Video with torchcodec, which may not load
(it does not in our test stack), and a feature that cannot decode breaks every row access.

The folder is built under a temporary name next to DIR and renamed into place on success; a
failure or Ctrl-C removes it, and an existing DIR is replaced only by a complete folder, and only
when it is empty or a save_to_disk folder itself (anything else is refused, never deleted).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

import pyarrow as pa

from . import arrow_columns as ac
from . import hf
from ..errors import OutputError
from .parquet import ParquetWriter
from .writer import _umask

MAX_SHARD_BYTES = 500_000_000       # datasets' default max_shard_size ("500MB")


def check_target(path: str) -> str:
    """The real path of `path` when a folder may be written there; OutputError otherwise."""
    final = os.path.realpath(path)
    if os.path.lexists(final):
        if not os.path.isdir(final):
            raise OutputError(f"{path}: exists and is not a folder; --format hf writes a folder")
        if os.listdir(final) and not hf.is_dataset_folder(final):
            raise OutputError(f"{path}: a folder that is not a datasets save_to_disk folder; not "
                              "replacing it (remove it or choose another -o)")
    return final


class HfWriter(ParquetWriter):
    """Collects records and, on close(), writes a save_to_disk folder at `path`."""

    def __init__(self, path: str):
        super().__init__(stream=None)
        self.path, self._final = path, check_target(path)
        try:
            self._tmp: str | None = tempfile.mkdtemp(dir=os.path.dirname(self._final),
                                                     prefix=".tmp-", suffix="-" +
                                                     os.path.basename(self._final))
        except OSError as e:
            self._spool.close()
            raise OutputError(f"{path}: cannot create: {e.strerror}") from None

    def close(self) -> None:
        try:
            self._spill()
            schema = self._schema()
            features = _features(schema, self._columns)
            schema = schema.with_metadata({**schema.metadata, b"huggingface": json.dumps(
                {"info": {"features": features}}).encode()})
            files, digest = self._write_data(schema)
            _write_json(os.path.join(self._tmp, hf.INFO), {
                "citation": "", "description": "", "features": features, "homepage": "",
                "license": ""})
            _write_json(os.path.join(self._tmp, hf.STATE), _state(files, digest))
            self._spool.close()
            self._commit()
        except BaseException:       # a failed write or Ctrl-C: no half folder left behind
            self.abort()
            raise

    def _write_data(self, schema: pa.Schema) -> tuple[list[str], str]:
        """The Arrow stream files (temporary names; renamed to data-K-of-N when N is known)."""
        parts, writer, size = [], None, 0
        digest = hashlib.blake2b(digest_size=8)
        for batch in self._final_batches(schema):
            if writer is None or size >= MAX_SHARD_BYTES:
                if writer is not None:
                    writer.close()
                parts.append(os.path.join(self._tmp, f"part-{len(parts):05d}"))
                writer, size = pa.ipc.new_stream(pa.OSFile(parts[-1], "wb"), schema), 0
            writer.write_batch(batch)
            size += batch.nbytes
        if writer is None:          # no records: one file holding the schema alone
            parts.append(os.path.join(self._tmp, "part-00000"))
            writer = pa.ipc.new_stream(pa.OSFile(parts[-1], "wb"), schema)
        writer.close()
        names = [f"data-{i:05d}-of-{len(parts):05d}.arrow" for i in range(len(parts))]
        for part, name in zip(parts, names):
            _hash_file(part, digest)
            os.replace(part, os.path.join(self._tmp, name))
        return names, digest.hexdigest()

    def _commit(self) -> None:
        """Move the finished folder into place (an old save_to_disk folder there goes)."""
        final = check_target(self.path)
        old = None
        if os.path.isdir(final) and os.listdir(final):
            old = tempfile.mkdtemp(dir=os.path.dirname(final), prefix=".old-")
            os.replace(final, os.path.join(old, "dataset"))
        elif os.path.isdir(final):
            os.rmdir(final)
        os.chmod(self._tmp, 0o777 & ~_umask())     # mkdtemp's 0700 is not what mkdir gives
        os.replace(self._tmp, final)
        self._tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        super().abort()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None


def _features(schema: pa.Schema, columns: dict) -> dict:
    """datasets' JSON form of the features of `schema`; `images` as a list of Image."""
    import datasets  # only for --format hf
    features = datasets.Features.from_arrow_schema(pa.schema(list(schema)))
    kind = columns.get("images", (None,))[0]
    if kind == ac.MEDIA:
        features["images"] = datasets.List(datasets.Image())
    return features.to_dict()


def _state(files: list[str], fingerprint: str) -> dict:
    return {"_data_files": [{"filename": f} for f in files], "_fingerprint": fingerprint,
            "_format_columns": None, "_format_kwargs": {}, "_format_type": None,
            "_output_all_columns": False, "_split": None}


def _write_json(path: str, value: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)


def _hash_file(path: str, digest) -> None:
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
