"""The engine: one row out per row in, the formula, provenance on every row, single trips."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from carbonfoot import Engine, InputError, UnknownModeError
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.plugins import Catalog

Trips = Callable[..., dict[str, list[Any]]]


def test_savings_are_baseline_minus_emissions_for_the_same_distance(
    engine: Engine, make_trips: Trips
) -> None:
    result = engine.compute(make_trips(mode=["metro"], distance=[8.0])).to_pylist()[0]
    metro = engine.factor_set.g_per_pkm("metro")
    car = engine.factor_set.g_per_pkm("car")
    assert metro is not None
    assert car is not None
    assert result["emissions_g"] == pytest.approx(metro * 8)
    assert result["baseline_g"] == pytest.approx(car * 8)
    assert result["savings_g"] == pytest.approx((car - metro) * 8)
    assert result["status"] == "ok"
    assert result["message"] is None


def test_output_keeps_input_order_and_one_row_per_row(engine: Engine) -> None:
    trips = generate_trips(2000, seed=5, bad_row_share=0.1)
    table = engine.compute(trips).table
    assert table.num_rows == trips.num_rows
    assert table.column("trip_id").to_pylist() == trips.column("trip_id").to_pylist()


def test_every_row_names_the_factor_set_hash_baseline_and_policy(
    engine: Engine, make_trips: Trips
) -> None:
    table = engine.compute(make_trips(distance=[1.0, -1.0])).table
    assert set(table.column("factor_set").to_pylist()) == {"uk-desnz-2025"}
    assert set(table.column("factor_set_hash").to_pylist()) == {engine.factor_set.content_hash}
    assert set(table.column("baseline").to_pylist()) == {"car"}
    assert set(table.column("policy").to_pylist()) == {"green-credit"}
    run = json.loads(table.schema.metadata[b"carbonfoot.run"])
    assert run["factor_set_hash"] == engine.factor_set.content_hash
    assert run["policy_params"]["timezone"] == "Asia/Shanghai"


def test_rejected_rows_have_empty_numbers(engine: Engine, make_trips: Trips) -> None:
    row = engine.compute(make_trips(distance=["abc"])).to_pylist()[0]
    assert [
        row[name] for name in ("distance_km", "emissions_g", "baseline_g", "savings_g", "credits")
    ] == [None] * 5


def test_a_mode_without_a_factor_in_the_set_is_rejected_not_zero(make_trips: Trips) -> None:
    import types

    from carbonfoot import Catalog, Mode, SpeedRange, hookimpl

    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        register(Mode(id="hovercraft", label="H", speed=SpeedRange(0, 80, basis="t")))

    catalog = Catalog.from_entry_points(
        extra=[("h", types.SimpleNamespace(register_modes=register_modes))]
    )
    engine = Engine("uk-desnz-2025", catalog=catalog)
    result = engine.compute(make_trips(mode=["hovercraft", "bus"])).table
    assert result.column("status").to_pylist() == ["no_factor", "ok"]
    assert "no factor in factor set 'uk-desnz-2025'" in result.column("message")[0].as_py()
    with pytest.raises(InputError, match="no factor") as caught:
        engine.trip("hovercraft", 1)
    assert caught.value.status == "no_factor"


def test_the_daily_cap_holds_within_a_batch(catalog: Catalog, make_trips: Trips) -> None:
    engine = Engine(catalog=catalog, policy_params={"grams_per_credit": "1", "daily_cap": "500"})
    trips = make_trips(
        user_id=["u"] * 4,
        mode=["metro"] * 4,
        distance=[3.0] * 4,  # 234 g, 234 credits each
        started_at=[
            "2024-05-01T10:00:00+08:00",
            "2024-05-01T08:00:00+08:00",
            "2024-05-01T09:00:00+08:00",
            "2024-05-02T08:00:00+08:00",
        ],
    )
    credits = engine.compute(trips).table.column("credits").to_pylist()
    assert credits == [32, 234, 234, 234]


def test_carbon_coins_are_decimal_in_the_table(catalog: Catalog, make_trips: Trips) -> None:
    engine = Engine(
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "100", "decimals": "3"},
    )
    table = engine.compute(make_trips(mode=["metro", "bus"], distance=[10.0, "x"])).table
    assert str(table.schema.field("credits").type) == "decimal128(18, 3)"
    assert table.column("credits").to_pylist() == [Decimal("7.805"), None]


def test_the_summary_adds_up(engine: Engine) -> None:
    trips = generate_trips(3000, seed=9, bad_row_share=0.05)
    result = engine.compute(trips)
    summary = result.summary
    assert summary.trips == trips.num_rows
    assert sum(summary.status_counts.values()) == trips.num_rows
    assert summary.computed == summary.status_counts["ok"]
    credits = result.table.column("credits").to_numpy(zero_copy_only=False)
    assert summary.credits == int(np.nansum(credits))
    assert sum(row.credits for row in summary.by_mode) == summary.credits
    assert summary.savings_g == pytest.approx(sum(row.savings_g for row in summary.by_mode))


def test_single_trips_take_labels_units_and_distance_text(engine: Engine) -> None:
    assert engine.trip("地铁", "3.1 mi").distance_km == pytest.approx(3.1 * 1.609344)
    assert engine.trip("metro", 3100, "m").savings_g == pytest.approx(
        engine.trip("metro", 3.1).savings_g
    )
    with pytest.raises(UnknownModeError):
        engine.trip("hovercraft", 1)
    for bad in ("abc", float("nan"), -1, 0, True, "1e400 km"):
        with pytest.raises(InputError) as caught:
            engine.trip("bus", bad)
        assert caught.value.status == "bad_distance"
    with pytest.raises(InputError) as caught:
        engine.trip("bus", "1 furlong")
    assert caught.value.status == "bad_unit"


def test_the_kernel_is_the_reference_formula(engine: Engine) -> None:
    codes = np.array([0, 5, 13, 17], dtype=np.int32)
    km = np.array([1.0, 2.0, 3.0, 4.0])
    assert np.array_equal(engine.savings_g(codes, km), engine.savings_g_per_pkm[codes] * km)
