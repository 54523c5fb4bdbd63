"""Trip intake: columns checked, units converted once, modes resolved to codes.

Input is any table-like value (a pyarrow Table or RecordBatch, a pandas DataFrame, or
a mapping of column name to numpy array or list). Every row ends with exactly one
status: ``ok``, or the first reason, in column order, that it cannot be computed.
Each rejected row gets a message naming its row number (1-based, counting data rows)
and column. All checks are whole-column operations; Python loops run only over the
distinct values of a column (mode labels, unit spellings), never over trips.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot._kernels.arrays import null_mask, one_array
from carbonfoot._kernels.hashing import repeats, value_codes
from carbonfoot._kernels.strings import as_text, blank, empty_or_null, trim_whitespace
from carbonfoot._kernels.threads import Deferred
from carbonfoot.distances import REPORTED, DistanceProvider, DistanceRequest
from carbonfoot.errors import InputError, PluginError
from carbonfoot.modes import UNKNOWN_MODE, ModeTable
from carbonfoot.statuses import STATUS_CODE
from carbonfoot.times import parse_times
from carbonfoot.units import (
    DISTANCE_UNITS,
    describe_bad_distance_unit,
    distance_unit_to_km,
    km_per_unit,
    normalise_unit_spelling,
)

__all__ = [
    "MAX_TRIP_KM",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TripColumns",
    "read_trips",
    "to_arrow_table",
]

REQUIRED_COLUMNS: Final = ("trip_id", "user_id", "mode", "distance", "started_at")
OPTIONAL_COLUMNS: Final = ("distance_unit", "ended_at", "district")

#: The longest distance one trip can cover on the ground: Earth's equatorial
#: circumference, 40,075.017 km (WGS 84 semi-major axis 6,378,137 m, NIMA TR8350.2).
#: Anything longer is a data error; it also keeps every product of the engine finite.
MAX_TRIP_KM: Final = 40_075.017

NUMBER_PATTERN: Final = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_SHOWN_CHARACTERS: Final = 40

BoolArray = npt.NDArray[np.bool_]


@frozen
class TripColumns:
    """The intake's output: one entry per input row, as arrays the engine computes on.

    ``status`` holds internal status codes (indexes into :data:`STATUSES`); rows with a
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
    rejections: _Rejections
    user_codes: Deferred[npt.NDArray[np.int64]]


def to_arrow_table(trips: Any) -> pa.Table:
    """Accept a pyarrow Table/RecordBatch, a pandas DataFrame, or a mapping of columns."""
    if isinstance(trips, pa.Table):
        return trips
    if isinstance(trips, pa.RecordBatch):
        return pa.Table.from_batches([trips])
    if type(trips).__module__.startswith("pandas") and hasattr(trips, "columns"):
        try:
            return pa.Table.from_pandas(trips, preserve_index=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return pa.table(
                {str(name): _column_array(trips[name].to_numpy()) for name in trips.columns}
            )
    if isinstance(trips, Mapping):
        return pa.table({str(name): _column_array(values) for name, values in trips.items()})
    raise InputError(
        f"cannot read trips from {type(trips).__name__}; give a pyarrow Table, a pandas "
        "DataFrame, or a mapping of column name to array"
    )


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
    known_duplicates: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None,
) -> TripColumns:
    """Check every column of ``table`` and resolve it to arrays; see the module docstring.

    ``providers`` derive distances for rows whose ``distance`` is empty (in order); their
    ``options`` are the parsed provider options. A part of a larger file passes each row's
    ``row_numbers`` (0-based, in the whole file) and the file's ``known_duplicates``
    (sorted row numbers of repeated trip ids, and the row each first appeared in).
    """
    provider_columns = {name for provider in providers for name in provider.columns}
    present = {name.strip().lstrip("\ufeff").casefold() for name in table.column_names}
    derivable = any(all(name in present for name in provider.columns) for provider in providers)
    names = _column_names(table.column_names, optional_distance=derivable)
    default_km = _default_unit_km(default_unit)

    def column(name: str) -> pa.Array:
        return one_array(table.column(names[name]))

    size = table.num_rows
    if row_numbers is None:
        row_numbers = np.arange(row_offset, row_offset + size, dtype=np.int64)
    rejections = _Rejections(size, row_numbers)
    # Ids are trimmed: "a1" and "a1 " are one trip (and one user), never two.
    # User codes (for the daily cap and the plausibility checks) take a hash of a whole
    # text column; on a large batch that runs on another core while the rest is read here.
    user_id = trim_whitespace(as_text(column("user_id")))
    user_codes = Deferred(partial(value_codes, user_id), size)
    trip_id = trim_whitespace(as_text(column("trip_id")))
    mode_label = as_text(column("mode"))
    blank_trip, blank_user = empty_or_null(trip_id), empty_or_null(user_id)
    mode_code = modes.codes(mode_label)
    unknown = np.flatnonzero(mode_code == UNKNOWN_MODE)  # blank labels are among these
    blank_mode = np.zeros(size, dtype=np.bool_)
    blank_mode[unknown] = blank(mode_label.take(pa.array(unknown)))
    rejections.reject(blank_trip, "missing_trip_id", "trip_id", "is empty")
    if known_duplicates is None:
        again, first = repeats(trip_id)
        duplicate = np.zeros(size, dtype=np.bool_)
        duplicate[again] = True
        duplicate &= rejections.ok
        first_row = row_numbers
        if again.size:
            first_row = row_numbers.copy()
            first_row[again] = row_numbers[first]
    elif known_duplicates[0].size:
        duplicate_rows, first_of_duplicate = known_duplicates
        position = np.minimum(np.searchsorted(duplicate_rows, row_numbers), duplicate_rows.size - 1)
        duplicate = (duplicate_rows[position] == row_numbers) & rejections.ok
        first_row = np.where(duplicate, first_of_duplicate[position], row_numbers)
    else:  # the file's ids were all distinct
        first_row, duplicate = row_numbers, np.zeros(size, dtype=np.bool_)
    rejections.reject_value(
        duplicate,
        "duplicate_trip_id",
        "trip_id",
        trip_id,
        " already appears in row ",
        detail=lambda rows: pa.array(first_row[rows] + 1).cast(pa.string()),
    )
    rejections.reject(blank_user, "missing_user", "user_id", "is empty")
    rejections.reject(blank_mode, "unknown_mode", "mode", "is empty")
    rejections.reject_value(
        mode_code == UNKNOWN_MODE,
        "unknown_mode",
        "mode",
        mode_label,
        " is not an installed mode or alias (see `carbonfoot modes`)",
    )
    distance_column = column("distance") if "distance" in names else pa.nulls(size, pa.string())
    given = ~blank(distance_column)
    distance = _read_distance(distance_column, rejections, given if provider_columns else None)
    unit_km = _unit_factors(
        column("distance_unit") if "distance_unit" in names else None, default_km, size, rejections
    )
    with np.errstate(invalid="ignore", over="ignore"):
        distance_km = np.multiply(distance, unit_km)  # a new array: providers fill it in
    rejections.reject_value(
        rejections.ok & given & ~(distance_km <= MAX_TRIP_KM),
        "bad_distance",
        "distance",
        distance_column,
        f" is longer than {MAX_TRIP_KM:,} km, the Earth's circumference",
    )
    rejections.reject_value(
        rejections.ok & given & (distance_km == 0),
        "bad_distance",
        "distance",
        distance_column,
        " is too small: 0 km once converted to kilometres",
    )
    source = given.astype(np.int8) - np.int8(1)  # 0 (reported) where given, else -1
    if provider_columns:
        _derive_distances(
            providers,
            options or {},
            names,
            column,
            modes,
            mode_code,
            ~given,
            distance_km,
            source,
            rejections,
        )
    started_us, started_valid = _read_time(column("started_at"), "started_at", timezone, rejections)
    ended_us = None
    if "ended_at" in names:
        ended = column("ended_at")
        blank_end = blank(ended)
        ended_us, ended_ok, _ = parse_times(ended, timezone)
        rejections.reject_value(
            ~blank_end & ~ended_ok,
            "bad_time",
            "ended_at",
            ended,
            " is not an ISO 8601 time (e.g. 2024-05-01T08:30:00+08:00)",
        )
        rejections.reject_value(
            ~blank_end & ended_ok & started_valid & (ended_us < started_us),
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
        source_names=(REPORTED, *(provider.id for provider in providers)),
        status=rejections.status,
        rejections=rejections,
        user_codes=user_codes,
    )


def _column_names(found: list[str], *, optional_distance: bool = False) -> dict[str, str]:
    """Our column name -> the table's, matched trimmed and case-insensitively; checked.

    ``distance`` may be absent when distance providers can derive it from other columns.
    """
    names: dict[str, str] = {}
    for name in found:
        key = name.strip().lstrip("\ufeff").casefold()
        if key in names:
            raise InputError(f"column {name!r} appears twice; each column must be given once")
        names[key] = name
    missing = [
        name
        for name in REQUIRED_COLUMNS
        if name not in names and not (name == "distance" and optional_distance)
    ]
    if missing:
        hint = ""
        if len(found) == 1 and any(mark in found[0] for mark in (";", "\t", "|")):
            hint = "; the file seems not to be comma-separated (CSV input must use commas)"
        raise InputError(
            f"missing column(s) {', '.join(missing)}; trips need {', '.join(REQUIRED_COLUMNS)} "
            f"(found: {', '.join(found) or 'none'}){hint}"
        )
    return names


class _Rejections:
    """Statuses and messages of one batch. The first reason a row meets is the one it keeps."""

    def __init__(self, size: int, row_numbers: npt.NDArray[np.int64]) -> None:
        self.status = np.zeros(size, dtype=np.int8)
        self.row_numbers = row_numbers
        self.parts: list[tuple[npt.NDArray[np.intp], pa.Array]] = []

    @property
    def ok(self) -> BoolArray:
        return np.asarray(self.status == 0)

    def _claim(self, mask: BoolArray, status: str) -> npt.NDArray[np.intp]:
        if not mask.any():
            return np.zeros(0, dtype=np.intp)
        rows = np.flatnonzero(mask & (self.status == 0))
        self.status[rows] = STATUS_CODE[status]
        return rows

    def _prefix(self, rows: npt.NDArray[np.intp], column: str) -> list[Any]:
        numbers = pa.array(self.row_numbers[rows] + 1).cast(pa.string())
        return ["row ", numbers, f": column '{column}': "]

    def reject(self, mask: BoolArray, status: str, column: str, message: str) -> None:
        """Reject rows of ``mask`` with a fixed message about ``column``."""
        rows = self._claim(mask, status)
        if rows.size:
            self.parts.append((rows, _join(*self._prefix(rows, column), message)))

    def reject_value(
        self,
        mask: BoolArray,
        status: str,
        column: str,
        values: pa.Array,
        message: str,
        detail: Callable[[npt.NDArray[np.intp]], pa.Array] | None = None,
    ) -> None:
        """Reject rows of ``mask``, quoting each row's value of ``column`` in the message.

        ``detail(rows)``, if given, returns text appended to the message of those rows.
        """
        rows = self._claim(mask, status)
        if rows.size:
            shown = _quoted(as_text(values.take(pa.array(rows))))
            tail = [detail(rows)] if detail is not None else []
            self.parts.append((rows, _join(*self._prefix(rows, column), shown, message, *tail)))

    def reject_messages(
        self, mask: BoolArray, status: str, column: str, messages: pa.Array
    ) -> None:
        """Reject rows of ``mask`` with per-row messages (``messages`` has one per input row)."""
        rows = self._claim(mask, status)
        if rows.size:
            self.parts.append(
                (rows, _join(*self._prefix(rows, column), messages.take(pa.array(rows))))
            )

    def messages(self) -> pa.Array:
        """One message per row, null for rows that are ok."""
        size = self.status.size
        if not self.parts:
            return pa.nulls(size, type=pa.string())
        rows = np.concatenate([rows for rows, _ in self.parts])
        texts = pa.concat_arrays([text.cast(pa.string()) for _, text in self.parts])
        position = np.full(size, -1, dtype=np.int64)
        position[rows] = np.arange(rows.size)
        return texts.take(pa.array(position, mask=position < 0))


def _join(*parts: Any) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _quoted(values: pa.Array) -> pa.Array:
    text = pc.utf8_slice_codeunits(values.fill_null(""), 0, _SHOWN_CHARACTERS)
    longer = pc.greater(pc.utf8_length(values.fill_null("")), _SHOWN_CHARACTERS)
    text = pc.if_else(longer, _join(text, "..."), text)
    return _join("'", text, "'")


def _derive_distances(
    providers: Sequence[DistanceProvider],
    options: Mapping[str, Any],
    names: Mapping[str, str],
    column: Callable[[str], pa.Array],
    modes: ModeTable,
    mode_code: npt.NDArray[np.int32],
    needed: BoolArray,
    distance_km: npt.NDArray[np.float64],
    source: npt.NDArray[np.int8],
    rejections: _Rejections,
) -> None:
    """Fill empty distances from the providers, most precise first; reject what is left."""
    needed = needed & rejections.ok
    if not needed.any():
        return  # every distance given: nothing to derive
    reasons = np.full(needed.size, None, dtype=object)
    mode_ids = np.asarray([*modes.ids, ""], dtype=object)
    for index, provider in enumerate(providers, start=1):
        if not needed.any() or not all(name in names for name in provider.columns):
            continue
        rows = np.flatnonzero(needed & ~blank(as_text(column(provider.columns[0]))))
        if rows.size == 0:
            continue
        take = pa.array(rows)
        request = DistanceRequest(
            columns={name: column(name).take(take) for name in provider.columns},
            mode_ids=mode_ids[mode_code[rows]],
            modes=modes,
            options=options,
            mode_codes=mode_code[rows],
        )
        try:
            answer = provider.derive(request)
            km = np.asarray(answer.km, dtype=np.float64)
            if km.shape != rows.shape:
                raise ValueError(f"returned {km.shape[0]} distances for {rows.size} rows")
        except InputError:
            raise
        except Exception as exc:
            raise PluginError(
                f"distance provider {provider.id!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        with np.errstate(invalid="ignore"):
            good = np.isfinite(km) & (km > 0) & (km <= MAX_TRIP_KM)
        distance_km[rows[good]] = km[good]
        source[rows[good]] = index
        needed[rows[good]] = False
        failed = rows[~good]
        if failed.size:
            text = answer.reasons
            detail = (
                np.asarray(text.filter(pa.array(~good)).cast(pa.string()).to_pylist(), dtype=object)
                if isinstance(text, pa.Array)
                else np.full(failed.size, text)
            )
            zero = np.isfinite(km[~good]) & (km[~good] == 0)
            detail = np.where(zero, f"{provider.id}: the derived distance is zero", detail)
            reasons[failed] = [
                f"is empty and {provider.id}: {why}"
                if not str(why).startswith(provider.id)
                else f"is empty and {why}"
                for why in detail
            ]
    left = np.flatnonzero(needed)
    if left.size:
        messages = np.where(
            reasons[left] == None,  # noqa: E711 - elementwise test on an object array
            "is empty, and no steps, coordinates, polyline or stops give it",
            reasons[left],
        )
        full = pa.nulls(needed.size, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        full[left] = messages
        rejections.reject_messages(
            needed, "bad_distance", "distance", pa.array(full, type=pa.string())
        )


def _read_distance(
    values: pa.Array, rejections: _Rejections, given: BoolArray | None = None
) -> npt.NDArray[np.float64]:
    """The distance column as floats; non-numbers, non-finite, negative and zero rejected.

    With ``given`` (distance providers installed), empty cells are left to the providers.
    """
    size = len(values)
    text = values  # quoted as text only in the messages of rejected rows
    if (
        pa.types.is_integer(values.type)
        or pa.types.is_floating(values.type)
        or pa.types.is_decimal(values.type)
    ):
        numbers = values.cast(pa.float64(), safe=False)
        numeric = ~null_mask(values)
    elif pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        trimmed = pc.utf8_trim_whitespace(values)
        numeric = np.asarray(
            pc.match_substring_regex(trimmed, NUMBER_PATTERN)
            .fill_null(False)
            .to_numpy(zero_copy_only=False),
            dtype=np.bool_,
        )
        numbers = pc.if_else(pa.array(numeric), trimmed, pa.scalar(None, trimmed.type)).cast(
            pa.float64()
        )
    else:
        numeric = np.zeros(size, dtype=np.bool_)
        numbers = pa.nulls(size, type=pa.float64())
    distance = np.asarray(
        numbers.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    with np.errstate(invalid="ignore"):
        if numbers.null_count == 0 and bool(np.all((distance > 0) & (distance < np.inf))):
            return distance  # every cell a positive finite number: nothing to reject
    empty = blank(text)
    if given is None:
        rejections.reject(empty, "bad_distance", "distance", "is empty")
    rejections.reject_value(~numeric & ~empty, "bad_distance", "distance", text, " is not a number")
    finite = np.isfinite(distance)
    rejections.reject_value(~finite & ~empty, "bad_distance", "distance", text, " is not finite")
    rejections.reject_value(
        finite & (distance < 0), "bad_distance", "distance", text, " is negative"
    )
    rejections.reject_value(distance == 0, "bad_distance", "distance", text, " is zero")
    return distance


def _default_unit_km(unit: str) -> float:
    try:
        return distance_unit_to_km(unit)
    except InputError as exc:
        raise InputError(f"default distance unit: {exc}", status="bad_unit") from None


def _unit_factors(
    values: pa.Array | None, default_km: float, size: int, rejections: _Rejections
) -> npt.NDArray[np.float64] | np.float64:
    """Kilometres per unit for each row: its ``distance_unit`` if given, else the default."""
    if values is None:
        return np.float64(default_km)
    text = as_text(values)
    encoded = pc.utf8_trim_whitespace(text).dictionary_encode()
    spellings: Sequence[str | None] = encoded.dictionary.to_pylist()
    factors = []
    messages = []
    for spelling in spellings:
        if spelling is None or spelling == "":
            factors.append(default_km)
            messages.append("")
            continue
        registry_unit = DISTANCE_UNITS.get(normalise_unit_spelling(spelling))
        factors.append(np.nan if registry_unit is None else km_per_unit(registry_unit))
        messages.append("" if registry_unit is not None else describe_bad_distance_unit(spelling))
    indices = encoded.indices.fill_null(len(spellings)).to_numpy(zero_copy_only=False)
    unit_km: npt.NDArray[np.float64] = np.array([*factors, default_km], dtype=np.float64)[indices]
    message_of_row = pa.array([*messages, ""], type=pa.string()).take(pa.array(indices))
    rejections.reject_messages(np.isnan(unit_km), "bad_unit", "distance_unit", message_of_row)
    return unit_km


def _read_time(
    values: pa.Array, column: str, timezone: str, rejections: _Rejections
) -> tuple[npt.NDArray[np.int64], BoolArray]:
    micros, valid, missing = parse_times(values, timezone)
    rejections.reject(missing, "bad_time", column, "is empty")
    rejections.reject_value(
        ~valid,
        "bad_time",
        column,
        values,
        " is not an ISO 8601 time (e.g. 2024-05-01T08:30:00+08:00)",
    )
    return micros, valid
