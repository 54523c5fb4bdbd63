"""The calendar: one epoch, day numbers both ways, the clock, and the range of times read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot import Engine
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


def _statuses(started_at: pa.Array) -> list[tuple[str, str | None]]:
    size = len(started_at)
    table = pa.table(
        {
            "trip_id": [f"t{i}" for i in range(size)],
            "user_id": [f"u{i}" for i in range(size)],
            "mode": ["walk"] * size,
            "distance": ["1"] * size,
            "started_at": started_at,
        }
    )
    rows = Engine("uk-desnz-2025").compute(table).to_pylist()
    return [(row["status"], row["message"]) for row in rows]


def test_parquet_seconds_beyond_the_range_are_refused_never_wrapped(tmp_path: Path) -> None:
    # 7492 is where 2**63 microseconds wrap seconds of year 292,277 to; both are refused.
    seconds = [1_714_550_400, 175_000_000_000, 9_000_000_000_000, -2_300_000_000, None]
    path = tmp_path / "trips.parquet"
    pq.write_table(pa.table({"started_at": pa.array(seconds, type=pa.timestamp("s"))}), path)
    statuses = _statuses(pq.read_table(path).column("started_at").combine_chunks())
    assert statuses[0] == ("ok", None)
    for status, message in statuses[1:4]:
        assert status == "bad_time"
        assert message is not None
        assert "outside the times carbonfoot reads" in message
    assert statuses[4] == ("bad_time", "row 5: column 'started_at': is empty")


def test_csv_and_parquet_refuse_the_same_years_with_the_same_reason() -> None:
    text = ["9999-12-31T00:00:00Z", "0001-01-01T00:00:00Z", "2024-05-01T00:00:00Z"]
    stamps = pa.array(
        [dt.datetime(9999, 12, 31), dt.datetime(1, 1, 1), dt.datetime(2024, 5, 1)],
        type=pa.timestamp("us", tz="UTC"),
    )
    from_text, from_stamps = _statuses(pa.array(text)), _statuses(stamps)
    assert [status for status, _ in from_text] == ["bad_time", "bad_time", "ok"]
    assert [status for status, _ in from_stamps] == ["bad_time", "bad_time", "ok"]
    for (_, one), (_, other) in zip(from_text[:2], from_stamps[:2], strict=True):
        assert one is not None
        assert other is not None
        assert "outside the times carbonfoot reads, 1900-01-01 to 2261-12-31" in one
        assert "outside the times carbonfoot reads, 1900-01-01 to 2261-12-31" in other


def test_a_day_the_month_lacks_is_named_as_such() -> None:
    statuses = _statuses(
        pa.array(["2024-02-30T08:00:00+08:00", "2024-02-29T08:00:00+08:00", "2023-02-29 08:00"])
    )
    assert statuses[0] == (
        "bad_time",
        "row 1: column 'started_at': '2024-02-30T08:00:00+08:00' is not a calendar date",
    )
    assert statuses[1] == ("ok", None)
    assert statuses[2][0] == "bad_time"
    assert "is not a calendar date" in str(statuses[2][1])
