"""Credit policies: exact integer awards, caps in trip-time order, documented parameters."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbonfoot import Engine, PolicyError, UnknownPolicyError
from carbonfoot.plugins import Catalog


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
