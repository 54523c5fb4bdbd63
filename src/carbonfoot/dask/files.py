"""Trip files in as Dask DataFrames, and results out as one file in input order.

A trip file is read as :mod:`carbonfoot.io` reads it, so the engine sees the same
values and types as in one process: Parquet keeps its types (each worker reads its own
slice of a row group, so the path must be readable by the workers); CSV cells are all
text, read on the client with pyarrow in blocks and sent to the workers. Columns keep
their Arrow types in pandas (``pd.ArrowDtype``).

The results are written by the client, one partition after the other, into one file,
cast back to the single-process schema (dictionary columns, run metadata): the file has
the same rows, columns and types as ``carbonfoot calc`` without Dask writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from dask.base import compute as dask_compute
from dask.delayed import Delayed, delayed
from distributed import Client

from carbonfoot.dask.frames import frame_of, rejects_table, result_table
from carbonfoot.dask.pipeline import DaskResults
from carbonfoot.errors import InputError
from carbonfoot.intake.columns import BAD_ROW_COLUMN
from carbonfoot.io import (
    DEFAULT_FORMAT,
    ResultWriter,
    TripFormat,
    csv_header,
    file_format,
    first_line,
    iter_trip_batches,
)
from carbonfoot.results import Summary

__all__ = ["read_trip_file", "write_results"]


def read_trip_file(
    path: str | Path,
    *,
    partition_rows: int = 500_000,
    client: Client | None = None,
    trip_format: TripFormat = DEFAULT_FORMAT,
    known_columns: Iterable[str] = (),
) -> tuple[dd.DataFrame, pa.Schema]:
    """A trip file as a Dask DataFrame of about ``partition_rows`` rows a partition.

    Returns the frame and the file's Arrow schema (what ``carbonfoot.io.read_trip_file``
    gives). CSV blocks are scattered to ``client``'s workers (kept in the graph without).
    """
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if kind == ".parquet" and trip_format.columns:
        raise InputError(
            f"{path}: a column mapping on Dask applies to CSV files; rename the Parquet "
            "file's columns, or run without --workers"
        )
    if kind == ".parquet":
        return _read_parquet(path, max(1, partition_rows))
    return _read_csv(path, max(1, partition_rows), client, trip_format, tuple(known_columns))


class _ParquetGroups:
    """Reads some row groups of a Parquet file, as one partition."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, groups: tuple[int, ...]) -> pd.DataFrame:
        try:
            source = pq.ParquetFile(self.path)
            if not groups:
                return frame_of(source.schema_arrow.empty_table())
            return frame_of(source.read_row_groups(list(groups)))
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"{self.path}: cannot read parquet file: {first_line(exc)}") from None


def _read_parquet(path: Path, partition_rows: int) -> tuple[dd.DataFrame, pa.Schema]:
    """Partitions of whole row groups (Parquet cannot read part of one), about
    ``partition_rows`` rows each: consecutive small groups share a partition."""
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot read parquet file: {first_line(exc)}") from None
    pieces: list[tuple[int, ...]] = []
    piece: list[int] = []
    rows = 0
    for group in range(source.metadata.num_row_groups):
        if piece and rows + source.metadata.row_group(group).num_rows > partition_rows:
            pieces.append(tuple(piece))
            piece, rows = [], 0
        piece.append(group)
        rows += source.metadata.row_group(group).num_rows
    pieces.append(tuple(piece))
    with dask.config.set({"dataframe.convert-string": False}):
        frame = dd.from_map(
            _ParquetGroups(str(path)),
            pieces,
            meta=frame_of(source.schema_arrow.empty_table()),
            label="carbonfoot-read-parquet",
            enforce_metadata=False,
        )
    return frame, source.schema_arrow


def _read_csv(
    path: Path,
    partition_rows: int,
    client: Client | None,
    trip_format: TripFormat,
    known: tuple[str, ...],
) -> tuple[dd.DataFrame, pa.Schema]:
    header = csv_header(path, trip_format, known)
    if not header:
        raise InputError(f"{path}: empty file, no header row")
    schema = pa.schema([(name, pa.string()) for name in (*header, BAD_ROW_COLUMN)])
    parts: list[Any] = []
    batches = iter_trip_batches(
        path, batch_rows=partition_rows, trip_format=trip_format, known_columns=known
    )
    for table in _partitions(batches, partition_rows):
        schema = table.schema
        frame = frame_of(table)
        parts.append(client.scatter(frame, hash=False) if client is not None else delayed(frame))
    if not parts:
        parts.append(delayed(frame_of(schema.empty_table())))
    meta = frame_of(schema.empty_table())
    return dd.from_delayed(parts, meta=meta, verify_meta=False), schema


def _partitions(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Tables of exactly ``rows`` rows (the last may have fewer) from batches of any size."""
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows).combine_chunks()
            rest = table.slice(rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending).combine_chunks()


# -- writing -------------------------------------------------------------------------------


def write_results(
    results: DaskResults,
    output_path: str | Path,
    *,
    rejects_path: str | Path | None = None,
    input_schema: pa.Schema | None = None,
    client: Client | None = None,
) -> Summary:
    """Compute ``results`` and write them to one CSV or Parquet file, in input order.

    ``rejects_path`` also gets the rejected input rows with status and message, typed as
    ``input_schema`` (the file's schema, as :func:`read_trip_file` returns it) where
    given. Partitions are computed together on ``client`` (else the default scheduler)
    and written as they come, in order. Returns the run's summary.
    """
    output = Path(output_path)
    file_format(output)
    rejects = None if rejects_path is None else Path(rejects_path)
    if rejects is not None:
        file_format(rejects)
    reject_schema = results.rejects_schema
    if input_schema is not None:
        given = [field for field in input_schema if field.name != BAD_ROW_COLUMN]
        reject_schema = pa.schema(
            [*given, pa.field("status", pa.string()), pa.field("message", pa.string())],
            metadata=input_schema.metadata,
        )
    tasks: list[Delayed] = [
        delayed(result_table)(part, results.schema) for part in results.partitions
    ]
    if rejects is not None:
        tasks += [
            delayed(rejects_table)(part, reject_schema) for part in results.rejected_partitions
        ]
    outcomes = _in_order([*tasks, results.summary], client)
    _write(output, results.schema, outcomes, len(results.partitions))
    if rejects is not None:
        _write(rejects, reject_schema, outcomes, len(results.rejected_partitions))
    summary = next(outcomes)
    assert isinstance(summary, Summary)
    return summary


def _write(path: Path, schema: pa.Schema, tables: Iterator[Any], count: int) -> None:
    """``count`` tables from ``tables`` into one file (as ``carbonfoot.io`` would write them)."""
    try:
        with ResultWriter(path, schema) as writer:  # in place only when whole
            for _ in range(count):
                writer.write(next(tables))
    except (pa.ArrowInvalid, OSError) as exc:
        kind = file_format(path)[1:]
        raise InputError(f"{path}: cannot write {kind} file: {first_line(exc)}") from None


def _in_order(tasks: Sequence[Delayed], client: Client | None) -> Iterator[Any]:
    if client is None:
        yield from dask_compute(*tasks)
        return
    futures = client.compute(list(tasks))
    for future in futures:
        yield future.result()
        future.release()
