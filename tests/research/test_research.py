"""Uncertainty, sensitivity and comparison: the research tools on real and made-up sets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.factors import load_factor_set
from carbonfoot.research import BatchEvaluator, compare, run_monte_carlo, run_sensitivity
from carbonfoot.research.charts import comparison_chart, tornado_chart

TRIPS = generate_trips(3000, users=500, seed=11)


def evaluator(engine: Engine, trips=TRIPS) -> BatchEvaluator:  # type: ignore[no-untyped-def]
    return BatchEvaluator(engine, engine.prepare(trips))


def test_the_evaluator_reproduces_the_engines_totals(catalog: Catalog) -> None:
    engine = Engine("cn-nanjing", catalog=catalog, policy_params={"daily_cap": "400"})
    totals = evaluator(engine).totals()
    summary = engine.compute(TRIPS).summary
    assert float(totals.total_savings_g[0]) == pytest.approx(summary.savings_g, rel=1e-12)
    assert int(totals.awards.sum()) == summary.credits
    by_mode = {row.mode: row.credits for row in summary.by_mode if row.computed}
    assert dict(zip(totals.modes, totals.awards[:, 0].tolist(), strict=True)) == by_mode


def test_the_same_seed_gives_the_same_numbers_whatever_the_chunk(catalog: Catalog) -> None:
    ev = evaluator(Engine("cn-nanjing", catalog=catalog))
    first = run_monte_carlo(ev, draws=300, seed=42)
    again = run_monte_carlo(ev, draws=300, seed=42, cells_per_chunk=10_000)
    other = run_monte_carlo(ev, draws=300, seed=43)
    assert first.rows() == again.rows()
    assert first.rows() != other.rows()


def test_a_set_without_uncertainty_gives_the_point_in_every_draw(catalog: Catalog) -> None:
    report = run_monte_carlo(evaluator(Engine("uk-desnz-2025", catalog=catalog)), draws=50, seed=1)
    total = report.savings_kg["total"]
    assert total.point == total.mean == total.p2_5 == total.p97_5
    assert report.factors == ()


def test_sensitivity_ranks_the_nanjing_weak_links(catalog: Catalog) -> None:
    report = run_sensitivity(evaluator(Engine("cn-nanjing", catalog=catalog)))
    names = [swing.factor for swing in report.swings]
    assert {"metro", "car-occupancy", "car-fuel-consumption"} <= set(names)
    widths = [swing.savings_width for swing in report.swings]
    assert widths == sorted(widths, reverse=True)
    occupancy = next(s for s in report.swings if s.factor == "car-occupancy")
    assert (
        occupancy.savings_kg_low > report.savings_kg > occupancy.savings_kg_high
    )  # more people, smaller baseline


def test_percent_swings_every_factor_that_matters(catalog: Catalog) -> None:
    report = run_sensitivity(evaluator(Engine("uk-desnz-2025", catalog=catalog)), percent=10)
    names = {swing.factor for swing in report.swings}
    assert {"car", "car-occupancy", "metro", "bus"} <= names
    assert "walk" not in names  # zero stays zero


def test_compare_lines_up_two_editions(catalog: Catalog) -> None:
    a = Engine("uk-desnz-2024", catalog=catalog)
    b = Engine("uk-desnz-2025", catalog=catalog)
    comparison = compare(a, b, TRIPS)
    bus = next(row for row in comparison.modes if row.mode == "bus")
    assert bus.savings_kg_change != 0
    walk = next(row for row in comparison.modes if row.mode == "walk")
    assert walk.savings_kg_b / walk.savings_kg_a == pytest.approx((167.25 / 1.58) / (166.91 / 1.58))
    assert (
        comparison.total.credits_change == comparison.total.credits_b - comparison.total.credits_a
    )


def test_charts_are_written_as_png(catalog: Catalog, tmp_path: Path) -> None:
    report = run_sensitivity(evaluator(Engine("cn-nanjing", catalog=catalog)))
    tornado = tmp_path / "tornado.png"
    tornado_chart(report, tornado)
    chart = tmp_path / "compare.png"
    comparison_chart(
        compare(
            Engine("uk-desnz-2024", catalog=catalog),
            Engine("uk-desnz-2025", catalog=catalog),
            TRIPS,
        ),
        chart,
    )
    for path in (tornado, chart):
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 500
        assert height > 200
        from matplotlib import image

        pixels = image.imread(path)
        assert pixels.std() > 0.05  # not a blank canvas


LINEAR = """
schema = 1
[set]
name = "linear"
title = "symmetric uncertainty on linear inputs only"
region = "XX"
scope = "tank-to-wheel"
gas = "CO2"
baseline = "car"
[sources.pub]
publisher = "P"
title = "T"
year = 2025
[factors.car]
value = "120 g / km"
per = "passenger"
source = "pub"
locator = "a"
uncertainty = {{ distribution = "{car}", {car_args}, source = "pub" }}
[factors.metro]
value = "30 g / km"
per = "passenger"
source = "pub"
locator = "b"
uncertainty = {{ distribution = "uniform", low = "{low}", high = "{high}", source = "pub" }}
[factors.walk]
value = "0 g / km"
per = "passenger"
source = "pub"
locator = "c"
"""


def linear_set(
    tmp_path: Path, car: str, car_args: str, low: str = "20 g / km", high: str = "40 g / km"
) -> Path:
    path = tmp_path / "linear.toml"
    path.write_text(
        textwrap.dedent(LINEAR.format(car=car, car_args=car_args, low=low, high=high)),
        encoding="utf-8",
    )
    return path


def test_a_zero_width_distribution_reproduces_the_point_exactly(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = linear_set(tmp_path, "normal", 'sd = "0 g / km"', low="30 g / km", high="30 g / km")
    engine = Engine(load_factor_set(path), catalog=catalog, policy_params={"daily_cap": "200"})
    report = run_monte_carlo(evaluator(engine), draws=64, seed=5)
    for stats in (report.savings_kg, report.credits):
        for stat in stats.values():
            assert stat.point == stat.mean == stat.median == stat.p2_5 == stat.p97_5


def test_the_mean_converges_to_the_point_for_symmetric_distributions(
    catalog: Catalog, tmp_path: Path
) -> None:
    path = linear_set(tmp_path, "normal", 'sd = "6 g / km"')
    engine = Engine(load_factor_set(path), catalog=catalog)
    report = run_monte_carlo(evaluator(engine), draws=20_000, seed=9)
    total = report.savings_kg["total"]
    assert total.mean == pytest.approx(total.point, rel=0.005)
    assert total.p2_5 < total.point < total.p97_5
    assert np.isfinite(total.mean)


def test_sensitivity_never_swings_definitions_or_constants(catalog: Catalog) -> None:
    report = run_sensitivity(evaluator(Engine("cn-nanjing", catalog=catalog)), percent=10)
    swung = {swing.factor for swing in report.swings}
    skipped = {item.factor: item.reason for item in report.skipped}
    for exact in ("co2-per-carbon", "single-rider", "carpool-occupancy", "walk"):
        assert exact not in swung
    assert "constant" in skipped["co2-per-carbon"]
    assert "definition" in skipped["single-rider"]
    assert "derived" in skipped["gasoline-co2-per-litre"]
    assert "no effect" in skipped["taxi"]  # the synthetic trips take no taxi


def test_sensitivity_accounts_for_every_factor_once(catalog: Catalog) -> None:
    """Nothing is dropped silently: each variant of the set is swung or skipped with a reason."""
    engine = Engine("cn-nanjing", catalog=catalog)
    for percent in (None, 10.0):
        report = run_sensitivity(evaluator(engine), percent=percent)
        names = [s.factor for s in report.swings] + [s.factor for s in report.skipped]
        expected = [
            key if len(variants) == 1 else f"{key}#{v.variant + 1}"
            for key, variants in engine.factor_set.factors.items()
            for v in variants
        ]
        assert sorted(names) == sorted(expected)
        assert all(item.reason for item in report.skipped)


def test_an_oxidation_fraction_is_never_swung_above_one(catalog: Catalog, tmp_path: Path) -> None:
    """The capped high end is the set with complete oxidation, computed by a real engine."""
    report = run_sensitivity(evaluator(Engine("cn-nanjing", catalog=catalog)), percent=10)
    oxidation = next(s for s in report.swings if s.factor == "gasoline-oxidation")
    assert oxidation.high == 1.0
    assert oxidation.low == pytest.approx(0.98 * 0.9)
    assert "capped" in oxidation.basis
    complete = tmp_path / "complete-oxidation.toml"
    complete.write_text(
        textwrap.dedent(
            """
            schema = 1
            [set]
            name = "complete-oxidation"
            extends = "cn-nanjing"
            [sources.upper-bound]
            publisher = "test"
            title = "all carbon burnt"
            year = 2026
            [factors.gasoline-oxidation]
            value = "1"
            source = "upper-bound"
            locator = "the physical limit"
            """
        ),
        encoding="utf-8",
    )
    at_one = Engine(complete, catalog=catalog).compute(TRIPS).summary
    assert oxidation.savings_kg_high == pytest.approx(at_one.savings_g / 1000, rel=1e-9)


@settings(max_examples=15, deadline=None)
@given(percent=st.floats(min_value=0.5, max_value=99.9))
def test_no_swing_leaves_zero_and_the_physical_limit(catalog: Catalog, percent: float) -> None:
    small = evaluator(Engine("cn-nanjing", catalog=catalog), TRIPS.slice(0, 300))
    report = run_sensitivity(small, percent=percent)
    limits = {key: variants[0].at_most for key, variants in small.engine.factor_set.factors.items()}
    for swing in report.swings:
        assert 0 <= swing.low <= swing.high
        key = swing.factor.split("#")[0]
        if limits[key] != float("inf"):
            assert swing.high <= limits[key]


def test_sensitivity_refuses_a_percent_outside_its_range(catalog: Catalog) -> None:
    small = evaluator(Engine("cn-nanjing", catalog=catalog), TRIPS.slice(0, 300))
    for percent in (0.0, -5.0, 100.0, 150.0):
        with pytest.raises(ValueError, match="percent"):
            run_sensitivity(small, percent=percent)


def test_monte_carlo_draws_never_pass_a_physical_limit() -> None:
    """A fraction with a wide normal uncertainty: every draw stays at or below 1."""
    from carbonfoot.factors import Factor
    from carbonfoot.factors.model import Source, Uncertainty
    from carbonfoot.research import sample_factor

    fraction = Factor(
        key="oxidation",
        dims=(),
        source=Source("pub", "Publisher", "Title", 2025),
        locator="t",
        region="XX",
        scope="tank-to-wheel",
        gas="CO2",
        gwp="",
        base=0.98,
        quantity="0.98",
        uncertainty=Uncertainty("normal", sd=0.05, source="pub"),
        at_most=1.0,
    )
    draws = sample_factor(fraction, np.random.default_rng(3), 20_000)
    assert draws.max() == 1.0  # about a third of the draws reach the limit
    assert 0.2 < np.mean(draws == 1.0) < 0.45
    assert draws.min() >= 0.0
