"""The ledger remembers how it pays: settings, recompute under them, and a cap always.

Each test is a finding of the money-grade issue, reproduced before the ledger kept its own
settings: a cap that the next command line could forget, recompute lifting a user from
100 to 1,378 credits, a mode taken back because a new set lacked it, spurious
adjustments after out-of-order batches.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest

from carbonfoot import Catalog, Engine, LedgerError, TripConflictError
from carbonfoot.ledger import Ledger
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"
LATER = "2024-05-01T09:00:00+08:00"


def capped(catalog: Catalog, factors: str = "uk-desnz-2024", cap: str = "200") -> Engine:
    return Engine(factors, catalog=catalog, policy_params={"daily_cap": cap})


def day_totals(book: Ledger) -> dict[tuple[str, dt.date], int]:
    """What each user holds per local day, from the entries (latest award of each trip)."""
    latest: dict[str, tuple[str, dt.date, int]] = {}
    for entry in book.export().to_pylist():
        if entry["kind"] in ("credit", "adjustment", "reversal"):
            latest[entry["trip_id"]] = (entry["user_id"], entry["local_day"], entry["award_minor"])
    totals: dict[tuple[str, dt.date], int] = defaultdict(int)
    for user, day, award in latest.values():
        totals[(user, day)] += award
    return dict(totals)


def long_day(trips: Trips, user: str = "u", count: int = 12) -> dict[str, list[object]]:
    """A user's day of long metro rides, worth far more than a cap of 200."""
    return trips(
        *(
            (f"{user}-t{i}", user, "metro", 15.0, f"2024-05-01T{7 + i:02d}:00:00+08:00")
            for i in range(count)
        )
    )


def test_recompute_keeps_the_cap_the_trips_were_credited_under(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, capped(catalog)) as book:
        book.credit(long_day(trips))
        assert book.balance("u") == 200
    # As the README's sequence: recompute names only the factors.
    with Ledger.open(location, create=False) as book:
        report = book.recompute("uk-desnz-2025", dt.date(2024, 5, 1))
        assert any("daily_cap=200" in settings for settings in report.reused)
        assert book.balance("u") == 200
        assert all(total <= 200 for total in day_totals(book).values())
        assert book.verify().ok


def test_a_new_batch_under_other_settings_is_refused_unless_the_change_is_recorded(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, capped(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
    with Ledger.open(location, capped(catalog, cap="500")) as book:
        with pytest.raises(LedgerError, match=r"policy_params.daily_cap \(500, not 200\)"):
            book.credit(trips(("b", "u", "metro", 3.0, LATER)))
        report = book.credit(
            trips(("b", "u", "metro", 3.0, LATER)), change_settings="programme rule 2024-06"
        )
        assert report.credited == 1
        assert report.settings_changed == ("policy_params.daily_cap (500, not 200)",)
        settings = [e for e in book.export().to_pylist() if e["kind"] == "settings"]
        assert [s["note"] for s in settings] == [
            "the first credit of this account",
            "programme rule 2024-06",
        ]
        assert book.settings().policy_params["daily_cap"] == "500"
        assert book.verify().ok


def test_a_command_without_engine_options_pays_under_the_ledgers_settings(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, capped(catalog)) as book:
        book.credit(long_day(trips, count=4))
    with Ledger.open(location, create=False) as book:  # no engine: the ledger's own
        assert book.engine.settings == capped(catalog).settings
        book.credit(long_day(trips, user="v", count=12))
        assert book.balance("v") == 200


def test_crediting_a_trip_again_under_other_settings_is_a_conflict_naming_the_parameter(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    batch = trips(("a", "u", "metro", 3.0, MORNING))
    with Ledger.open(location, capped(catalog)) as book:
        book.credit(batch)
    with Ledger.open(location, capped(catalog, cap="300")) as book:
        with pytest.raises(TripConflictError, match=r"policy_params.daily_cap") as caught:
            book.credit(batch, change_settings="raise the cap")
        assert caught.value.conflicts == [("a", ("policy_params.daily_cap",))]
        assert "recompute" in str(caught.value)


def test_no_credits_are_issued_without_a_cap_unless_it_is_said_unlimited(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    uncapped = Engine("uk-desnz-2025", catalog=catalog)
    with (
        Ledger.open(location, uncapped) as book,
        pytest.raises(LedgerError, match="daily_cap=unlimited"),
    ):
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
    unlimited = Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "unlimited"})
    with Ledger.open(location, unlimited) as book:
        book.credit(long_day(trips))
        assert book.balance("u") > 200
        assert book.settings().policy_params["daily_cap"] == "unlimited"


def test_recompute_keeps_the_award_of_a_mode_the_new_set_cannot_compute(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, capped(catalog, cap="5000")) as book:
        book.credit(trips(("boat", "u", "ferry", 5.0, MORNING), ("m", "u", "metro", 4.0, MORNING)))
        ferry_award = next(
            e["amount_minor"] for e in book.export().to_pylist() if e["trip_id"] == "boat"
        )
        assert ferry_award > 0
        # us-epa-2025 has no ferry factor: the ferry trip keeps what it was paid.
        report = book.recompute("us-epa-2025", dt.date(2024, 5, 1))
        assert report.kept == {"ferry": 1}
        assert "ferry" not in report.by_mode
        boat = [e for e in book.export().to_pylist() if e["trip_id"] == "boat"]
        assert [e["kind"] for e in boat] == ["credit"]
        assert book.verify().ok


def test_recompute_with_unchanged_inputs_writes_nothing_whatever_order_batches_came_in(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    day = [(f"t{i}", "u", "metro", 15.0, f"2024-05-01T{7 + i:02d}:00:00+08:00") for i in range(6)]
    with Ledger.open(location, capped(catalog)) as book:
        book.credit(trips(*day[3:]))  # the afternoon first: it takes the cap
        book.credit(trips(*day[:3]))  # the morning, late: nothing left that day
        report = book.recompute("uk-desnz-2024", dt.date(2024, 5, 1))
        assert report.adjusted == 0
        assert [e["kind"] for e in book.export().to_pylist()].count("adjustment") == 0


def test_recompute_uses_each_trips_district(
    location: str, catalog: Catalog, trips: Trips, tmp_path: Path
) -> None:
    districts = tmp_path / "districts.toml"
    districts.write_text(
        'schema = 1\n[set]\nname = "jiangbei"\nextends = "uk-desnz-2024"\ntitle = "a district metro"\n'
        '[sources.test]\npublisher = "test"\ntitle = "test values"\nyear = 2024\nkind = "definition"\n'
        '[[factors.metro]]\nvalue = "30 g / km"\nper = "passenger"\nsource = "test"\n'
        '[[factors.metro]]\nvalue = "5 g / km"\nper = "passenger"\nsource = "test"\n'
        'district = "Jiangbei"\n',
        encoding="utf-8",
    )
    engine = Engine(str(districts), catalog=catalog, policy_params={"daily_cap": "5000"})
    batch = trips(("a", "u", "metro", 4.0, MORNING), ("b", "v", "metro", 4.0, MORNING))
    batch["district"] = ["Jiangbei", ""]
    with Ledger.open(location, engine) as book:
        book.credit(batch)
        assert book.balance("u") > book.balance("v")  # the cleaner metro
        assert book.recompute(engine, dt.date(2024, 5, 1)).adjusted == 0
