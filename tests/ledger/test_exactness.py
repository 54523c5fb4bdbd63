"""Exact or refused: no overflow, one grammar for amounts, receipts that replay exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carbonfoot import Catalog, Engine, InputError, LedgerError, PolicyError
from carbonfoot.ledger import Ledger
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"


def test_awards_too_large_to_keep_exactly_are_refused_and_nothing_is_written(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    # carbon-coin at its finest: a millionth of a coin per milligram saved.
    finest = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "0.001", "decimals": 6, "daily_cap": "unlimited"},
        # Walks of 40,000 km are over the default distance limits: lift them, so the
        # awards are computed and the overflow is what stops them.
        plausibility={"modes": {"walk": {"max_trip_km": 40_000, "max_daily_km": 1e9}}},
    )
    # About 4e15 millionths of a coin a trip: 1,200 of them are more than a balance may
    # hold (2**62 minor units), short of where int64 would wrap.
    start = dt.datetime(2024, 5, 1, tzinfo=dt.UTC)
    batch = trips(
        *(
            (f"t{i}", "u", "walk", 40_000.0, (start + dt.timedelta(minutes=i)).isoformat())
            for i in range(1_200)
        )
    )
    with Ledger.open(location, finest) as book:
        with pytest.raises((LedgerError, PolicyError), match=r"exactly|64 bits"):
            book.credit(batch)
        assert book.balances("u").positions == ()
        assert book.balance("u") == 0
        assert book.verify().ok


@pytest.mark.parametrize(
    "amount",
    [
        "1e-1000027",
        "1e999999999",
        "١٢",
        "５",
        "1_0",
        "-5",
        "+5",
        " ",
        "0.0",
        "nan",
        "Infinity",
        1.5,
    ],
)
def test_amounts_follow_one_grammar(
    location: str, catalog: Catalog, trips: Trips, amount: object
) -> None:
    with Ledger.open(location, Engine(catalog=catalog, policy_params={"daily_cap": "500"})) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
        before = book.balance("u")
        with pytest.raises(InputError):
            book.redeem("u", amount, request_id="order-1", item="bus ticket")
        with pytest.raises(InputError):
            book.redeem("nobody", amount, request_id="order-2", item="bus ticket")
        assert book.balance("u") == before
        assert [e["kind"] for e in book.export().to_pylist()].count("redemption") == 0


def test_a_replayed_receipt_is_the_original_receipt(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    engine = Engine(catalog=catalog, policy_params={"daily_cap": "500"})
    with Ledger.open(location, engine) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
        first = book.redeem("u", 100, request_id="order-1", item="bus ticket")
        book.credit(trips(("b", "u", "metro", 3.0, "2024-05-02T08:00:00+08:00")))
        book.redeem("u", 50, request_id="order-2", item="water")
        again = book.redeem("u", "100", request_id="order-1", item="bus ticket")
        assert again.replayed
        assert (again.entry_id, again.amount, again.balance_after) == (
            first.entry_id,
            first.amount,
            first.balance_after,
        )


def test_a_distance_resent_in_another_unit_is_a_replay_not_a_conflict(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, Engine(catalog=catalog, policy_params={"daily_cap": "500"})) as book:
        book.credit(trips(("a", "u", "metro", 5.1, MORNING)))
        in_metres = trips(("a", "u", "metro", 5100, MORNING))
        assert book.credit(in_metres, distance_unit="m").replayed == 1


def test_coins_of_a_finer_account_keep_their_decimals(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    coins = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"decimals": 3, "daily_cap": "unlimited"},
    )
    with Ledger.open(location, coins) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
        assert book.balance("u") == Decimal("0.234")
        assert isinstance(book.balance("u"), Decimal)
        receipt = book.redeem("u", "0.2", request_id="o", item="x")
        assert receipt.balance_after == Decimal("0.034")
        with pytest.raises(InputError, match="more than 3 decimal places"):
            book.redeem("u", "0.0001", request_id="p", item="x")
