"""Reading the ledger as a program does: a number for a balance, dates and times as such.

Promises: ``balance(user)`` is one number in the ledger's own account (an int for credits,
a Decimal for coins), ``balances(user)`` every account; ``history`` and ``export`` give the
local day as a date and the trip times as UTC timestamps (not day numbers and integer
microseconds). Expected dates and times are worked out here from the trips' own text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.ledger import Balances, Ledger

Trips = Callable[..., dict[str, list[object]]]

# 23:30 in Shanghai on 1 May is 15:30 UTC: the local day differs from the UTC date only
# where the zone is applied, which is what the check must see.
LATE = "2024-05-01T23:30:00+08:00"
EARLY = "2024-05-02T00:30:00+08:00"


def credits_engine(catalog: Catalog) -> Engine:
    return Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "5000"})


def coins_engine(catalog: Catalog) -> Engine:
    return Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"daily_cap": "unlimited"},
    )


def test_a_balance_is_a_number_of_the_ledgers_account(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    batch = trips(("a", "u", "metro", 4.0, LATE), ("b", "u", "bus", 2.5, EARLY))
    engine = credits_engine(catalog)
    expected = sum(engine.compute(batch).table.column("credits").to_pylist())
    with Ledger.open(location, engine) as book:
        assert book.balance("nobody") == 0
        book.credit(batch)
        balance = book.balance("u")
        assert type(balance) is int
        assert balance == expected > 0
        book.redeem("u", 100, request_id="r1", item="ticket")
        assert book.balance("u") == expected - 100


def test_balances_hold_every_account(location: str, catalog: Catalog, trips: Trips) -> None:
    with Ledger.open(location, credits_engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, LATE)))
        credits = book.balance("u")
    with Ledger.open(location, coins_engine(catalog)) as book:
        book.credit(trips(("b", "u", "metro", 4.0, EARLY)))
        coins = book.balance("u")
        balances = book.balances("u")
    assert isinstance(coins, Decimal)
    assert isinstance(balances, Balances)
    assert balances.accounts == ("coin", "credit")
    assert balances.spendable == {"coin": coins, "credit": credits}
    assert balances.owed == {"coin": Decimal("0.00"), "credit": 0}
    assert balances.position("credit").balance_minor == credits
    with pytest.raises(KeyError, match="holds no 'point' account"):
        balances.position("point")


def expected_day(text: str) -> dt.date:
    return dt.datetime.fromisoformat(text).astimezone(ZoneInfo("Asia/Shanghai")).date()


def expected_utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def test_history_gives_dates_and_utc_times(location: str, catalog: Catalog, trips: Trips) -> None:
    with Ledger.open(location, credits_engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, LATE), ("b", "u", "bus", 2.5, EARLY)))
        book.redeem("u", 10, request_id="r1", item="ticket")
        history = book.history("u")
    credits = [entry for entry in history if entry["kind"] == "credit"]
    assert [entry["local_day"] for entry in credits] == [expected_day(LATE), expected_day(EARLY)]
    assert [entry["started_at"] for entry in credits] == [expected_utc(LATE), expected_utc(EARLY)]
    assert all(entry["started_at"].tzinfo is not None for entry in credits)
    redemption = history[-1]
    assert redemption["kind"] == "redemption"
    assert (redemption["local_day"], redemption["started_at"]) == (None, None)
    assert "started_us" not in redemption


def test_export_has_date_and_timestamp_columns(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    batch = trips(("a", "u", "metro", 4.0, LATE), ("b", "u", "bus", 2.5, EARLY))
    batch["ended_at"] = ["2024-05-01T23:50:00+08:00", "2024-05-02T00:45:00+08:00"]
    with Ledger.open(location, credits_engine(catalog)) as book:
        book.credit(batch)
        export = book.export()
    assert export.schema.field("local_day").type == pa.date32()
    assert export.schema.field("started_at").type == pa.timestamp("us", tz="UTC")
    assert export.schema.field("ended_at").type == pa.timestamp("us", tz="UTC")
    assert "started_us" not in export.column_names
    credits = export.filter(pc.equal(export["kind"], "credit")).to_pylist()
    assert [row["local_day"] for row in credits] == [expected_day(LATE), expected_day(EARLY)]
    assert [row["started_at"] for row in credits] == [expected_utc(LATE), expected_utc(EARLY)]
    assert [row["ended_at"] for row in credits] == [expected_utc(t) for t in batch["ended_at"]]
