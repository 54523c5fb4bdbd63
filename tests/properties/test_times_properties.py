"""Local days: the fast path (one offset for the batch) equals a per-trip zone lookup; a
time is read exactly when it names a real day in range."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.times import local_days

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DAY_US = 86_400_000_000
# Around 2024's changes of offset in London, New York and Lord Howe (half an hour), and
# instants in zones without any (Shanghai, Kathmandu's +05:45, UTC).
_ANCHORS_US = [1_711_846_800_000_000, 1_710_054_000_000_000, 1_712_410_200_000_000, 0]
_ZONES = [
    "Asia/Shanghai",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "UTC",
]


def day_of(micros: int, zone: str) -> int:
    local = (_EPOCH + dt.timedelta(microseconds=micros)).astimezone(zoneinfo.ZoneInfo(zone))
    return (local.date() - _EPOCH.date()).days


@given(
    st.sampled_from(_ZONES),
    st.sampled_from(_ANCHORS_US),
    st.lists(st.integers(-3 * _DAY_US, 3 * _DAY_US), min_size=1, max_size=40),
    st.integers(0, 2000),
)
def test_local_days_equal_the_zone_lookup_of_each_time(
    zone: str, anchor: int, offsets: list[int], padding: int
) -> None:
    # ``padding`` copies of the first time make the batch big enough for the fast path.
    micros = np.array([anchor + offset for offset in offsets + offsets[:1] * padding])
    expected = [day_of(int(value), zone) for value in micros]
    assert local_days(micros, zone).tolist() == expected


@given(
    st.integers(1890, 2270),
    st.integers(1, 12),
    st.integers(1, 31),
    st.sampled_from(["Z", "+08:00", "", "-05:30"]),
)
def test_a_text_time_is_read_exactly_when_it_names_a_real_day_in_range(
    year: int, month: int, day: int, zone: str
) -> None:
    from carbonfoot.times import TIME_RANGE, parse_times

    text = f"{year:04d}-{month:02d}-{day:02d}T12:00:00{zone}"
    parsed = parse_times(pa.array([text, "2024-05-01T08:00:00Z"]), "Asia/Shanghai")
    try:
        real = dt.date(year, month, day)
    except ValueError:
        real = None
    assert parsed.valid[1]
    if real is None:
        assert not parsed.valid[0]
        assert parsed.no_date[0] or parsed.out_of_range[0]
    elif not TIME_RANGE[0] < real < TIME_RANGE[1]:
        # Near the ends the instant decides; far from them the year does.
        assert not parsed.valid[0] or TIME_RANGE[0] <= real <= TIME_RANGE[1]
        assert parsed.valid[0] or parsed.out_of_range[0]
    else:
        assert parsed.valid[0]
        offsets = {"Z": 0, "+08:00": 8 * 60, "-05:30": -(5 * 60 + 30)}
        if zone:  # an exact instant
            expected = dt.datetime(year, month, day, 12, tzinfo=dt.UTC) - dt.timedelta(
                minutes=offsets[zone]
            )
        else:  # wall-clock time in the zone given (its offset of that day, LMT in 1900)
            expected = dt.datetime(
                year, month, day, 12, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai")
            ).astimezone(dt.UTC)
        assert parsed.micros[0] == (expected - _EPOCH) // dt.timedelta(microseconds=1)
