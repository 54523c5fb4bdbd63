"""Intake, the first stage: a table in, checked columns out (:class:`TripColumns`).

Input is any table-like value: a pyarrow Table or RecordBatch, a pandas DataFrame, a
mapping of column name to numpy array or list, any object that exports an Arrow stream
through the Arrow PyCapsule interface (``__arrow_c_stream__``: a polars DataFrame, a
DuckDB relation, a nanoarrow or arro3 stream) or a polars LazyFrame (collected first).
Every row ends with exactly one
status: ``ok``, or the first reason, in column order, that it cannot be computed
(:mod:`carbonfoot.statuses`). Each rejected row gets a message naming its row number
(1-based, counting data rows) and column. All checks are whole-column operations; Python
loops run only over the distinct values of a column (mode labels, unit spellings), never
over trips. The steps, each in its own module:

* :mod:`~carbonfoot.intake.columns`: which column is which (names matched once);
* :mod:`~carbonfoot.intake.ids`: trip and user ids in one canonical form; repeated trip ids;
* :mod:`~carbonfoot.intake.distance`: kilometres from the distance and its unit, or
  from the distance providers;
* times, here: ISO 8601 text or timestamps to UTC microseconds (:mod:`carbonfoot.times`);
* :mod:`~carbonfoot.intake.rejections`: the status and message of each row.

:mod:`~carbonfoot.intake.plausibility` holds the checks the engine runs once a batch's
factors are known (quarantine of trips possible on paper but not in life).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import frozen

from carbonfoot._kernels.arrays import null_mask, one_array
from carbonfoot._kernels.hashing import value_codes
from carbonfoot._kernels.strings import as_text, blank, empty_or_null
from carbonfoot._kernels.threads import Deferred
from carbonfoot.distances import DistanceProvider, source_names
from carbonfoot.errors import InputError
from carbonfoot.intake.columns import (
    BAD_ROW_COLUMN,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    column_key,
    match_columns,
)
from carbonfoot.intake.distance import MAX_TRIP_KM, read_distances
from carbonfoot.intake.ids import KnownDuplicates, canonical_ids, duplicate_trip_ids
from carbonfoot.intake.rejections import Rejections
from carbonfoot.modes import UNKNOWN_MODE, ModeTable
from carbonfoot.times import TIME_RANGE, ParsedTimes, parse_times

__all__ = [
    "MAX_TRIP_KM",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Rejections",
    "TripColumns",
    "read_trips",
    "to_arrow_table",
]

BoolArray = npt.NDArray[np.bool_]


@frozen
class TripColumns:
    """The intake's output: one entry per input row, as arrays the engine computes on.

    ``status`` holds internal status codes (indexes into :data:`carbonfoot.STATUSES`); rows with a
    non-zero status carry a message in ``messages`` (a string array, null where ok).
    """

    size: int
    trip_id: pa.Array
    user_id: pa.Array
    mode_label: pa.Array
    mode_code: npt.NDArray[np.int32]
    distance_km: npt.NDArray[np.float64]
    started_us: npt.NDArray[np.int64]
    started_valid: BoolArray
    ended_us: npt.NDArray[np.int64] | None
    district: pa.Array | None
    distance_source: npt.NDArray[np.int8]
    source_names: tuple[str, ...]
    status: npt.NDArray[np.int8]
    rejections: Rejections
    user_codes: Deferred[npt.NDArray[np.int64]]
    #: Start times without an offset, read as wall-clock time in the policy's time zone.
    naive_times: int = 0


def to_arrow_table(trips: Any) -> pa.Table:
    """The trips as one pyarrow Table, whatever table-like value they came as.

    In order: a pyarrow Table or RecordBatch as it is; a pandas DataFrame (through
    ``from_pandas``, with a column of mixed numbers and text kept as text); a polars
    LazyFrame, collected; any object with ``__arrow_c_stream__`` (the Arrow PyCapsule
    interface, pyarrow >= 15), read whole; a mapping of column name to array. Columns of the
    Arrow "view" layouts (polars' strings) become the plain layouts the intake reads.
    """
    return _plain_layouts(_any_table(trips))


def _any_table(trips: Any) -> pa.Table:
    if isinstance(trips, pa.Table):
        return trips
    if isinstance(trips, pa.RecordBatch):
        return pa.Table.from_batches([trips])
    # pandas >= 2.2 exports __arrow_c_stream__ too; from_pandas keeps the fallback for a
    # column of mixed numbers and text, so pandas is read before the generic stream.
    if type(trips).__module__.startswith("pandas") and hasattr(trips, "columns"):
        try:
            return pa.Table.from_pandas(trips, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.table(
                {str(name): _column_array(trips[name].to_numpy()) for name in trips.columns}
            )
    if _is_lazy_frame(trips):
        trips = trips.collect()
    if hasattr(trips, "__arrow_c_stream__"):
        try:
            return pa.RecordBatchReader.from_stream(trips).read_all()
        except (pa.ArrowException, TypeError, ValueError) as error:
            raise InputError(
                f"cannot read trips from the Arrow stream of {type(trips).__name__}: {error}"
            ) from error
    if isinstance(trips, Mapping):
        return pa.table({str(name): _column_array(values) for name, values in trips.items()})
    raise InputError(
        f"cannot read trips from {type(trips).__name__}; give a pyarrow Table, a pandas or "
        "polars DataFrame (or LazyFrame), any object with __arrow_c_stream__ (a DuckDB "
        "relation, ...), or a mapping of column name to array"
    )


def _is_lazy_frame(trips: Any) -> bool:
    """A polars LazyFrame (known by its type, so polars is never imported here)."""
    kind = type(trips)
    return kind.__module__.startswith("polars") and kind.__name__ == "LazyFrame"


#: Arrow's "view" layouts and the plain layouts the intake's kernels read.
_PLAIN_OF_VIEW = {pa.string_view(): pa.large_string(), pa.binary_view(): pa.large_binary()}


def _plain_layouts(table: pa.Table) -> pa.Table:
    """``table`` with string and binary view columns (a dictionary's values too) cast to
    large string and large binary: a cast per column, not per row; other columns as given."""
    fields = list(table.schema)
    plain = [_plain_type(field.type) for field in fields]
    if all(new is None for new in plain):
        return table
    schema = pa.schema(
        [
            field if new is None else field.with_type(new)
            for field, new in zip(fields, plain, strict=True)
        ],
        metadata=table.schema.metadata,
    )
    return table.cast(schema)


def _plain_type(kind: pa.DataType) -> pa.DataType | None:
    """The plain type for a view type (or a dictionary of one); None if ``kind`` is plain."""
    if kind in _PLAIN_OF_VIEW:
        return _PLAIN_OF_VIEW[kind]
    if pa.types.is_dictionary(kind) and kind.value_type in _PLAIN_OF_VIEW:
        return pa.dictionary(kind.index_type, _PLAIN_OF_VIEW[kind.value_type])
    return None


def _column_array(values: Any) -> pa.Array:
    if isinstance(values, pa.Array | pa.ChunkedArray):
        return values
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        # Mixed types in one column (numbers and text): keep each value as text, so
        # every row is judged on its own instead of failing the column.
        return pa.array(
            [None if value is None else str(value) for value in values], type=pa.string()
        )


def read_trips(
    table: pa.Table,
    modes: ModeTable,
    *,
    default_unit: str,
    timezone: str,
    row_offset: int = 0,
    providers: Sequence[DistanceProvider] = (),
    options: Mapping[str, Any] | None = None,
    row_numbers: npt.NDArray[np.int64] | None = None,
    known_duplicates: KnownDuplicates | None = None,
    fold_id_case: bool = False,
) -> TripColumns:
    """Check every column of ``table`` and resolve it to arrays; see the module docstring.

    ``providers`` derive distances for rows whose ``distance`` is empty (in order); their
    ``options`` are the parsed provider options. A part of a larger file passes each row's
    ``row_numbers`` (0-based, in the whole file) and the file's ``known_duplicates``
    (sorted row numbers of repeated trip ids, and the row each first appeared in).
    Trip and user ids are compared in their canonical form (:mod:`carbonfoot.intake.ids`),
    case folded too with ``fold_id_case``.
    """
    present = {column_key(name) for name in table.column_names}
    derivable = any(all(name in present for name in provider.columns) for provider in providers)
    names = match_columns(table.column_names, optional_distance=derivable)

    def column(name: str) -> pa.Array:
        return one_array(table.column(names[name]))

    size = table.num_rows
    if row_numbers is None:
        row_numbers = np.arange(row_offset, row_offset + size, dtype=np.int64)
    rejections = Rejections(size, row_numbers)
    if BAD_ROW_COLUMN in table.column_names:  # rows a CSV file could not give
        bad_rows = as_text(one_array(table.column(BAD_ROW_COLUMN)))
        if bad_rows.null_count < size:
            rejections.reject_rows(~null_mask(bad_rows), "bad_row", bad_rows)
    # User codes (for the daily cap and the plausibility checks) take a hash of a whole
    # text column; on a large batch that runs on another core while the rest is read here.
    user_id, bad_user = canonical_ids(column("user_id"), fold_case=fold_id_case)
    user_codes = Deferred(partial(value_codes, user_id), size)
    trip_id, bad_trip = canonical_ids(column("trip_id"), fold_case=fold_id_case)
    mode_label = as_text(column("mode"))
    blank_trip, blank_user = empty_or_null(trip_id), empty_or_null(user_id)
    mode_code = modes.codes(mode_label)
    unknown = np.flatnonzero(mode_code == UNKNOWN_MODE)  # blank labels are among these
    blank_mode = np.zeros(size, dtype=np.bool_)
    blank_mode[unknown] = blank(mode_label.take(pa.array(unknown)))
    if bad_trip.any():
        rejections.reject(bad_trip, "missing_trip_id", "trip_id", "is not valid UTF-8 text")
    rejections.reject(blank_trip, "missing_trip_id", "trip_id", "is empty")
    duplicate, first_row = duplicate_trip_ids(trip_id, row_numbers, rejections.ok, known_duplicates)
    rejections.reject_value(
        duplicate,
        "duplicate_trip_id",
        "trip_id",
        trip_id,
        " already appears in row ",
        detail=lambda rows: pa.array(first_row[rows] + 1).cast(pa.string()),
    )
    if bad_user.any():
        rejections.reject(bad_user, "missing_user", "user_id", "is not valid UTF-8 text")
    rejections.reject(blank_user, "missing_user", "user_id", "is empty")
    rejections.reject(blank_mode, "unknown_mode", "mode", "is empty")
    rejections.reject_value(
        mode_code == UNKNOWN_MODE,
        "unknown_mode",
        "mode",
        mode_label,
        " is not an installed mode or alias (see `carbonfoot modes`)",
    )
    distance_km, source = read_distances(
        column,
        names,
        size,
        default_unit,
        rejections,
        providers=providers,
        options=options,
        modes=modes,
        mode_code=mode_code,
    )
    started = _read_time(column("started_at"), "started_at", timezone, rejections)
    started_us, started_valid = started.micros, started.valid
    ended_us = None
    if "ended_at" in names:
        ended = column("ended_at")
        parsed = parse_times(ended, timezone)
        _reject_times(parsed, ended, "ended_at", rejections, empty_allowed=True)
        ended_us = parsed.micros
        rejections.reject_value(
            parsed.valid & started_valid & (ended_us < started_us),
            "bad_time",
            "ended_at",
            ended,
            " is before started_at",
        )
    district = as_text(column("district")) if "district" in names else None
    every = not rejections.status.any()
    return TripColumns(
        size=size,
        trip_id=trip_id,
        user_id=user_id,
        mode_label=mode_label,
        mode_code=mode_code,
        distance_km=distance_km if every else np.where(rejections.ok, distance_km, np.nan),
        started_us=started_us,
        started_valid=started_valid,
        ended_us=ended_us,
        district=district,
        distance_source=source if every else np.where(rejections.ok, source, np.int8(-1)),
        source_names=source_names(providers),
        status=rejections.status,
        rejections=rejections,
        user_codes=user_codes,
        naive_times=started.naive,
    )


def _read_time(values: pa.Array, column: str, timezone: str, rejections: Rejections) -> ParsedTimes:
    parsed = parse_times(values, timezone)
    _reject_times(parsed, values, column, rejections, empty_allowed=False)
    return parsed


def _reject_times(
    parsed: ParsedTimes,
    values: pa.Array,
    column: str,
    rejections: Rejections,
    *,
    empty_allowed: bool,
) -> None:
    """``bad_time`` for each time that is not valid, saying which way it is wrong."""
    if parsed.valid.all():
        return
    if not empty_allowed:
        rejections.reject(parsed.missing, "bad_time", column, "is empty")
    first, last = (day.isoformat() for day in TIME_RANGE)
    rejections.reject_value(
        parsed.out_of_range,
        "bad_time",
        column,
        values,
        f" is outside the times carbonfoot reads, {first} to {last} (UTC)",
    )
    rejections.reject_value(parsed.no_date, "bad_time", column, values, " is not a calendar date")
    rejections.reject_value(
        ~parsed.valid & ~parsed.missing,
        "bad_time",
        column,
        values,
        " is not an ISO 8601 time (e.g. 2024-05-01T08:30:00+08:00)",
    )
