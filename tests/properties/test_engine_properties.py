"""Properties of the engine that must hold for every batch, not only the examples."""

from __future__ import annotations

import types
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine, Mode, SpeedRange, hookimpl
from carbonfoot.plugins import default_catalog

CATALOG = default_catalog()
MODE_IDS = list(CATALOG.modes.ids)
KM_PER_MILE = 1.609344

distances = st.floats(min_value=0.001, max_value=5000, allow_nan=False, allow_infinity=False)
instants = st.integers(min_value=1_700_000_000, max_value=1_700_000_000 + 5 * 86_400)


@st.composite
def batches(draw: st.DrawFn, max_size: int = 40) -> dict[str, Any]:
    size = draw(st.integers(min_value=1, max_value=max_size))
    users = draw(st.integers(min_value=1, max_value=5))
    return {
        "trip_id": [f"t{i}" for i in range(size)],
        "user_id": [f"u{draw(st.integers(0, users - 1))}" for _ in range(size)],
        "mode": [draw(st.sampled_from(MODE_IDS)) for _ in range(size)],
        "distance": [draw(distances) for _ in range(size)],
        "started_at": pa.array(
            [draw(instants) * 1_000_000 for _ in range(size)], type=pa.timestamp("us", tz="UTC")
        ),
    }


ENGINE = Engine(
    "uk-desnz-2025", catalog=CATALOG, policy_params={"grams_per_credit": "10", "daily_cap": "300"}
)


def column(engine: Engine, trips: dict[str, Any], name: str, **options: Any) -> np.ndarray:
    return np.asarray(engine.compute(trips, **options).table.column(name).to_pylist(), dtype=float)


@given(batches())
def test_savings_are_never_negative(trips: dict[str, Any]) -> None:
    assert (column(ENGINE, trips, "savings_g") >= 0).all()


@given(batches(), st.floats(min_value=0.01, max_value=8.0))
def test_savings_are_linear_in_distance(trips: dict[str, Any], factor: float) -> None:
    scaled = dict(trips, distance=[d * factor for d in trips["distance"]])
    base = column(ENGINE, trips, "savings_g")
    np.testing.assert_allclose(
        column(ENGINE, scaled, "savings_g"), base * factor, rtol=1e-9, atol=1e-9
    )


@given(batches())
def test_savings_do_not_depend_on_the_distance_unit(trips: dict[str, Any]) -> None:
    km = column(ENGINE, trips, "savings_g")
    in_m = column(
        ENGINE,
        dict(trips, distance=[d * 1000 for d in trips["distance"]]),
        "savings_g",
        distance_unit="m",
    )
    in_mi = column(
        ENGINE,
        dict(trips, distance=[d / KM_PER_MILE for d in trips["distance"]]),
        "savings_g",
        distance_unit="mi",
    )
    per_row = dict(
        trips,
        distance=[d * 1000 for d in trips["distance"]],
        distance_unit=["米"] * len(trips["distance"]),
    )
    np.testing.assert_allclose(in_m, km, rtol=1e-9)
    np.testing.assert_allclose(in_mi, km, rtol=1e-9)
    np.testing.assert_allclose(column(ENGINE, per_row, "savings_g"), km, rtol=1e-9)


@given(batches())
def test_credits_per_user_and_day_never_exceed_the_cap(trips: dict[str, Any]) -> None:
    table = ENGINE.compute(trips).table
    uncapped = (
        Engine("uk-desnz-2025", catalog=CATALOG, policy_params={"grams_per_credit": "10"})
        .compute(trips)
        .table
    )
    credits = np.asarray(table.column("credits").to_pylist())
    free = np.asarray(uncapped.column("credits").to_pylist())
    assert (credits <= free).all()
    assert (credits >= 0).all()
    keys = list(
        zip(
            table.column("user_id").to_pylist(), table.column("credit_day").to_pylist(), strict=True
        )
    )
    totals: dict[Any, int] = {}
    free_totals: dict[Any, int] = {}
    for key, paid, earned in zip(keys, credits.tolist(), free.tolist(), strict=True):
        totals[key] = totals.get(key, 0) + paid
        free_totals[key] = free_totals.get(key, 0) + earned
    for key, total in totals.items():
        assert total == min(300, free_totals[key])  # capped, and nothing withheld below the cap


@given(batches(max_size=15))
def test_batch_and_single_trip_paths_agree(trips: dict[str, Any]) -> None:
    engine = Engine("uk-desnz-2025", catalog=CATALOG, policy_params={"grams_per_credit": "10"})
    rows = engine.compute(trips).to_pylist()
    for row, mode, distance in zip(rows, trips["mode"], trips["distance"], strict=True):
        single = engine.trip(mode, distance)
        assert single.emissions_g == row["emissions_g"]
        assert single.baseline_g == row["baseline_g"]
        assert single.savings_g == row["savings_g"]
        if row["status"] == "ok":
            assert single.credits == row["credits"]
        else:  # quarantined in the batch (a repeat of another trip): never paid
            assert row["status"].startswith("suspect_")
            assert row["credits"] == 0


def water_bus_plugin() -> types.SimpleNamespace:
    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        register(
            Mode(
                id="water-bus",
                label="Water bus",
                aliases=("水上巴士",),
                factor="ferry",
                speed=SpeedRange(0, 40, basis="test"),
            )
        )

    return types.SimpleNamespace(register_modes=register_modes)


EXTENDED = Engine(
    "uk-desnz-2025", catalog=Catalog.from_entry_points(extra=[("wb", water_bus_plugin())])
)
PLAIN = Engine("uk-desnz-2025", catalog=CATALOG)


@given(batches())
@settings(max_examples=50)
def test_registering_an_extra_mode_changes_no_other_result(trips: dict[str, Any]) -> None:
    plain = PLAIN.compute(trips).table
    extended = EXTENDED.compute(trips).table
    for name in ("mode", "emissions_g", "baseline_g", "savings_g", "credits", "status"):
        assert plain.column(name).to_pylist() == extended.column(name).to_pylist(), name


def test_the_extra_mode_is_computed_with_its_own_factor() -> None:
    trips = {
        "trip_id": ["a"],
        "user_id": ["u"],
        "mode": ["水上巴士"],
        "distance": [2.0],
        "started_at": ["2024-05-01T08:00:00Z"],
    }
    row = EXTENDED.compute(trips).to_pylist()[0]
    assert row["mode"] == "water-bus"
    assert row["emissions_g"] == pytest.approx(2 * 18.71)
