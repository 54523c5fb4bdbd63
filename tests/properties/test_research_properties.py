"""Properties of the research tools and of factor validity, over generated inputs."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot import Engine
from carbonfoot.factors import load_factor_set
from carbonfoot.plugins import default_catalog
from carbonfoot.research import BatchEvaluator, run_monte_carlo

CATALOG = default_catalog()
EPOCH = dt.date(1970, 1, 1)

SET = """
schema = 1
[set]
name = "generated"
title = "generated"
region = "XX"
scope = "tank-to-wheel"
gas = "CO2"
baseline = "car"
[sources.pub]
publisher = "P"
title = "T"
year = 2025
[factors.car]
value = "{car} g / km"
per = "passenger"
source = "pub"
locator = "a"
uncertainty = {{ distribution = "{kind}", {args}, source = "pub" }}
[factors.bus]
value = "{bus} g / km"
per = "passenger"
source = "pub"
locator = "b"
[[factors.metro]]
value = "{metro_old} g / km"
per = "passenger"
valid_to = {until}
source = "pub"
locator = "c"
[[factors.metro]]
value = "{metro_new} g / km"
per = "passenger"
valid_from = {after}
source = "pub"
locator = "d"
"""


def make_set(tmp: Path, **values: Any) -> Any:
    defaults = {
        "car": 120.0,
        "bus": 60.0,
        "metro_old": 40.0,
        "metro_new": 20.0,
        "kind": "uniform",
        "args": 'low = "120 g / km", high = "120 g / km"',
        "until": "2024-06-30",
        "after": "2024-07-01",
    }
    defaults.update(values)
    path = tmp / f"generated-{abs(hash(tuple(sorted(map(str, defaults.items())))))}.toml"
    path.write_text(textwrap.dedent(SET.format(**defaults)), encoding="utf-8")
    return load_factor_set(path)


@st.composite
def trip_batches(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 30))
    days = draw(st.lists(st.integers(0, 730), min_size=size, max_size=size))
    return {
        "trip_id": [f"t{i}" for i in range(size)],
        "user_id": [f"u{draw(st.integers(0, 3))}" for _ in range(size)],
        "mode": [draw(st.sampled_from(["bus", "metro", "walk", "car"])) for _ in range(size)],
        "distance": [draw(st.floats(0.1, 50)) for _ in range(size)],
        "started_at": [
            (dt.datetime(2024, 1, 1, 12) + dt.timedelta(days=d)).isoformat() + "+08:00"
            for d in days
        ],
    }


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sets")


@settings(max_examples=25)
@given(trip_batches(), st.integers(0, 365))
def test_a_factor_valid_until_d_is_never_used_after_d(
    tmp: Path, trips: dict[str, Any], offset: int
) -> None:
    until = dt.date(2024, 1, 1) + dt.timedelta(days=offset)
    factor_set = make_set(
        tmp, until=until.isoformat(), after=(until + dt.timedelta(days=1)).isoformat()
    )
    table = Engine(factor_set, catalog=CATALOG).compute(trips).table
    for mode, day, emissions, km in zip(
        table.column("mode").to_pylist(),
        table.column("credit_day").to_pylist(),
        table.column("emissions_g").to_pylist(),
        table.column("distance_km").to_pylist(),
        strict=True,
    ):
        if mode == "metro":
            assert emissions == pytest.approx(km * (40.0 if day <= until else 20.0))


@settings(max_examples=25)
@given(trip_batches(), st.floats(1.0, 200.0))
def test_overriding_one_factor_changes_only_the_trips_of_that_mode(
    tmp: Path, trips: dict[str, Any], bus: float
) -> None:
    before = Engine(make_set(tmp), catalog=CATALOG).compute(trips).table
    after = Engine(make_set(tmp, bus=bus), catalog=CATALOG).compute(trips).table
    for mode, old, new in zip(
        before.column("mode").to_pylist(),
        before.column("emissions_g").to_pylist(),
        after.column("emissions_g").to_pylist(),
        strict=True,
    ):
        if mode != "bus":
            assert old == new


@settings(max_examples=15)
@given(trip_batches(), st.floats(50.0, 300.0), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_a_zero_width_distribution_reproduces_the_point(
    tmp: Path, trips: dict[str, Any], car: float, draws: int, seed: int
) -> None:
    factor_set = make_set(tmp, car=car, args=f'low = "{car} g / km", high = "{car} g / km"')
    engine = Engine(factor_set, catalog=CATALOG, policy_params={"daily_cap": "500"})
    report = run_monte_carlo(BatchEvaluator(engine, engine.prepare(trips)), draws=draws, seed=seed)
    for stats in (report.savings_kg, report.credits):
        for stat in stats.values():
            assert stat.point == stat.mean == stat.p2_5 == stat.p97_5


@settings(max_examples=15)
@given(trip_batches(), st.integers(0, 2**32 - 1))
def test_the_same_seed_gives_identical_output(tmp: Path, trips: dict[str, Any], seed: int) -> None:
    factor_set = make_set(tmp, kind="triangular", args='low = "100 g / km", high = "150 g / km"')
    engine = Engine(factor_set, catalog=CATALOG)
    evaluator = BatchEvaluator(engine, engine.prepare(trips))
    assert (
        run_monte_carlo(evaluator, draws=25, seed=seed).rows()
        == run_monte_carlo(evaluator, draws=25, seed=seed).rows()
    )


@settings(max_examples=8)
@given(
    trip_batches(),
    st.floats(100.0, 200.0),
    st.floats(0.01, 0.3),
    st.sampled_from(["uniform", "normal", "triangular"]),
)
def test_the_monte_carlo_mean_converges_to_the_point_for_symmetric_distributions(
    tmp: Path, trips: dict[str, Any], car: float, spread: float, kind: str
) -> None:
    width = car * spread
    args = {
        "uniform": f'low = "{car - width} g / km", high = "{car + width} g / km"',
        "triangular": f'low = "{car - width} g / km", high = "{car + width} g / km"',
        "normal": f'sd = "{width / 3} g / km"',
    }[kind]
    factor_set = make_set(
        tmp, car=car, kind=kind, args=args
    )  # baseline car >= every mode: no clipping at zero
    engine = Engine(factor_set, catalog=CATALOG)
    evaluator = BatchEvaluator(engine, engine.prepare(trips))
    report = run_monte_carlo(evaluator, draws=20_000, seed=3)
    total = report.savings_kg["total"]
    # Standard error of the mean of 20,000 draws is under 1% of the spread: allow 5 standard errors.
    km = float(
        np.nansum(engine.compute(trips).table.column("distance_km").to_numpy(zero_copy_only=False))
    )
    assert abs(total.mean - total.point) <= 5 * (width / 1000) * km / np.sqrt(20_000) + 1e-9
