"""Parquet: records as rows, read in batches and written in two passes with constant memory.

Writing. A Parquet file has one schema, but a record stream only reveals its fields and types as it
goes. The writer therefore spools each batch of records, already converted to Arrow columns
(arrow_columns.build), to a temporary file while it folds their types together; on close it casts
every spooled batch to the final schema and writes the file. Memory stays at one batch.

What the file keeps so that JSONL -> Parquet -> JSONL gives back every field and value:
  - columns whose values Arrow cannot hold exactly are JSON text (listed in the metadata);
  - media fields are list<struct<bytes, path>> (the `datasets` Image layout);
  - a record that lacks a field (as opposed to holding null) lists it in the hidden column
    `_thinkpipe_absent`, present only when some record lacks some field.
The schema metadata key `thinkpipe` says which columns are which. Parquet files from elsewhere
are read as plain rows (binary values become base64 in JSON output).
"""
from __future__ import annotations

import json
import pickle
import tempfile
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from . import arrow_columns as ac
from . import media
from ..errors import RecordError
from .jsonl import loads
from .row_groups import RowGroups, Speculation

META_KEY = b"thinkpipe"
ABSENT = "_thinkpipe_absent"
BATCH_ROWS = 1000          # records per spooled batch
ROW_GROUP_ROWS = 64_000    # rows per Parquet row group (a few spooled batches)
ROW_GROUP_BYTES = 128 << 20


def open_parquet(source, name: str) -> pq.ParquetFile:
    """A Parquet file (a path or a seekable binary file) whose columns records can hold;
    RecordError if it is not one."""
    try:
        pf = pq.ParquetFile(source, pre_buffer=False)   # pre-buffering holds every row group read
    except (pa.ArrowException, OSError) as e:
        raise RecordError(name, f"not a readable Parquet file: {e}") from None
    check_schema(pf.schema_arrow, name)
    return pf


def iter_parquet(source, name: str, pos: list, lines: bool = False) -> Iterator:
    """Yield the rows of a Parquet file (a path or a seekable binary file) as records; with
    `lines`, as their JSON lines instead, what jsonl.dumps writes for each record (encoded a
    column at a time: parquet_lines)."""
    pf = open_parquet(source, name)
    batches = pf.iter_batches(batch_size=BATCH_ROWS)
    if lines:
        from .parquet_lines import iter_lines
        yield from iter_lines(batches, thinkpipe_meta(pf.schema_arrow), restorer(pf.schema_arrow),
                              name, pos)
    else:
        yield from iter_rows(batches, restorer(pf.schema_arrow), name, pos, "Parquet")


def iter_parquet_chunks(source, name: str, pos: list) -> Iterator:
    """The rows' JSON lines many at a time (parquet_lines.iter_chunks)."""
    from .arrow_memory import flat_memory
    from .parquet_lines import iter_chunks
    flat_memory()                       # before the reader takes its memory pool
    pf = open_parquet(source, name)
    yield from iter_chunks(pf.iter_batches(batch_size=BATCH_ROWS), thinkpipe_meta(pf.schema_arrow),
                           restorer(pf.schema_arrow), name, pos)


def check_schema(schema: pa.Schema, name: str) -> None:
    """RecordError when a column has a type no record can hold (durations, intervals), or when
    the `thinkpipe` metadata is damaged (every reader of a table checks here first)."""
    for field in schema:
        if (bad := _unrepresentable(field.type)) is not None:
            raise RecordError(name, f"column {field.name!r} is {field.type}: a record cannot hold "
                              f"{bad} values (JSON has no such type); cast the column to a number "
                              "or a string first")
    try:                      # (UnicodeDecodeError and JSONDecodeError are ValueErrors)
        meta_ok = isinstance(thinkpipe_meta(schema), (dict, type(None)))
    except ValueError:
        meta_ok = False
    if not meta_ok:
        raise RecordError(name, f"a damaged Parquet file: its {META_KEY!r} metadata is not a "
                          "JSON object")


def thinkpipe_meta(schema: pa.Schema) -> dict | None:
    """The `thinkpipe` schema metadata (which columns are JSON text, media, absent lists), or
    None for a file written elsewhere."""
    raw = (schema.metadata or {}).get(META_KEY)
    return None if raw is None else json.loads(raw)


def restorer(schema: pa.Schema) -> Callable[[dict], None] | None:
    """A function that turns a row of a file we wrote back into its record (in place), or None
    when rows are records as they are (a file from elsewhere, or nothing to undo)."""
    meta = thinkpipe_meta(schema) or {}
    json_cols, media_cols = meta.get("json", []), meta.get("media", [])
    absent = meta.get("absent")
    if not (json_cols or media_cols or absent):
        return None

    def restore(rec: dict) -> None:
        for col in json_cols:
            if rec.get(col) is not None:
                rec[col] = loads(rec[col])
        for col in media_cols:
            if rec.get(col) is not None:
                rec[col] = [media.from_struct(x) for x in rec[col]]
        if absent is not None:
            for col in rec.pop(absent) or ():
                rec.pop(col, None)
    return restore


def iter_rows(batches: Iterable, restore: Callable[[dict], None] | None, name: str, pos: list,
              what: str) -> Iterator[dict]:
    """The records of Arrow batches (anything with to_pylist), `pos[0]` the 1-based row; a row
    that cannot be read is a RecordError at `name:row`."""
    row = 0
    try:
        for batch in batches:
            for rec in batch.to_pylist():
                row += 1
                if restore is not None:
                    restore(rec)
                pos[0] = row
                yield rec
    except (pa.ArrowException, OSError, ValueError) as e:
        raise RecordError(f"{name}:{row + 1}", f"cannot read {what} row: {e}") from None


def _unrepresentable(t: pa.DataType) -> pa.DataType | None:
    """The part of an Arrow type with no JSON form (durations, intervals), or None. Timestamps,
    dates and times become ISO text, decimals exact text, binary base64."""
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        return t
    children = [t.field(i).type for i in range(t.num_fields)] if hasattr(t, "num_fields") else []
    for child in children:
        if (bad := _unrepresentable(child)) is not None:
            return bad
    return None


class ParquetWriter:
    """Collects records and writes one Parquet file to `stream` on close()."""

    def __init__(self, stream: BinaryIO, compression: str = "zstd", rewind: bool = False):
        """`rewind`: the stream is a file of our own, empty, that may be cut back and rewritten,
        so the file may be written while the input is read (row_groups.Speculation)."""
        self.stream, self.compression, self._rewind = stream, compression, rewind
        self._spec: Speculation | bool | None = None   # None: undecided; False: never
        self._spilled = 0
        self._rows: list[dict] = []
        self._columns: dict[str, tuple[str, pa.DataType]] = {}  # name -> (kind, type), in order
        self._any_absent = False
        self._tail: tuple[pa.Table, dict] | None = None   # write_table's last, partial batch
        self._spool = tempfile.TemporaryFile(prefix="thinkpipe-parquet-")

    @property
    def count(self) -> int:
        return self._spilled + self.pending

    @property
    def pending(self) -> int:
        """Records waiting for their batch to fill (write_table wants none)."""
        return len(self._rows) + (self._tail[0].num_rows if self._tail is not None else 0)

    @property
    def batch_rows(self) -> int:
        return BATCH_ROWS

    def write(self, record: dict) -> None:
        if self._tail is not None:
            self._untail()
        self._rows.append(record)
        if len(self._rows) >= BATCH_ROWS:
            self._spill()

    def write_many(self, records) -> None:
        if self._tail is not None:
            self._untail()
        rows, batch = self._rows, BATCH_ROWS
        for record in records:
            rows.append(record)
            if len(rows) >= batch:
                self._spill()
                rows = self._rows

    def _spill(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        self._spilled += len(rows)
        first = rows[0].keys()
        uniform = all(r.keys() == first for r in rows)
        names = list(first) if uniform else list(dict.fromkeys(k for r in rows for k in r))
        cols, present = {}, {}
        late = False                          # a field new after records that lack it
        for name in names:
            if name == ABSENT:
                raise RecordError(name, f"the field name {ABSENT} is reserved")
            arr, kind = ac.build(name, [r.get(name) for r in rows])
            cols[name] = (arr, kind)
            late = late or (name not in self._columns and self._spilled > len(rows))
            self._columns[name] = ac.merge_column(self._columns.get(name), kind, arr.type)
            if not uniform:
                mask = [name in r for r in rows]
                if not all(mask):
                    present[name] = mask
        if present or late or (self._columns.keys() - cols.keys()):
            self._any_absent = True
        self._spool_entry((len(rows), cols, present), first=False)

    def write_table(self, table: pa.Table, absent: dict) -> None:
        """Spool whole batches already built as exact typed columns (jsonl_blocks.parse), one
        chunk per column; `absent` maps a field to the mask of rows that lack it. The writer must
        be between batches (pending == 0), so the batches are the ones write() would have made. A
        last, partial batch waits: if records follow, they join it as write() would have it."""
        if table.num_rows % BATCH_ROWS:
            self._tail = (table, absent)
            return
        self._spool_table(table, absent)

    def _untail(self) -> None:
        """The partial batch from write_table back as records (its values are exactly the lines'
        values; keys in column order, which is the order the lines first gave them)."""
        (table, absent), self._tail = self._tail, None
        records = table.to_pylist()
        for name, mask in absent.items():
            for row in np.flatnonzero(mask).tolist():
                del records[row][name]
        self._rows.extend(records)

    def _spool_table(self, table: pa.Table, absent: dict) -> None:
        n, cols, present = table.num_rows, {}, {}
        late = False
        for name, column in zip(table.schema.names, table.columns):
            arr = column.chunk(0)
            cols[name] = (arr, ac.TYPED)
            late = late or (name not in self._columns and self._spilled > 0)
            self._columns[name] = ac.merge_column(self._columns.get(name), ac.TYPED, arr.type)
            if name in absent:
                present[name] = ~absent[name]
        if present or late or (self._columns.keys() - cols.keys()):
            self._any_absent = True
        self._spilled += n
        self._spool_entry((n, cols, present), first=True)

    def _spool_entry(self, entry: tuple, first: bool) -> None:
        """Spool a batch (or a block of them); write it at once while the schema holds, if
        the first batch came from write_table (where the schema tends to settle at once)."""
        pickle.dump(entry, self._spool, protocol=pickle.HIGHEST_PROTOCOL)
        if self._spec is None:
            self._spec = first and self._rewind
            if self._spec:
                self._spec = Speculation(self.stream, self._schema(), self.compression,
                                         ROW_GROUP_ROWS, ROW_GROUP_BYTES)
        if not self._spec:
            return
        schema = self._schema()
        if schema.equals(self._spec.schema, check_metadata=True):
            self._spec.put(list(self._entry_batches(entry, schema)))
        else:
            self._stop_speculation()

    def _stop_speculation(self) -> None:
        """Cancel the speculative write and cut the stream back to empty."""
        if self._spec:
            self._spec.cancel()
            self.stream.seek(0)
            self.stream.truncate()
        self._spec = False

    def _final_batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        self._spool.seek(0)
        while True:
            try:
                entry = pickle.load(self._spool)
            except EOFError:
                return
            yield from self._entry_batches(entry, schema)

    def _entry_batches(self, entry: tuple, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        """A spooled (rows, columns, present masks) in the file's final kinds and types, with
        the absent column when the file has one, in batches of BATCH_ROWS."""
        n, cols, present = entry
        arrays, missing = [], []
        for name, (kind, typ) in self._columns.items():
            if name in cols:
                arr, batch_kind = cols[name]
                arrays.append(ac.to_final(arr, batch_kind, kind, typ))
                if name in present:
                    missing.append((name, ~np.asarray(present[name], bool)))
            else:
                arrays.append(pa.nulls(n, typ))
                missing.append((name, np.ones(n, bool)))
        if self._any_absent or not self._columns:
            arrays.append(absent_lists(n, missing))
        batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
        for start in range(0, n, BATCH_ROWS):  # a block from write_table: its batches
            yield batch.slice(start, BATCH_ROWS)

    def _schema(self) -> pa.Schema:
        fields = [pa.field(name, typ) for name, (kind, typ) in self._columns.items()]
        absent = self._any_absent or not self._columns
        if absent and self.count:
            fields.append(pa.field(ABSENT, pa.list_(pa.string())))
        meta = {
            "version": 1,
            "json": [n for n, (k, _) in self._columns.items() if k == ac.JSON],
            "media": [n for n, (k, _) in self._columns.items() if k == ac.MEDIA],
            "absent": ABSENT if absent and self.count else None,
        }
        return pa.schema(fields, metadata={META_KEY: json.dumps(meta).encode()})

    def _flush(self) -> None:
        """Spool what waits: the records of a partial batch, or write_table's partial batch."""
        self._spill()
        if self._tail is not None:
            (table, absent), self._tail = self._tail, None
            self._spool_table(table, absent)

    def close(self) -> None:
        self._flush()
        if self._spec:                        # written already, while the input was read
            self._spec.finish()
            self._spool.close()
            return
        schema = self._schema()
        groups = RowGroups(pq.ParquetWriter(self.stream, schema, compression=self.compression),
                           schema, ROW_GROUP_ROWS, ROW_GROUP_BYTES)
        groups.add(self._final_batches(schema))
        groups.close()
        self._spool.close()

    def abort(self) -> None:
        if self._spec:
            self._spec.cancel()
        self._spool.close()


def absent_lists(n: int, missing: list[tuple[str, np.ndarray]]) -> pa.Array:
    """The `_thinkpipe_absent` column of `n` rows: per row, the names whose mask marks it, in
    the order given. Built from buffers (the same array and sizes as pa.array of the lists,
    without a Python list per row)."""
    names = [name.encode("utf-8", "surrogatepass") for name, _ in missing]
    rows = which = np.zeros(0, np.int64)
    if missing:
        rows, which = np.nonzero(np.column_stack([mask for _, mask in missing]))
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=offsets[1:])
    sizes = np.array([len(b) for b in names], np.int64)[which]
    value_offsets = np.zeros(len(which) + 1, np.int32)
    np.cumsum(sizes, out=value_offsets[1:])
    data = b"".join([names[i] for i in which.tolist()])
    values = pa.Array.from_buffers(pa.string(), len(which),
                                   [None, pa.py_buffer(value_offsets), pa.py_buffer(data)])
    return pa.Array.from_buffers(pa.list_(pa.string()), n, [None, pa.py_buffer(offsets)],
                                 children=[values])


def spool_stdin(stream: BinaryIO) -> BinaryIO:
    """Parquet needs random access: copy a pipe to a temporary file and return it, rewound."""
    tmp = tempfile.TemporaryFile(prefix="thinkpipe-stdin-")
    while chunk := stream.read(1 << 20):
        tmp.write(chunk)
    tmp.seek(0)
    return tmp

