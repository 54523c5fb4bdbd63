"""Result files out: CSV and Parquet, written so that a crash never leaves a torn file.

Every file (a result, a rejects file, an appended result) is written to a temporary file
beside its target, flushed to disk and renamed onto the target: a reader, or a run
killed at any moment, sees the old file or the new one, never part of either. Appending
therefore rewrites the file (a copy of the old one and the new rows); that costs the old
file's size once per append, the price of an append that cannot destroy earlier results.

CSV holds text: timestamps are written as ISO 8601 (the form inputs use), and columns CSV
has no form for (lists, structs, maps: nested Parquet columns passed through to a
rejects file) as JSON text, bytes as text with any invalid UTF-8 escaped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from carbonfoot.errors import InputError
from carbonfoot.io.files import csv_header, file_format, first_line

__all__ = [
    "ResultWriter",
    "append_result_file",
    "csv_ready",
    "iso_times",
    "recorded_factor_sets",
    "replacing",
    "write_result_file",
]


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path``; on leaving the block without an error its file is
    flushed to disk and renamed onto ``path`` (atomically), else removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex[:12]}.part"
    try:
        yield temporary
        _flush(temporary)
        os.replace(temporary, path)
        _flush_folder(path.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _flush(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _flush_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def write_result_file(table: pa.Table, path: str | Path) -> None:
    """Write results as CSV or Parquet (by extension), creating the parent folder."""
    path = Path(path)
    kind = file_format(path)
    try:
        with replacing(path) as temporary:
            if kind == ".parquet":
                pq.write_table(table, temporary)
            else:
                pa_csv.write_csv(csv_ready(table), temporary)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(f"{path}: cannot write {kind[1:]} file: {first_line(exc)}") from None


def append_result_file(table: pa.Table, path: str | Path) -> None:
    """Add result rows to an existing result file of the same columns (else write it)."""
    path = Path(path)
    if not path.exists():
        write_result_file(table, path)
        return
    kind = file_format(path)
    if kind == ".parquet":
        existing = pq.read_table(path)
        if existing.column_names != table.column_names:
            raise InputError(f"{path}: cannot append, its columns differ from this run's")
        merged = pa.concat_tables(
            [existing, table.cast(existing.schema)], promote_options="permissive"
        )
        write_result_file(merged.replace_schema_metadata(table.schema.metadata), path)
        return
    if csv_header(path) != table.column_names:
        raise InputError(f"{path}: cannot append, its columns differ from this run's")
    try:
        with replacing(path) as temporary:
            shutil.copyfile(path, temporary)
            with temporary.open("ab") as handle:
                if not _ends_with_newline(path):
                    handle.write(b"\n")
                pa_csv.write_csv(
                    csv_ready(table),
                    handle,
                    write_options=pa_csv.WriteOptions(include_header=False),
                )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise InputError(f"{path}: cannot append to csv file: {first_line(exc)}") from None


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


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
    # Distinct pairs without Table.group_by, which loads pyarrow's query engine (and
    # pandas with it): seconds of start-up for a handful of values.
    names, digests = (pc.cast(table.column(name), pa.string()) for name in table.column_names)
    pairs = pc.unique(pc.binary_join_element_wise(names, digests, pa.scalar("\x1f")))
    return {
        (name, digest)
        for name, _, digest in (str(pair).partition("\x1f") for pair in pairs.to_pylist())
    }


def iso_times(table: pa.Table) -> pa.Table:
    """Timestamp columns as ISO 8601 text (``2024-05-01T00:30:00Z``), the form inputs use."""
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type) and field.type.tz is not None:
            utc = table.column(index).cast(pa.timestamp("s", tz="UTC"), safe=False)
            text = pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
            table = table.set_column(index, pa.field(field.name, pa.string()), text)
    return table


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` in columns CSV can hold: ISO times, JSON for nested values, bytes as text."""
    table = iso_times(table)
    for index, field in enumerate(table.schema):
        kind = field.type
        if pa.types.is_dictionary(kind) and _needs_text(kind.value_type):
            column = table.column(index).cast(kind.value_type)
            table = table.set_column(index, field.name, column)
            kind = kind.value_type
        if _needs_text(kind):
            table = table.set_column(
                index, pa.field(field.name, pa.string()), _as_text(table.column(index))
            )
    return table


def _needs_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_nested(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    )


def _as_text(column: pa.ChunkedArray) -> pa.Array:
    """Nested values as JSON text, bytes decoded (invalid UTF-8 escaped); one Python
    conversion per distinct value: such columns only pass through to rejects files."""
    values = column.combine_chunks()
    if pa.types.is_nested(values.type):
        return pa.array(
            [
                None if value is None else json.dumps(value, default=str)
                for value in values.to_pylist()
            ],
            type=pa.string(),
        )
    encoded = values.dictionary_encode()
    decoded: list[Any] = [
        raw.decode("utf-8", errors="backslashreplace") for raw in encoded.dictionary.to_pylist()
    ]
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(decoded, pa.string())).cast(
        pa.string()
    )


class ResultWriter:
    """Writes a result (or rejects) file batch by batch: Parquet row groups or CSV rows.

    For runners that produce a file in pieces (streaming, Dask); the file is the one
    :func:`write_result_file` would write from the whole table, and like it appears only
    when complete: :meth:`close` puts it in place, :meth:`abort` (or leaving a ``with``
    block on an error) leaves the old file as it was.
    """

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.kind = file_format(self.path)
        self._replacing = replacing(self.path)
        temporary = self._replacing.__enter__()
        try:
            if self.kind == ".parquet":
                self.writer: Any = pq.ParquetWriter(temporary, schema)
            else:
                self.writer = pa_csv.CSVWriter(temporary, csv_ready(schema.empty_table()).schema)
        except BaseException as exc:
            self._replacing.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def write(self, table: pa.Table) -> None:
        """Add ``table``'s rows (one row group per call in Parquet)."""
        if self.kind == ".parquet":
            self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        else:
            self.writer.write_table(csv_ready(table))

    def close(self) -> None:
        """Finish the file and put it in place of the target."""
        self.writer.close()
        self._replacing.__exit__(None, None, None)

    def abort(self) -> None:
        """Drop what was written; the target keeps its old content (or stays absent)."""
        with contextlib.suppress(Exception):
            self.writer.close()
        error = RuntimeError("aborted")
        with contextlib.suppress(RuntimeError):
            self._replacing.__exit__(RuntimeError, error, None)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
