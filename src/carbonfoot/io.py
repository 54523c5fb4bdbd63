"""Trip files in and result files out: CSV and Parquet, chosen by extension (pyarrow).

CSV columns are all read as text, so one malformed cell (``"abc"`` in ``distance``)
becomes a rejected row instead of failing the file; the intake parses numbers and times
itself. Parquet columns keep their types.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from carbonfoot.errors import InputError

__all__ = [
    "FORMATS",
    "ResultWriter",
    "append_result_file",
    "csv_header",
    "file_format",
    "first_line",
    "iso_times",
    "iter_trip_batches",
    "read_trip_file",
    "recorded_factor_sets",
    "write_result_file",
]

FORMATS = (".csv", ".parquet")
_BLOCK_SIZE = 4 << 20


def file_format(path: str | Path) -> str:
    """``".csv"`` or ``".parquet"`` from the file name; anything else is an error."""
    suffix = Path(path).suffix.lower()
    if suffix == ".pq":
        return ".parquet"
    if suffix not in FORMATS:
        raise InputError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use .csv or .parquet"
        )
    return suffix


def read_trip_file(path: str | Path, *, on_bytes: Callable[[int], None] | None = None) -> pa.Table:
    """Read a trip file; ``on_bytes(n)`` is called as the file is read, for progress bars."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if kind == ".parquet":
            table = pq.read_table(path)
            if on_bytes is not None:
                on_bytes(path.stat().st_size)
            return table
        return _read_csv(path, on_bytes)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def _read_csv(path: Path, on_bytes: Callable[[int], None] | None) -> pa.Table:
    header = csv_header(path)
    if not header:
        raise InputError(f"{path}: empty file, no header row")
    convert = _all_text(header)
    read = pa_csv.ReadOptions(block_size=_BLOCK_SIZE, use_threads=True)
    if on_bytes is None:
        return pa_csv.read_csv(str(path), read_options=read, convert_options=convert)
    # With a progress bar: stream the blocks and report about one block of bytes per batch.
    reader = pa_csv.open_csv(str(path), read_options=read, convert_options=convert)
    batches = []
    reported = 0
    size = path.stat().st_size
    for batch in reader:
        batches.append(batch)
        step = min(_BLOCK_SIZE, size - reported)
        reported += step
        on_bytes(step)
    on_bytes(size - reported)
    return pa.Table.from_batches(batches, schema=reader.schema)


def iter_trip_batches(path: str | Path, *, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Read a trip file in batches of about ``batch_rows`` rows (CSV cells as text)."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if kind == ".parquet":
            yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
            return
        header = csv_header(path)
        if not header:
            raise InputError(f"{path}: empty file, no header row")
        convert = _all_text(header)
        block = int(min(256 << 20, max(1 << 20, batch_rows * 128)))
        read = pa_csv.ReadOptions(block_size=block, use_threads=True)
        yield from pa_csv.open_csv(str(path), read_options=read, convert_options=convert)
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first row (a byte-order mark dropped)."""
    with path.open(encoding="utf-8-sig", newline="") as text:
        return next(csv.reader(text), [])


def _all_text(header: list[str]) -> pa_csv.ConvertOptions:
    """Every column read as text, empty cells as empty text (the intake judges them)."""
    return pa_csv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def write_result_file(table: pa.Table, path: str | Path) -> None:
    """Write results as CSV or Parquet (by extension), creating the parent folder."""
    path = Path(path)
    kind = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == ".parquet":
            pq.write_table(table, path)
        else:
            pa_csv.write_csv(iso_times(table), path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: cannot write {kind[1:]} file: {first_line(exc)}") from None


def recorded_factor_sets(path: str | Path) -> set[tuple[str, str]]:
    """The (factor set, content hash) pairs an earlier result file records; empty if none."""
    path = Path(path)
    if not path.is_file():
        return set()
    try:
        if file_format(path) == ".parquet":
            table = pq.read_table(path, columns=["factor_set", "factor_set_hash"])
        else:
            options = pa_csv.ConvertOptions(include_columns=["factor_set", "factor_set_hash"])
            table = pa_csv.read_csv(path, convert_options=options)
    except (pa.ArrowInvalid, OSError, KeyError, InputError):
        return set()
    pairs = table.group_by(["factor_set", "factor_set_hash"]).aggregate([])
    return {
        (str(name), str(digest))
        for name, digest in zip(
            pairs.column("factor_set").to_pylist(),
            pairs.column("factor_set_hash").to_pylist(),
            strict=True,
        )
    }


def append_result_file(table: pa.Table, path: str | Path) -> None:
    """Add result rows to an existing result file of the same columns (else write it)."""
    path = Path(path)
    if not path.exists():
        write_result_file(table, path)
        return
    if file_format(path) == ".parquet":
        existing = pq.read_table(path)
        if existing.column_names != table.column_names:
            raise InputError(f"{path}: cannot append, its columns differ from this run's")
        merged = pa.concat_tables(
            [existing, table.cast(existing.schema)], promote_options="permissive"
        )
        write_result_file(merged.replace_schema_metadata(table.schema.metadata), path)
        return
    header = csv_header(path)
    if header != table.column_names:
        raise InputError(f"{path}: cannot append, its columns differ from this run's")
    with path.open("ab") as handle:
        pa_csv.write_csv(
            iso_times(table), handle, write_options=pa_csv.WriteOptions(include_header=False)
        )


def iso_times(table: pa.Table) -> pa.Table:
    """Timestamp columns as ISO 8601 text (``2024-05-01T00:30:00Z``), the form inputs use."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            utc = table.column(index).cast(pa.timestamp("s", tz="UTC"), safe=False)
            text = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
            table = table.set_column(index, pa.field(field.name, pa.string()), text)
    return table


class ResultWriter:
    """Writes a result (or rejects) file batch by batch: Parquet row groups or CSV rows.

    For runners that produce a file in pieces (streaming, Dask); the file is the one
    :func:`write_result_file` would write from the whole table.
    """

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        path = Path(path)
        self.kind = file_format(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == ".parquet":
            self.writer: Any = pq.ParquetWriter(path, schema)
        else:
            self.writer = pa_csv.CSVWriter(path, iso_times(schema.empty_table()).schema)

    def write(self, table: pa.Table) -> None:
        """Add ``table``'s rows (one row group per call in Parquet)."""
        if self.kind == ".parquet":
            self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        else:
            self.writer.write_table(iso_times(table))

    def close(self) -> None:
        self.writer.close()


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (pyarrow's run on for several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
