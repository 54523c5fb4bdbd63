"""Trip times and the calendar: ISO 8601 in, UTC microseconds and local days out.

Every day number in carbonfoot (a trip's local day, a factor's validity, a ledger's
``--since``) counts days since :data:`EPOCH`, 1970-01-01, and :func:`today` is the one
clock the library reads when no date is given.

Parsing is columnar (pyarrow's ISO 8601 cast). Text is first matched against a strict
pattern and its calendar date checked with array arithmetic (a 30th of February is no
date), so the cast only sees values it can read; a value that still fails is isolated by
bisection, so it never fails the batch. Times with an offset or ``Z`` are exact instants;
naive times are read as wall-clock time in the policy's time zone.

Every time, whatever its format (text, or a Parquet timestamp of any unit), must lie in
:data:`TIME_RANGE`; outside it a time is reported as out of range, never wrapped around.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import evolve, frozen

from carbonfoot._kernels.arrays import null_mask

__all__ = [
    "EPOCH",
    "ISO_8601_PATTERN",
    "TIME_RANGE",
    "ParsedTimes",
    "date_of",
    "day_number",
    "local_days",
    "parse_times",
    "today",
]

#: Day 0 of every day number: 1970-01-01, the Unix epoch.
EPOCH: Final = dt.date(1970, 1, 1)

#: The first and the last day (UTC) a trip time may fall on. The end is bound by
#: pyarrow's nanosecond timestamps, which read ISO 8601 text (up to 2262-04-11); the start
#: is well before any recorded trip. A time outside is a data error, reported as such.
TIME_RANGE: Final = (dt.date(1900, 1, 1), dt.date(2261, 12, 31))

MICROS_PER_DAY: Final = 86_400_000_000
ISO_8601_PATTERN: Final = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[T ]([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3])(:?[0-5]\d)?)?$"
)
#: Texts whose date needs a closer look: a day the month may lack (29-31 of February,
#: 31 of a 30-day month) or a year outside 1900-2261.
_CALENDAR_SUSPECT: Final = (
    r"^(\d{4}-(02-(29|3[01])|(04|06|09|11)-31)"
    r"|(0\d{3}|1[0-7]\d{2}|18\d{2}|226[2-9]|22[7-9]\d|2[3-9]\d{2}|[3-9]\d{3})-)"
)
_ZONE_SUFFIX: Final = r"(Z|[+-]\d{2}(:?\d{2})?)$"
_UTC_MICROS: Final = pa.timestamp("us", tz="UTC")
# Text is parsed at nanosecond resolution (up to 9 fractional digits; years 1678-2261)
# and truncated to microseconds, the engine's resolution.
_UTC_NANOS: Final = pa.timestamp("ns", tz="UTC")

BoolArray = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]

_FIRST_US: Final = (TIME_RANGE[0] - EPOCH).days * 86_400_000_000
_END_US: Final = ((TIME_RANGE[1] - EPOCH).days + 1) * 86_400_000_000  # exclusive
_PER_SECOND: Final = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
#: Days in each month of a common year; February gains one in leap years.
_MONTH_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@frozen
class ParsedTimes:
    """A column of times as UTC microseconds, and what was wrong where.

    ``micros`` is meaningful where ``valid``. Every row that is not valid is exactly one
    of: ``missing`` (null or blank), ``out_of_range`` (a time outside :data:`TIME_RANGE`),
    ``no_date`` (well formed but no calendar date, such as February 30), or malformed.
    ``naive`` counts the valid times that had no offset and were read as wall-clock time
    in the given time zone (text without ``Z`` or ``+hh:mm``, timestamps without a zone).
    """

    micros: Int64Array
    valid: BoolArray
    missing: BoolArray
    out_of_range: BoolArray
    no_date: BoolArray
    naive: int = 0


def day_number(date: dt.date) -> int:
    """``date`` as days since :data:`EPOCH`."""
    return (date - EPOCH).days


def date_of(day: int) -> dt.date:
    """The date of a day number (days since :data:`EPOCH`)."""
    return EPOCH + dt.timedelta(days=int(day))


def today() -> int:
    """Today (UTC) as a day number: the day used when none is given."""
    return day_number(dt.datetime.now(dt.UTC).date())


def parse_times(values: pa.Array, timezone: str) -> ParsedTimes:
    """Parse a column of times (ISO 8601 text or timestamps) to UTC microseconds."""
    size = len(values)
    none = np.zeros(size, dtype=np.bool_)
    if pa.types.is_timestamp(values.type):
        micros, valid, missing, outside = _from_timestamps(values, timezone)
        parsed = _in_range(micros, valid, missing, outside, none)
        if values.type.tz is None:
            return evolve(parsed, naive=int(np.count_nonzero(parsed.valid)))
        return parsed
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return ParsedTimes(np.zeros(size, dtype=np.int64), none, null_mask(values), none, none)
    if (
        values.null_count == 0
        and _as_bool(pc.match_substring_regex(values, ISO_8601_PATTERN)).all()
        and not _as_bool(pc.match_substring_regex(values, _CALENDAR_SUSPECT)).any()
    ):
        # The common case, every time well formed and with an offset: one cast, no trimming.
        # (A failing cast costs many times a clean one, so days that may not exist and
        # years near the range's ends are looked at first, below.)
        try:
            parsed = values.cast(_UTC_NANOS)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            ones = np.ones(size, dtype=np.bool_)
            return _in_range(_utc_micros(parsed), ones, none, none, none)
    text = pc.utf8_trim_whitespace(values)
    missing = null_mask(text) | _as_bool(pc.equal(pc.binary_length(text), 0))
    well_formed = _as_bool(pc.match_substring_regex(text, ISO_8601_PATTERN))
    year_outside, no_date = _calendar_faults(text, well_formed)
    readable = well_formed & ~year_outside & ~no_date
    zoned = readable & _as_bool(pc.match_substring_regex(text, _ZONE_SUFFIX))
    micros = np.zeros(size, dtype=np.int64)
    valid = np.zeros(size, dtype=np.bool_)
    for rows, target in (
        (np.flatnonzero(zoned), _UTC_NANOS),
        (np.flatnonzero(readable & ~zoned), pa.timestamp("ns")),
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
    result = _in_range(micros, valid, missing, year_outside, no_date)
    return evolve(result, naive=int(np.count_nonzero(result.valid & readable & ~zoned)))


def _in_range(
    micros: Int64Array,
    valid: BoolArray,
    missing: BoolArray,
    outside: BoolArray,
    no_date: BoolArray,
) -> ParsedTimes:
    """The parsed times, those outside :data:`TIME_RANGE` moved from valid to out of range."""
    beyond = valid & ((micros < _FIRST_US) | (micros >= _END_US))
    if beyond.any():
        return ParsedTimes(micros, valid & ~beyond, missing, outside | beyond, no_date)
    return ParsedTimes(micros, valid, missing, outside, no_date)


def _from_timestamps(
    values: pa.Array, timezone: str
) -> tuple[Int64Array, BoolArray, BoolArray, BoolArray]:
    """Timestamps of any unit as UTC microseconds; a value beyond the range never wraps.

    Values are compared with :data:`TIME_RANGE` in their own unit first (a year 7492 in
    seconds must not wrap around in microseconds), with a day of slack for naive times,
    which their zone moves by less; the exact bound is checked on the instant.
    """
    missing = null_mask(values)
    per_second = _PER_SECOND[values.type.unit]
    raw = np.asarray(values.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False))
    day = 86_400 * per_second
    low = (_FIRST_US // 1_000_000) * per_second - day
    high = (_END_US // 1_000_000) * per_second + day
    outside = ~missing & ((raw < low) | (raw >= high))
    if outside.any():
        values = pc.if_else(pa.array(outside), pa.scalar(None, values.type), values)
    if values.type.tz is None:
        values = pc.assume_timezone(values, timezone, ambiguous="earliest", nonexistent="earliest")
    utc = values.cast(_UTC_MICROS, safe=False).cast(pa.int64())
    micros = np.asarray(utc.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return micros, ~missing & ~outside, missing, outside


def _calendar_faults(text: pa.Array, well_formed: BoolArray) -> tuple[BoolArray, BoolArray]:
    """Among well-formed texts: a date outside :data:`TIME_RANGE` (with a day of slack for
    time zones; the exact bound is checked on the instant), and a day the month lacks.

    Array arithmetic on the ``YYYY-MM-DD`` prefix, so a file of impossible dates costs no
    more than a clean one.
    """
    size = len(text)
    outside = np.zeros(size, dtype=np.bool_)
    no_date = np.zeros(size, dtype=np.bool_)
    rows = np.flatnonzero(well_formed & _as_bool(pc.match_substring_regex(text, _CALENDAR_SUSPECT)))
    if rows.size == 0:
        return outside, no_date
    prefix = pc.utf8_slice_codeunits(text.take(pa.array(rows)), start=0, stop=10)
    # Ten ASCII bytes per value (the pattern's \d is ASCII): read them as one matrix.
    offsets = np.frombuffer(prefix.buffers()[1], dtype=np.int32)[prefix.offset :][: rows.size]
    data = np.frombuffer(prefix.buffers()[2], dtype=np.uint8)
    digits = data[offsets[:, None] + np.arange(10)].astype(np.int64) - ord("0")
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month = digits[:, 5] * 10 + digits[:, 6]
    day = digits[:, 8] * 10 + digits[:, 9]
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    last_day = _MONTH_DAYS[month] + (leap & (month == 2))
    # Beyond by more than a time zone can move it: before 1899, or after 2262-01-01 (the
    # instant of a time on the edge days is checked exactly once parsed).
    first, last = TIME_RANGE[0].year - 1, TIME_RANGE[1].year + 1
    beyond = (year < first) | (year > last) | ((year == last) & ((month > 1) | (day > 1)))
    outside[rows] = beyond
    no_date[rows] = ~beyond & (day > last_day)
    return outside, no_date


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
