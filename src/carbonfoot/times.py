"""Trip times and the calendar: ISO 8601 in, UTC microseconds and local days out.

Every day number in carbonfoot (a trip's local day, a factor's validity, a ledger's
``--since``) counts days since :data:`EPOCH`, 1970-01-01, and :func:`today` is the one
clock the library reads when no date is given.

Parsing is columnar (pyarrow's ISO 8601 cast). Text is first matched against a strict
pattern, so the cast only sees well-formed values; the rare value that still fails (a
30th of February) is isolated by bisection, so one bad row costs a few extra casts and
never fails the batch. Times with an offset or ``Z`` are exact instants; naive times
are read as wall-clock time in the policy's time zone.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.arrays import null_mask

__all__ = [
    "EPOCH",
    "ISO_8601_PATTERN",
    "date_of",
    "day_number",
    "local_days",
    "parse_times",
    "today",
]

#: Day 0 of every day number: 1970-01-01, the Unix epoch.
EPOCH: Final = dt.date(1970, 1, 1)

MICROS_PER_DAY: Final = 86_400_000_000
ISO_8601_PATTERN: Final = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?$"
)
_ZONE_SUFFIX: Final = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_UTC_MICROS: Final = pa.timestamp("us", tz="UTC")
# Text is parsed at nanosecond resolution (up to 9 fractional digits; years 1678-2261)
# and truncated to microseconds, the engine's resolution.
_UTC_NANOS: Final = pa.timestamp("ns", tz="UTC")

BoolArray = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]


def day_number(date: dt.date) -> int:
    """``date`` as days since :data:`EPOCH`."""
    return (date - EPOCH).days


def date_of(day: int) -> dt.date:
    """The date of a day number (days since :data:`EPOCH`)."""
    return EPOCH + dt.timedelta(days=int(day))


def today() -> int:
    """Today (UTC) as a day number: the day used when none is given."""
    return day_number(dt.datetime.now(dt.UTC).date())


def parse_times(values: pa.Array, timezone: str) -> tuple[Int64Array, BoolArray, BoolArray]:
    """Parse a column of times to UTC microseconds.

    Returns ``(micros, valid, missing)``: ``micros`` is meaningful where ``valid``;
    ``missing`` marks nulls and blank text (a subset of not valid).
    """
    size = len(values)
    micros = np.zeros(size, dtype=np.int64)
    if pa.types.is_timestamp(values.type):
        missing = null_mask(values)
        if values.type.tz is None:
            values = pc.assume_timezone(
                values, timezone, ambiguous="earliest", nonexistent="earliest"
            )
        utc = values.cast(_UTC_MICROS, safe=False).cast(pa.int64())
        if utc.null_count == 0:  # read in place, no copy (the array is read-only)
            return np.asarray(utc.to_numpy(), dtype=np.int64), ~missing, missing
        micros[:] = utc.fill_null(0).to_numpy(zero_copy_only=False)
        return micros, ~missing, missing
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        missing = null_mask(values)
        return micros, np.zeros(size, dtype=np.bool_), missing
    if (
        values.null_count == 0
        and _as_bool(pc.match_substring_regex(values, ISO_8601_PATTERN)).all()
    ):
        # The common case, every time well formed and with an offset: one cast, no trimming.
        try:
            parsed = values.cast(_UTC_NANOS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            micros[:] = _utc_micros(parsed)
            return micros, np.ones(size, dtype=np.bool_), np.zeros(size, dtype=np.bool_)
    text = pc.utf8_trim_whitespace(values)
    missing = null_mask(text) | _as_bool(pc.equal(pc.binary_length(text), 0))
    well_formed = _as_bool(pc.match_substring_regex(text, ISO_8601_PATTERN))
    zoned = well_formed & _as_bool(pc.match_substring_regex(text, _ZONE_SUFFIX))
    valid = np.zeros(size, dtype=np.bool_)
    for rows, target in (
        (np.flatnonzero(zoned), _UTC_NANOS),
        (np.flatnonzero(well_formed & ~zoned), pa.timestamp("ns")),
    ):
        if rows.size == 0:
            continue
        parsed, ok = _cast_isolating_failures(text.take(pa.array(rows)), target)
        if target.tz is None:
            parsed = pc.assume_timezone(
                parsed, timezone, ambiguous="earliest", nonexistent="earliest"
            )
        micros[rows] = _utc_micros(parsed)
        valid[rows] = ok
    return micros, valid, missing


def _utc_micros(parsed: pa.Array) -> Int64Array:
    utc = parsed.cast(_UTC_MICROS, safe=False).cast(pa.int64())
    return np.asarray(utc.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)


def local_days(micros: Int64Array, timezone: str) -> Int64Array:
    """Calendar day in ``timezone`` (days since 1970-01-01) of each UTC microsecond time.

    When the zone keeps one UTC offset over the whole span of the batch (a zone without
    daylight saving time, or a batch between two changes), that offset is added to every
    time: one addition instead of a time-zone lookup per trip. Otherwise each time is
    looked up.
    """
    if micros.size == 0:
        return np.zeros(0, dtype=np.int64)
    offset = _one_offset_us(int(micros.min()), int(micros.max()), timezone, micros.size)
    if offset is not None:
        wall_clock = np.asarray(micros, dtype=np.int64) + offset
        return np.asarray(np.floor_divide(wall_clock, MICROS_PER_DAY, out=wall_clock))
    return _wall_clock_us(micros, timezone) // MICROS_PER_DAY


#: Spacing of the instants at which :func:`_one_offset_us` reads the zone's offset. Only a
#: change of offset undone again within ten minutes would go unseen; zones change offset
#: a few times a year at most.
_OFFSET_PROBE_US: Final = 600_000_000


def _one_offset_us(first: int, last: int, timezone: str, size: int) -> int | None:
    """The zone's UTC offset if it is the same from ``first`` to ``last``, else None.

    Read at ``first``, ``last`` and every ten minutes in between; not tried for a span with
    more such instants than ``size`` (a small batch over years), where it would not pay.
    """
    probes = (last - first) // _OFFSET_PROBE_US + 1
    if probes > max(size, 1024):
        return None
    instants = np.append(first + np.arange(probes, dtype=np.int64) * _OFFSET_PROBE_US, last)
    offsets = _wall_clock_us(instants, timezone) - instants
    if (offsets != offsets[0]).any():
        return None
    return int(offsets[0])


def _wall_clock_us(micros: Int64Array, timezone: str) -> Int64Array:
    instants = pa.array(micros, type=pa.timestamp("us", tz=timezone))
    wall_clock = pc.local_timestamp(instants).cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(wall_clock, dtype=np.int64)


def _cast_isolating_failures(text: pa.Array, target: pa.DataType) -> tuple[pa.Array, BoolArray]:
    """Cast all of ``text``; where that fails, bisect so only the failing values become null."""
    try:
        return text.cast(target), np.ones(len(text), dtype=np.bool_)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(text) == 1:
            return pa.nulls(1, type=target), np.zeros(1, dtype=np.bool_)
    middle = len(text) // 2
    left, left_ok = _cast_isolating_failures(text.slice(0, middle), target)
    right, right_ok = _cast_isolating_failures(text.slice(middle), target)
    return pa.concat_arrays([left, right]), np.concatenate([left_ok, right_ok])


def _as_bool(values: pa.Array) -> BoolArray:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.bool_)
