"""Trip files in: CSV and Parquet, chosen by extension, written as a :class:`TripFormat` says.

CSV cells are all read as text (:mod:`carbonfoot.io.csv_text`), so one malformed cell
(``"abc"`` in ``distance``) becomes a rejected row, and one malformed row (a field too
many, an unclosed quote, bytes that are not UTF-8) a ``bad_row``, instead of failing the
file; the intake parses numbers and times itself. Parquet columns keep their types.
A CSV file in another encoding than UTF-8 is transcoded as it is read
(:func:`carbonfoot.io.trip_format.readable_csv`); the format's column mapping applies to
both kinds of file, its delimiter, encoding and decimal mark to CSV only.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator
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
from carbonfoot.io.trip_format import DEFAULT_FORMAT, TripFormat, readable_csv

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
    trip_format: TripFormat = DEFAULT_FORMAT,
    known_columns: Iterable[str] = (),
) -> pa.Table:
    """Read a trip file; ``on_bytes(n)`` is called as the file is read, for progress bars.

    A CSV file's table has one more column, ``__carbonfoot_bad_row``
    (:data:`carbonfoot.io.BAD_ROW_COLUMN`): null, or why the row could not be parsed.
    ``known_columns`` (the distance providers' columns) are targets a column mapping may
    name besides carbonfoot's own.
    """
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        if kind == ".parquet":
            _only_csv(trip_format)
            table = pq.read_table(path)
            if on_bytes is not None:
                on_bytes(path.stat().st_size)
            return trip_format.apply(table, known=known_columns)
        with readable_csv(path, trip_format) as (readable, encoding):
            try:
                table = read_csv_table(
                    readable, limits=limits, on_bytes=on_bytes, delimiter=trip_format.delimiter
                )
            except InputError as exc:
                raise _renamed(exc, readable, path) from None
        return trip_format.apply(table, encoding=encoding, known=known_columns)
    except InputError as exc:
        raise _named(exc, path) from None
    except (pa.ArrowInvalid, OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def iter_trip_batches(
    path: str | Path,
    *,
    batch_rows: int,
    limits: CsvLimits = DEFAULT_LIMITS,
    trip_format: TripFormat = DEFAULT_FORMAT,
    known_columns: Iterable[str] = (),
) -> Iterator[pa.RecordBatch]:
    """Read a trip file in batches of about ``batch_rows`` rows (CSV cells as text)."""
    path = Path(path)
    kind = file_format(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    known = tuple(known_columns)
    try:
        if kind == ".parquet":
            _only_csv(trip_format)
            for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows):
                yield from trip_format.apply(
                    pa.Table.from_batches([batch]), known=known
                ).to_batches()
            return
        block = int(min(256 << 20, max(1 << 20, batch_rows * 128)))
        with readable_csv(path, trip_format) as (readable, encoding):
            tables = iter_csv_tables(
                readable, limits=limits, block_bytes=block, delimiter=trip_format.delimiter
            )
            try:
                for table in tables:
                    table = trip_format.apply(table, encoding=encoding, known=known)
                    yield from table.to_batches(max_chunksize=max(1, batch_rows))
            except InputError as exc:
                raise _renamed(exc, readable, path) from None
    except InputError as exc:
        raise _named(exc, path) from None
    except (pa.ArrowInvalid, OSError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read {kind[1:]} file: {first_line(exc)}") from None


def csv_header(
    path: Path, trip_format: TripFormat = DEFAULT_FORMAT, known_columns: Iterable[str] = ()
) -> list[str]:
    """The column names of a CSV file's first row (a byte-order mark dropped), as the
    format reads them (in its encoding and delimiter, its column mapping applied)."""
    if trip_format.is_default:
        return read_csv_header(path)
    with readable_csv(path, trip_format) as (readable, _):
        try:
            names = read_csv_header(readable, delimiter=trip_format.delimiter)
        except InputError as exc:
            raise _named(_renamed(exc, readable, path), path) from None
    return trip_format.renamed(names, known=known_columns)


def _only_csv(trip_format: TripFormat) -> None:
    """A Parquet file has types of its own: an encoding, delimiter or decimal mark given
    for it is a mistake, said as such."""
    given = [
        name
        for name, value in (
            ("an encoding", trip_format.encoding),
            ("a delimiter", None if trip_format.delimiter == "," else trip_format.delimiter),
            ("a decimal mark", trip_format.decimal_comma),
        )
        if value is not None
    ]
    if given:
        raise InputError(
            f"{' and '.join(given)} apply to CSV files; a Parquet file carries its own types"
        )


def _renamed(exc: InputError, readable: Path, path: Path) -> InputError:
    """An error about a transcoded copy, naming the file the user gave."""
    if readable == path:
        return exc
    return InputError(str(exc).replace(str(readable), str(path)), status=exc.status)


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
