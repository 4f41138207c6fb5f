"""Writing ParquetWriter's final batches as row groups: at close, or beside the parsing, in a thread.

A Parquet file needs its schema before its first row, and a record stream settles its schema only
at the end, so ParquetWriter spools every batch and writes the file on close. When the input goes
through Arrow's parser (jsonl_blocks), the schema usually settles at the first block, and writing
the file can then overlap with reading the rest: a Speculation writes each spooled batch at once,
in a thread, assuming the schema seen so far is the final one. If a later batch changes the schema
(a new field, a wider type, a column turning into JSON text), the speculation is cancelled, the
partial file is cut back to nothing and close() writes it from the spool as before. Either way the
batches, the schema and the grouping into row groups are the same, and so are the file's bytes.
"""
from __future__ import annotations

import queue
import threading
from typing import BinaryIO, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

IN_FLIGHT = 2    # blocks of batches queued for the thread (memory stays at a few blocks)


class RowGroups:
    """Batches -> row groups of at least `rows` rows or `nbytes` bytes, the last one smaller."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema, rows: int, nbytes: int):
        self.writer, self.schema, self.rows, self.nbytes = writer, schema, rows, nbytes
        self._pending: list[pa.RecordBatch] = []
        self._count = self._size = 0

    def add(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            self._pending.append(batch)
            self._count += batch.num_rows
            self._size += batch.nbytes
            if self._count >= self.rows or self._size >= self.nbytes:
                self._write()

    def _write(self) -> None:
        self.writer.write_table(pa.Table.from_batches(self._pending, self.schema))
        self._pending, self._count, self._size = [], 0, 0

    def close(self) -> None:
        if self._pending:
            self._write()
        self.writer.close()


class Speculation:
    """Writes `schema`'s row groups to `stream` in a thread as batches are put; finish() ends
    the file, cancel() stops and leaves the stream for the caller to rewind."""

    def __init__(self, stream: BinaryIO, schema: pa.Schema, compression: str, rows: int,
                 nbytes: int):
        self.schema = schema
        self._queue: queue.Queue = queue.Queue(maxsize=IN_FLIGHT)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="thinkpipe-parquet", daemon=True,
                                        args=(stream, compression, rows, nbytes))
        self._thread.start()

    def put(self, batches: list[pa.RecordBatch]) -> None:
        if self._error is None:
            self._queue.put(batches)

    def _run(self, stream: BinaryIO, compression: str, rows: int, nbytes: int) -> None:
        writer = None
        try:
            writer = pq.ParquetWriter(stream, self.schema, compression=compression)
            groups = RowGroups(writer, self.schema, rows, nbytes)
            while (batches := self._queue.get()) is not None:
                if not self._cancelled:
                    groups.add(batches)
            if not self._cancelled:
                groups.close()
        except BaseException as e:        # re-raised by finish(); cancel() drops it
            self._error = e
            while self._queue.get() is not None:  # keep draining so put() never blocks
                pass
        finally:
            if writer is not None and writer.is_open:
                try:                      # closed now, not by the garbage collector later
                    writer.close()        # (which would write a footer into the new file)
                except BaseException:
                    pass

    def finish(self) -> None:
        """Write the last row group and the footer; raise what the thread hit, if anything."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def cancel(self) -> None:
        """Stop writing (what was written is garbage to the caller)."""
        self._cancelled = True
        self._queue.put(None)
        self._thread.join()
