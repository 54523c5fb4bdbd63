"""Files larger than memory: the same results as one pass, in bounded memory.

Everything the engine decides about a trip depends on the trip itself, on the other trips
of its user (daily caps, daily distance, overlaps, near-duplicates), and on whether its id
appeared earlier in the file. So the file is read once, in batches, and each row is written
to a spill bucket chosen by a hash of its user id; each ``(trip id, row)`` pair also goes to
a bucket chosen by a hash of the trip id. The trip-id buckets give the file's duplicate ids
(first occurrence wins, as in one pass); each user bucket, which holds every trip of its
users, is then computed whole by the ordinary engine, with row numbers and duplicates of
the whole file; finally the result buckets, each in row order, are merged back into input
order in windows. Memory holds one bucket, one window and one batch per bucket, whatever
the size of the file; spill files go to a temporary folder that is removed afterwards.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from carbonfoot._kernels.arrays import one_array
from carbonfoot.engine import Engine
from carbonfoot.errors import InputError
from carbonfoot.intake.columns import ROW_NUMBER_COLUMN, find_column
from carbonfoot.intake.ids import ids_as_text, repeated_trip_ids, string_hash
from carbonfoot.io import DEFAULT_FORMAT, ResultWriter, TripFormat, file_format, iter_trip_batches
from carbonfoot.results import Summary, merge_summaries

__all__ = ["stream_calc"]

ROW = ROW_NUMBER_COLUMN

Progress = Callable[[str, int, int], None]


def stream_calc(
    engine: Engine,
    input_path: str | Path,
    output_path: str | Path,
    *,
    distance_unit: str = "km",
    chunk_rows: int = 500_000,
    rows_per_bucket: int = 2_000_000,
    rejects_path: str | Path | None = None,
    workdir: str | Path | None = None,
    progress: Progress | None = None,
    trip_format: TripFormat = DEFAULT_FORMAT,
) -> Summary:
    """Compute a trip file of any size into ``output_path``; returns the run's summary.

    The output equals ``engine.compute`` on the whole file, row for row and in input order.
    """
    file_format(output_path)
    scratch = Path(tempfile.mkdtemp(prefix="carbonfoot-", dir=workdir))
    try:
        return _Streamer(
            engine,
            Path(input_path),
            scratch,
            distance_unit,
            chunk_rows,
            rows_per_bucket,
            progress,
            trip_format,
        ).run(Path(output_path), None if rejects_path is None else Path(rejects_path))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Streamer:
    def __init__(
        self,
        engine: Engine,
        source: Path,
        scratch: Path,
        distance_unit: str,
        chunk_rows: int,
        rows_per_bucket: int,
        progress: Progress | None,
        trip_format: TripFormat = DEFAULT_FORMAT,
    ) -> None:
        self.engine = engine
        self.source = source
        self.scratch = scratch
        self.distance_unit = distance_unit
        self.chunk_rows = max(1, chunk_rows)
        self.rows_per_bucket = max(1, rows_per_bucket)
        self.progress = progress or (lambda stage, done, total: None)
        self.trip_format = trip_format

    def run(self, output: Path, rejects: Path | None) -> Summary:
        rows, buckets = self.spill()
        duplicates = self.duplicates(buckets)
        schema, summaries = self.compute_buckets(buckets, duplicates, rejects is not None)
        self.merge("result", buckets, rows, output, schema)
        if rejects is not None:
            self.merge("rejects", buckets, rows, rejects, None)
        return merge_summaries(summaries, self.engine.modes.ids, self.engine.run_info)

    # -- pass 1: spill rows to buckets by user, and (trip id, row) by trip id ---------------

    def spill(self) -> tuple[int, int]:
        batches = iter_trip_batches(
            self.source,
            batch_rows=self.chunk_rows,
            trip_format=self.trip_format,
            known_columns=self.engine.provider_columns,
        )
        first = next(batches, None)
        if first is None:
            raise InputError(f"{self.source}: no rows")
        estimate = _estimated_rows(self.source, first)
        buckets = max(1, math.ceil(estimate / self.rows_per_bucket))
        users = find_column(first.schema.names, "user_id")
        trips = find_column(first.schema.names, "trip_id")
        schema = first.schema.append(pa.field(ROW, pa.int64()))
        id_schema = pa.schema([("trip_id", pa.string()), (ROW, pa.int64())])
        user_writers = [
            pa.ipc.new_file(self.scratch / f"users-{b}.arrow", schema) for b in range(buckets)
        ]
        id_writers = [
            pa.ipc.new_file(self.scratch / f"ids-{b}.arrow", id_schema) for b in range(buckets)
        ]
        fold = self.engine.fold_id_case
        rows = 0
        try:
            for batch in _chain(first, batches):
                numbers = pa.array(np.arange(rows, rows + batch.num_rows, dtype=np.int64))
                with_row = pa.RecordBatch.from_arrays([*batch.columns, numbers], schema=schema)
                self._scatter(with_row, users, buckets, user_writers, fold)
                ids = pa.RecordBatch.from_arrays(
                    [
                        ids_as_text(one_array(batch.column(trips)), fold_case=fold),
                        numbers,
                    ],
                    schema=id_schema,
                )
                self._scatter(ids, "trip_id", buckets, id_writers, fold)
                rows += batch.num_rows
                self.progress("read", rows, estimate)
        finally:
            for writer in (*user_writers, *id_writers):
                writer.close()
        return rows, buckets

    @staticmethod
    def _scatter(
        batch: pa.RecordBatch, key: str | None, buckets: int, writers: list[Any], fold: bool
    ) -> None:
        if buckets == 1 or key is None:
            writers[0].write_batch(batch)
            return
        target = (string_hash(batch.column(key), fold_case=fold) % np.uint64(buckets)).astype(
            np.int64
        )
        order = np.argsort(target, kind="stable")
        bounds = np.searchsorted(target[order], np.arange(buckets + 1))
        ordered = batch.take(pa.array(order))
        for bucket in range(buckets):
            if bounds[bucket + 1] > bounds[bucket]:
                writers[bucket].write_batch(
                    ordered.slice(bounds[bucket], bounds[bucket + 1] - bounds[bucket])
                )

    # -- pass 2: duplicate trip ids across the whole file ------------------------------------

    def duplicates(self, buckets: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        found_rows, found_first = [], []
        for bucket in range(buckets):
            table = pa.ipc.open_file(self.scratch / f"ids-{bucket}.arrow").read_all()
            if table.num_rows == 0:
                continue
            rows, firsts = repeated_trip_ids(table.column("trip_id"), table.column(ROW).to_numpy())
            found_rows.append(rows)
            found_first.append(firsts)
            (self.scratch / f"ids-{bucket}.arrow").unlink()
        rows = np.concatenate(found_rows) if found_rows else np.zeros(0, dtype=np.int64)
        firsts = np.concatenate(found_first) if found_first else np.zeros(0, dtype=np.int64)
        order = np.argsort(rows)
        return rows[order], firsts[order]

    # -- pass 3: each user bucket, whole ---------------------------------------------------

    def compute_buckets(
        self,
        buckets: int,
        duplicates: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
        keep_rejects: bool,
    ) -> tuple[pa.Schema, list[Summary]]:
        summaries: list[Summary] = []
        schema: pa.Schema | None = None
        for bucket in range(buckets):
            path = self.scratch / f"users-{bucket}.arrow"
            table = pa.ipc.open_file(path).read_all()
            numbers = table.column(ROW).to_numpy()
            trips = table.drop_columns([ROW])
            results = self.engine.compute(
                trips,
                distance_unit=self.distance_unit,
                row_numbers=numbers,
                known_duplicates=duplicates,
            )
            if schema is None:
                schema = results.table.schema
            summaries.append(results.summary)
            plain = _plain(results.table).append_column(ROW, pa.array(numbers))
            _write_ipc(
                self.scratch / f"result-{bucket}.arrow", plain, self.merge_batch_rows(buckets)
            )
            if keep_rejects:
                rejected = results.rejected
                rejected = rejected.append_column(ROW, pa.array(numbers[results.not_ok]))
                _write_ipc(
                    self.scratch / f"rejects-{bucket}.arrow",
                    _plain(rejected),
                    self.merge_batch_rows(buckets),
                )
            path.unlink()
            self.progress("compute", bucket + 1, buckets)
        assert schema is not None
        return schema, summaries

    # -- pass 4: back into input order -------------------------------------------------------

    def merge_batch_rows(self, buckets: int) -> int:
        """Rows per spilled result batch, so that one batch per bucket is about one window."""
        return max(256, self.chunk_rows // buckets)

    def merge(
        self, name: str, buckets: int, rows: int, output: Path, schema: pa.Schema | None
    ) -> None:
        readers = [_Cursor(self.scratch / f"{name}-{bucket}.arrow") for bucket in range(buckets)]
        writer = None
        written = 0
        try:
            start = 0
            while start < rows:
                end = start + self.chunk_rows
                pieces = [piece for reader in readers for piece in reader.take_below(end)]
                start = end
                if not pieces:
                    continue
                window = pa.Table.from_batches(pieces)
                window = window.take(
                    pc.sort_indices(window, sort_keys=[(ROW, "ascending")])
                ).drop_columns([ROW])
                if schema is not None:
                    window = window.cast(schema.remove_metadata()).replace_schema_metadata(
                        schema.metadata
                    )
                if writer is None:
                    writer = ResultWriter(output, window.schema)
                writer.write(window)
                written += window.num_rows
                self.progress("write", min(start, rows), rows)
        except BaseException:
            if writer is not None:
                writer.abort()  # the old output stays as it was
            raise
        if writer is not None:
            writer.close()
        else:
            # Nothing to write (e.g. no rejected rows): still leave a file with the header.
            target_schema = (
                schema
                if schema is not None
                else readers[0].schema.remove(readers[0].schema.get_field_index(ROW))
            )
            empty = ResultWriter(output, target_schema)
            empty.close()


class _Cursor:
    """Reads one result bucket (rows in ascending order) batch by batch."""

    def __init__(self, path: Path) -> None:
        self.reader = pa.ipc.open_file(path)
        self.schema = self.reader.schema
        self.index = 0
        self.batch: pa.RecordBatch | None = None
        self.offset = 0
        self._advance()

    def _advance(self) -> None:
        while self.index < self.reader.num_record_batches:
            batch = self.reader.get_batch(self.index)
            self.index += 1
            if batch.num_rows:
                self.batch, self.offset = batch, 0
                return
        self.batch = None

    def take_below(self, end: int) -> Iterator[pa.RecordBatch]:
        while self.batch is not None:
            numbers = self.batch.column(ROW).to_numpy()
            stop = int(np.searchsorted(numbers, end, side="left"))
            if stop > self.offset:
                yield self.batch.slice(self.offset, stop - self.offset)
                self.offset = stop
            if self.offset < self.batch.num_rows:
                return
            self._advance()


def _write_ipc(path: Path, table: pa.Table, batch_rows: int) -> None:
    """Small batches: the merge holds one batch of every bucket at a time."""
    with pa.ipc.new_file(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)


def _plain(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain strings: an IPC file cannot change dictionaries midway."""
    fields = [
        pa.field(field.name, field.type.value_type) if pa.types.is_dictionary(field.type) else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def _chain(first: pa.RecordBatch, rest: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    yield first
    yield from rest


def _estimated_rows(source: Path, first: pa.RecordBatch) -> int:
    if file_format(source) == ".parquet":
        return int(pq.ParquetFile(source).metadata.num_rows)
    sample = max(1, int(first.num_rows))
    bytes_per_row = max(1.0, float(first.nbytes) / sample)
    return int(source.stat().st_size / bytes_per_row) + sample
