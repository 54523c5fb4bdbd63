"""Local days: the fast path (one offset for the batch) equals a per-trip zone lookup."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
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
