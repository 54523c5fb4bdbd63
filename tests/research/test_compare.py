"""compare: like with like, trip by trip; units never mixed; no baseline shown as such."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.research import compare

TRIPS = generate_trips(1500, users=200, seed=5)


def test_a_higher_daily_cap_changes_credits_not_savings(catalog: Catalog) -> None:
    low = Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "200"})
    high = Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "500"})
    comparison = compare(low, high, TRIPS)
    assert comparison.same_unit
    assert comparison.run_a.policy_params["daily_cap"] == "200"
    assert comparison.run_b.policy_params["daily_cap"] == "500"
    assert comparison.total.savings_kg_change == 0
    assert comparison.total.credits_change > 0
    for row in comparison.modes:
        assert row.credits_change is None or row.credits_change >= 0
    # the change is B - A when both runs computed the same trips
    assert comparison.total.compared == comparison.total.trips - comparison.total.a.other
    assert (
        comparison.total.credits_change == comparison.total.credits_b - comparison.total.credits_a
    )


@settings(max_examples=8, deadline=None)
@given(
    caps=st.tuples(st.integers(1, 2000), st.integers(1, 2000)).map(sorted),
)
def test_raising_a_cap_never_lowers_anyones_credits(catalog: Catalog, caps: list[int]) -> None:
    trips = TRIPS.slice(0, 300)
    a, b = (
        Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": str(cap)})
        for cap in caps
    )
    comparison = compare(a, b, trips)
    assert all(row.credits_change is None or row.credits_change >= 0 for row in comparison.modes)
    assert comparison.total.savings_kg_change == 0


def test_credits_and_coins_are_never_subtracted(catalog: Catalog) -> None:
    credits = Engine("uk-desnz-2025", catalog=catalog, policy="green-credit")
    coins = Engine("uk-desnz-2025", catalog=catalog, policy="carbon-coin")
    comparison = compare(credits, coins, TRIPS)
    assert not comparison.same_unit
    assert (comparison.run_a.credit_unit, comparison.run_b.credit_unit) == ("credit", "coin")
    for row in (*comparison.modes, comparison.total):
        assert row.credits_change is None
    total = comparison.total
    assert isinstance(total.credits_b, Decimal)  # coins keep their places
    # grams_per_credit = 1 and grams_per_coin = 1000, floored per trip: at most 1000/kg and
    # 1/kg (less where ineligible modes save), the same trips paid, so a ratio near 1000
    per_kg_a, per_kg_b = total.a.credits_per_kg, total.b.credits_per_kg
    assert per_kg_a is not None
    assert per_kg_b is not None
    assert per_kg_a <= 1000
    assert per_kg_b <= 1
    assert per_kg_a / per_kg_b == pytest.approx(1000, rel=0.02)


def test_a_mode_without_baseline_is_shown_as_such_not_as_zero(catalog: Catalog) -> None:
    car = Engine("uk-desnz-2025", catalog=catalog, baseline="car")
    published = Engine("uk-desnz-2025", catalog=catalog, baseline="published-savings")
    comparison = compare(car, published, TRIPS)
    rows = {row.mode: row for row in comparison.modes}
    walk = rows["walk"]
    assert walk.b.state == "no_baseline"
    assert walk.b.no_baseline == walk.trips
    assert walk.savings_kg_b is None
    assert walk.credits_b is None
    assert walk.savings_kg_change is None
    assert walk.compared == 0
    assert walk.savings_kg_a is not None
    assert walk.savings_kg_a > 0
    # the total change covers only the trips both runs computed: the modes with a baseline
    with_baseline = [row for row in comparison.modes if row.b.state == "ok"]
    assert {row.mode for row in with_baseline} == {"bus", "metro"}
    assert comparison.total.compared == sum(row.compared for row in with_baseline)
    assert comparison.total.savings_kg_change == pytest.approx(
        sum(row.savings_kg_b - row.savings_kg_a for row in with_baseline)  # type: ignore[operator]
    )


def test_the_change_is_counted_trip_by_trip(catalog: Catalog) -> None:
    """Where A computes trips B rejects, they leave the change rather than count as a loss."""
    trips = pa.table(
        {
            "trip_id": ["1", "2", "3"],
            "user_id": ["u", "u", "v"],
            "mode": ["metro", "walk", "bus"],
            "distance": [10.0, 2.0, 5.0],
            "started_at": ["2025-03-01T08:00:00Z"] * 3,
        }
    )
    a = Engine("uk-desnz-2025", catalog=catalog, baseline="car")
    b = Engine("uk-desnz-2025", catalog=catalog, baseline="published-savings")
    comparison = compare(a, b, trips)
    table_a = a.compute(trips).table.to_pylist()
    table_b = b.compute(trips).table.to_pylist()
    expected = sum(
        rb["savings_g"] - ra["savings_g"]
        for ra, rb in zip(table_a, table_b, strict=True)
        if ra["status"] == rb["status"] == "ok"
    )
    assert comparison.total.compared == 2
    assert comparison.total.savings_kg_change == pytest.approx(expected / 1000)
    assert comparison.total.only_one_run == 1


def test_runs_over_different_trips_are_refused(catalog: Catalog) -> None:
    engine = Engine("uk-desnz-2025", catalog=catalog)
    with pytest.raises(ValueError, match="same trips"):
        compare(engine, engine, TRIPS, trips_b=TRIPS.slice(0, 10))
