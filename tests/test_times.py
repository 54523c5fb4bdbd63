"""The calendar: one epoch, day numbers both ways, and the clock."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.times import EPOCH, date_of, day_number, today


def test_day_zero_is_the_unix_epoch() -> None:
    assert dt.date(1970, 1, 1) == EPOCH
    assert day_number(dt.date(2024, 5, 1)) == 19844
    assert date_of(19844) == dt.date(2024, 5, 1)


@given(st.dates())
def test_day_numbers_and_dates_are_inverse(date: dt.date) -> None:
    assert date_of(day_number(date)) == date


def test_today_is_the_utc_date() -> None:
    before = dt.datetime.now(dt.UTC).date()
    day = today()
    after = dt.datetime.now(dt.UTC).date()
    assert day in (day_number(before), day_number(after))
