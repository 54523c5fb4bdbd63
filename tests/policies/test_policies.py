"""Credit policies: exact integer awards, caps in trip-time order, documented parameters."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from carbonfoot import Engine, PolicyBatch, PolicyError, UnknownPolicyError
from carbonfoot.money import divide_floor
from carbonfoot.parameters import parse_decimal
from carbonfoot.plugins import Catalog
from carbonfoot.policies import apply_daily_cap


def batch(
    savings_mg: list[int], user: list[int], day: list[int], started: list[int]
) -> PolicyBatch:
    return PolicyBatch(
        savings_mg=np.array(savings_mg, dtype=np.int64),
        eligible=np.ones(len(savings_mg), dtype=bool),
        user=np.array(user, dtype=np.int64),
        local_day=np.array(day, dtype=np.int64),
        started_us=np.array(started, dtype=np.int64),
    )


def naive_cap(
    awards: list[int],
    user: list[int],
    day: list[int],
    started: list[int],
    cap: int,
    already: list[int] | None = None,
) -> list[int]:
    """The obvious loop, as a reference: pay each user-day in time order up to the cap.

    ``already`` is what each trip's user-day was issued before (the same for its trips).
    """
    paid = [0] * len(awards)
    used: dict[tuple[int, int], int] = {}
    for index in sorted(range(len(awards)), key=lambda i: (started[i], i)):
        key = (user[index], day[index])
        before = used.get(key, already[index] if already is not None else 0)
        paid[index] = max(0, min(awards[index], cap - before))
        used[key] = before + paid[index]
    return paid


def test_the_cap_pays_the_earliest_trips_first() -> None:
    awards = np.array([50, 80, 30], dtype=np.int64)
    started = [3, 1, 2]  # input order is not time order
    capped = apply_daily_cap(awards, batch([0, 0, 0], [7, 7, 7], [1, 1, 1], started), cap=100)
    assert capped.tolist() == [0, 80, 20]


def test_the_cap_counts_each_user_and_day_separately() -> None:
    awards = np.array([90, 90, 90, 90], dtype=np.int64)
    capped = apply_daily_cap(
        awards, batch([0] * 4, [1, 1, 2, 1], [5, 5, 5, 6], [1, 2, 3, 4]), cap=100
    )
    assert capped.tolist() == [90, 10, 90, 90]


def test_equal_times_are_paid_in_input_order() -> None:
    awards = np.array([60, 60], dtype=np.int64)
    capped = apply_daily_cap(awards, batch([0, 0], [1, 1], [1, 1], [5, 5]), cap=100)
    assert capped.tolist() == [60, 40]


def test_the_vectorized_cap_matches_the_obvious_loop() -> None:
    rng = np.random.default_rng(3)
    size = 5000
    awards = rng.integers(0, 400, size)
    user = rng.integers(0, 300, size)
    day = rng.integers(0, 3, size)
    started = rng.integers(0, 10_000, size)
    capped = apply_daily_cap(
        awards.astype(np.int64),
        batch([0] * size, user.tolist(), day.tolist(), started.tolist()),
        700,
    )
    assert capped.tolist() == naive_cap(
        awards.tolist(), user.tolist(), day.tolist(), started.tolist(), 700
    )


def test_divide_floor_is_exact_where_float_division_is_not() -> None:
    savings = np.array([2**62 + 1, 299_999, 300_000, 0], dtype=np.int64)
    assert divide_floor(savings, 1, 100_000).tolist() == [(2**62 + 1) // 100_000, 2, 3, 0]
    assert divide_floor(np.array([12_345], dtype=np.int64), 100, 1_000_000).tolist() == [
        1
    ]  # 0.012345 coin -> 0.01


@pytest.mark.parametrize(
    ("raw", "expected"), [("1.5", Decimal("1.5")), (2, Decimal(2)), (0.1, Decimal("0.1"))]
)
def test_decimals_parse_exactly(raw: object, expected: Decimal) -> None:
    assert parse_decimal(raw) == expected


def test_green_credit_floors_each_trip(catalog: Catalog) -> None:
    engine = Engine(
        catalog=catalog, policy="green-credit", policy_params={"grams_per_credit": "100"}
    )
    trip = engine.trip("metro", 10)  # 10 km x 78.05 g/pkm = 780.5 g
    assert trip.savings_g == pytest.approx(780.54, abs=0.01)
    assert trip.credits == 7


def test_carbon_coins_are_exact_decimals_rounded_toward_zero(catalog: Catalog) -> None:
    engine = Engine(
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "1000", "decimals": 2},
    )
    trip = engine.trip("metro", 10)  # 780.54 g -> 0.78054 coin -> 0.78
    assert trip.credits == Decimal("0.78")
    assert isinstance(trip.credits, Decimal)


def test_unknown_policies_and_parameters_are_clear_errors(catalog: Catalog) -> None:
    with pytest.raises(UnknownPolicyError, match="installed: carbon-coin, green-credit"):
        Engine(catalog=catalog, policy="gold")
    with pytest.raises(PolicyError, match="no parameter 'grams'"):
        Engine(catalog=catalog, policy_params={"grams": "1"})
    with pytest.raises(PolicyError, match=r"grams_per_credit.*below the minimum"):
        Engine(catalog=catalog, policy_params={"grams_per_credit": "0"})
    with pytest.raises(PolicyError, match="daily_cap"):
        Engine(catalog=catalog, policy_params={"daily_cap": "-3"})
    with pytest.raises(PolicyError, match="unknown time zone"):
        Engine(catalog=catalog, policy_params={"timezone": "Mars/Olympus"})
    with pytest.raises(PolicyError, match="decimals"):
        Engine(catalog=catalog, policy="carbon-coin", policy_params={"decimals": "9"})
    with pytest.raises(PolicyError, match="more places"):
        Engine(catalog=catalog, policy="carbon-coin", policy_params={"daily_cap": "1.234"})


def test_policy_parameters_have_documented_defaults(catalog: Catalog) -> None:
    for spec in catalog.policies.values():
        for parameter in spec.parameters:
            assert "default" in parameter.description


def test_private_vehicles_are_computed_but_earn_nothing_by_default(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog)
    bev = engine.trip("car-bev", 10)
    assert bev.savings_g > 0
    assert bev.credits == 0
    assert engine.trip("metro", 10).credits > 0
    everyone = Engine(catalog=catalog, policy_params={"eligible": "all"})
    assert everyone.trip("car-bev", 10).credits == int(bev.savings_g)


def test_eligibility_takes_mode_ids_and_categories(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, policy_params={"eligible": "metro,active"})
    assert engine.trip("metro", 1).credits > 0
    assert engine.trip("walk", 1).credits > 0
    assert engine.trip("bus", 10).credits == 0
    trips = {
        "trip_id": ["a", "b"],
        "user_id": ["u", "u"],
        "mode": ["metro", "tram"],
        "distance": [5.0, 5.0],
        "started_at": ["2024-05-01T08:00:00Z"] * 2,
    }
    credits = engine.compute(trips).table.column("credits").to_pylist()
    assert credits[0] > 0
    assert credits[1] == 0
