"""Trip files in: CSV and Parquet, chosen by extension.

CSV cells are all read as text (:mod:`carbonfoot.io.csv_text`), so one malformed cell
(``"abc"`` in ``distance``) becomes a rejected row, and one malformed row (a field too
many, an unclosed quote, bytes that are not UTF-8) a ``bad_row``, instead of failing the
file; the intake parses numbers and times itself. Parquet columns keep their types.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from carbonfoot.errors import InputError
from carbonfoot.io.csv_text import (
    DEFAULT_LIMITS,
    CsvLimits,
    iter_csv_tables,
    read_csv_header,
    read_csv_table,
)

__all__ = [
    "FORMATS",
    "csv_header",
    "file_format",
    "first_line",
    "iter_trip_batches",
    "read_trip_file",
]

FORMATS = (".csv", ".parquet")


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


def read_trip_file(
    path: str | Path,
    *,
    on_bytes: Callable[[int], None] | None = None,
    limits: CsvLimits = DEFAULT_LIMITS,
) -> pa.Table:
    """Read a trip file; ``on_bytes(n)`` is called as the file is read, for progress bars.

    A CSV file's table has one more column, ``__carbonfoot_bad_row``
    (:data:`carbonfoot.io.BAD_ROW_COLUMN`): null, or why the row could not be parsed.
    """
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
        return read_csv_table(path, limits=limits, on_bytes=on_bytes)
    except InputError as exc:
        raise _named(exc, path) from None
    except (pa.ArrowInvalid, OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def iter_trip_batches(
    path: str | Path, *, batch_rows: int, limits: CsvLimits = DEFAULT_LIMITS
) -> Iterator[pa.RecordBatch]:
    """Read a trip file in batches of about ``batch_rows`` rows (CSV cells as text)."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if kind == ".parquet":
            yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
            return
        block = int(min(256 << 20, max(1 << 20, batch_rows * 128)))
        for table in iter_csv_tables(path, limits=limits, block_bytes=block):
            yield from table.to_batches(max_chunksize=max(1, batch_rows))
    except InputError as exc:
        raise _named(exc, path) from None
    except (pa.ArrowInvalid, OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first row (a byte-order mark dropped)."""
    return read_csv_header(path)


def _named(exc: InputError, path: Path) -> InputError:
    """The error with the file named first (once)."""
    message = str(exc)
    if message.startswith(f"{path}:"):
        return exc
    return InputError(f"{path}: {message}", status=exc.status)


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (pyarrow's run on for several)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
