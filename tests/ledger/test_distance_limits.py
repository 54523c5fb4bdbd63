"""The default distance limits hold in the ledger: an implausibly long trip of any built-in
mode is held for review, and a user's day split over two batches is summed with what the
ledger already holds, so it cannot escape the daily limit."""

from __future__ import annotations

import math

import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.ledger import Ledger
from carbonfoot.plugins import default_catalog
from tests.ledger.conftest import Trips

MODE_IDS = default_catalog().modes.ids


def at(hour: int, day: int = 1) -> str:
    return f"2024-05-{day:02d}T{hour:02d}:00:00+08:00"


def engine(catalog: Catalog) -> Engine:
    return Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "1000000"})


@pytest.mark.parametrize("mode_id", MODE_IDS)
def test_an_implausibly_long_trip_is_held_and_paid_nothing(
    location: str, catalog: Catalog, trips: Trips, mode_id: str
) -> None:
    limit = catalog.modes.get(mode_id).max_trip_km
    assert limit is not None
    with Ledger.open(location, engine(catalog)) as book:
        report = book.credit(trips(("long", "u", mode_id, limit * 1.01, at(8))))
        row = report.outcomes.to_pylist()[0]
        assert (row["outcome"], row["status"]) == ("quarantined", "suspect_distance")
        assert report.credited == 0
        assert book.balance("u") == 0
        assert [held.trip_id for held in book.pending_review()] == ["long"]


@pytest.mark.parametrize("mode_id", MODE_IDS)
def test_a_day_split_over_two_batches_is_held_for_the_daily_limit(
    location: str, catalog: Catalog, trips: Trips, mode_id: str
) -> None:
    mode = catalog.modes.get(mode_id)
    assert mode.max_trip_km is not None
    assert mode.max_daily_km is not None
    each = 0.9 * mode.max_trip_km
    inside = math.floor(mode.max_daily_km / each)  # this many trips make a plausible day
    first = [(f"a{i}", "u", mode_id, each, at(6 + i)) for i in range(inside)]
    with Ledger.open(location, engine(catalog)) as book:
        report = book.credit(trips(*first))
        assert report.credited == inside
        late = book.credit(trips(("late", "u", mode_id, each, at(6 + inside))))
        row = late.outcomes.to_pylist()[0]
        assert (row["outcome"], row["status"]) == ("quarantined", "suspect_daily_distance")
        assert "already holds" in row["message"]
        assert row["message"].startswith("row 1: column 'distance': ")
        # Another user, another day, another mode are not that day.
        other = "walk" if mode_id != "walk" else "bus"
        fine = book.credit(
            trips(
                ("v1", "v", mode_id, each, at(6 + inside)),
                ("next-day", "u", mode_id, each, at(8, day=2)),
                ("other-mode", "u", other, 1.0, at(23)),
            )
        )
        assert fine.credited == 3
        assert book.verify().ok


def test_a_trip_approved_in_review_counts_once(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    limit = catalog.modes.get("bike").max_daily_km
    assert limit is not None
    fast = trips(("fast", "u", "bike", 0.6 * limit, at(8)))
    fast["ended_at"] = [at(9)]  # 0.6 x 160.9 km in an hour: suspect speed
    with Ledger.open(location, engine(catalog)) as book:
        first = book.credit(fast)
        assert first.outcomes["status"].to_pylist() == ["suspect_speed"]
        book.approve("fast", "a race, checked", "reviewer")
        # Held (quarantine) and credited (approval): one trip of 0.6 x the limit, so 0.3
        # more stays inside the day; counted twice it would not.
        more = book.credit(trips(("more", "u", "bike", 0.3 * limit, at(12))))
        assert more.credited == 1
        over = book.credit(trips(("over", "u", "bike", 0.2 * limit, at(14))))
        assert over.outcomes["status"].to_pylist() == ["suspect_daily_distance"]
