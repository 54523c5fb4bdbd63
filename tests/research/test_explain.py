"""``explain``: the variant in force on a date and in a district, and every reason a trip
earns what it earns, as data (library) and as text and JSON (CLI)."""

from __future__ import annotations

import datetime as dt
import json
import math
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from carbonfoot import Engine
from carbonfoot.cli import main
from carbonfoot.research import TripExplanation, explain

# The East China grid in the shipped cn-nanjing set, one variant per data year (MEE and
# NBS announcements; see factors/cn-nanjing.toml), and the metro's design energy use.
GRID_G_PER_KWH = {2021: 599.2, 2022: 561.7, 2023: 550.0}
METRO_KWH_PER_PKM = 0.065

# A district variant for the test: Jiangsu's own provincial 2022 grid factor (0.5978
# kg/kWh, from the same MEE 2022 announcement the set cites), given to one district.
JIANGBEI = textwrap.dedent(
    """
    schema = 1
    [set]
    name = "nanjing-jiangbei-test"
    extends = "cn-nanjing"
    title = "test: a district variant of the 2022 grid"

    [[factors.grid-east-china]]
    value = "0.5978 kg / kWh"
    valid_from = 2022-01-01
    valid_to = 2022-12-31
    district = "Jiangbei"
    source = "mee-nbs-2022"
    locator = "provincial factors, Jiangsu, 2022"
    region = "CN-JS"
    note = "Test scenario: Jiangsu's provincial 2022 figure as one district's variant."
    """
)


@pytest.fixture(scope="module")
def nanjing() -> Engine:
    return Engine("cn-nanjing")


@pytest.fixture
def jiangbei(tmp_path: Path) -> Path:
    path = tmp_path / "jiangbei.toml"
    path.write_text(JIANGBEI, encoding="utf-8")
    return path


@pytest.mark.parametrize("year", [2021, 2022, 2023])
def test_the_factor_of_the_trips_date_is_used_and_named(nanjing: Engine, year: int) -> None:
    found = explain(nanjing, "metro", "5km", on=dt.date(year, 6, 1))
    assert found.date == dt.date(year, 6, 1)
    assert found.date_given
    assert found.emissions_g == pytest.approx(METRO_KWH_PER_PKM * GRID_G_PER_KWH[year] * 5)
    (grid,) = [v for v in found.variants if v.key == "grid-east-china"]
    assert grid.validity.startswith(f"from {year}-01-01")
    assert f"In force on {year}-06-01: grid-east-china (from {year}-01-01" in found.text()


def test_a_date_before_every_variant_has_no_factor_and_says_so(nanjing: Engine) -> None:
    found = explain(nanjing, "metro", 5, on=dt.date(2020, 6, 1))
    assert found.status == "no_factor"
    assert found.credits == 0
    assert [reason.code for reason in found.reasons] == ["no_factor"]
    assert found.verdict() == (
        "-> 0 credits: metro has no factor in factor set 'cn-nanjing' on that date in that district"
    )


def test_a_districts_own_variant_applies_in_that_district_only(jiangbei: Path) -> None:
    engine = Engine(jiangbei)
    june = dt.date(2022, 6, 1)
    there = explain(engine, "metro", "5 km", on=june, district="jiangbei")  # folded as a batch
    elsewhere = explain(engine, "metro", "5 km", on=june, district="Gulou")
    nowhere = explain(engine, "metro", "5 km", on=june)
    assert there.district_used == "Jiangbei"
    assert there.emissions_g == pytest.approx(METRO_KWH_PER_PKM * 597.8 * 5)
    (grid,) = [v for v in there.variants if v.key == "grid-east-china"]
    assert grid.district == "Jiangbei"
    assert "in Jiangbei" in grid.validity
    for general in (elsewhere, nowhere):
        assert general.district_used == ""
        assert general.emissions_g == pytest.approx(METRO_KWH_PER_PKM * 561.7 * 5)
    assert "'Gulou' has no variants of its own" in elsewhere.text()
    # The batch path takes the same variant for the same trip.
    batch = engine.compute(
        {
            "trip_id": ["a"],
            "user_id": ["u"],
            "mode": ["metro"],
            "distance": [5.0],
            "district": ["Jiangbei"],
            "started_at": ["2022-06-01T08:00:00+08:00"],
        }
    )
    assert batch.table.column("emissions_g")[0].as_py() == pytest.approx(there.emissions_g)


def test_a_mistyped_district_gets_a_guess(jiangbei: Path) -> None:
    found = explain(Engine(jiangbei), "metro", 5, on=dt.date(2022, 6, 1), district="Jiangbie")
    assert "(did you mean 'Jiangbei'?)" in found.text()


def test_a_mode_that_does_not_earn_says_it_is_not_eligible(engine: Engine) -> None:
    found = explain(engine, "car", "5 km")
    assert found.savings_g == 0
    assert found.credits == 0
    (reason,) = found.reasons
    assert reason.code == "not_eligible"
    assert found.verdict().startswith(
        "-> 0 credits: car is not eligible under green-credit (eligible: walk, bike, "
    )
    assert "car," not in reason.figures["eligible"] + ","  # cars are listed nowhere
    bus = explain(engine, "bus", "5 km")
    assert "not_eligible" not in [r.code for r in bus.reasons]


@pytest.mark.parametrize(
    ("already_paid", "code"),
    [(0, "capped"), (95, "capped"), (100, "cap_reached"), (250, "cap_reached")],
)
def test_the_daily_cap_is_named_with_what_was_paid_that_day(already_paid: int, code: str) -> None:
    engine = Engine("uk-desnz-2025", policy_params={"daily_cap": 100})
    found = explain(engine, "bike", "50 km", already_paid=already_paid)
    assert found.savings_g is not None
    earned = math.floor(found.savings_g)  # one credit per gram, far above the cap here
    assert earned > 100
    assert found.credits == max(0, min(earned, 100 - already_paid))
    assert [r.code for r in found.reasons] == [code]
    assert "daily cap of 100 credits" in found.verdict()
    assert f"{already_paid} already paid that day" in found.verdict()


def test_a_trip_under_the_cap_is_paid_in_full_and_says_nothing_of_it() -> None:
    engine = Engine("uk-desnz-2025", policy_params={"daily_cap": 100_000})
    found = explain(engine, "bike", "5 km")
    assert found.savings_g is not None
    assert found.credits == math.floor(found.savings_g)
    assert [r.code for r in found.reasons] == ["within_cap"]
    assert found.verdict() == f"-> {found.credits} credits"


def test_coins_are_capped_in_their_own_decimals() -> None:
    engine = Engine(
        "uk-desnz-2025", policy="carbon-coin", policy_params={"daily_cap": "0.5", "decimals": 2}
    )
    found = explain(engine, "bike", "50 km", already_paid="0.25")
    assert found.credits == Decimal("0.25")
    assert "capped by the daily cap of 0.50 coins" in found.verdict()


def test_a_trip_over_the_modes_limit_is_quarantined_as_the_batch_would_be() -> None:
    engine = Engine("uk-desnz-2025", plausibility={"modes": {"bike": {"max_trip_km": 30}}})
    found = explain(engine, "bike", "50km")
    assert found.status == "suspect_distance"
    assert found.credits == 0
    assert "quarantined (suspect_distance): 50 km is longer than bike's maximum trip of 30 km" in (
        found.verdict()
    )
    batch = engine.compute(
        {
            "trip_id": ["a"],
            "user_id": ["u"],
            "mode": ["bike"],
            "distance": ["50"],
            "started_at": ["2025-05-01T08:00:00+01:00"],
        }
    )
    assert batch.table.column("status")[0].as_py() == "suspect_distance"


def test_a_mode_without_a_baseline_says_so() -> None:
    engine = Engine("cn-nanjing", baseline="published-savings")
    found = explain(engine, "walk", 5)
    assert found.status == "no_baseline"
    assert found.credits == 0
    assert "walk has no baseline in methodology" in found.verdict()


def test_the_explanation_is_data_a_service_can_send_as_json(engine: Engine) -> None:
    found = explain(engine, "car", 5)
    assert isinstance(found, TripExplanation)
    record = json.loads(json.dumps(found.to_dict()))
    assert record["reasons"][0]["code"] == "not_eligible"
    assert record["credits"] == "0"
    assert record["mode"] == "car"
    assert record["verdict"] == found.verdict()


def test_the_cli_takes_date_district_and_distances_with_units(jiangbei: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "explain",
            "--mode",
            "metro",
            "--distance",
            "5000m",
            "--factors",
            str(jiangbei),
            "--date",
            "2022-06-01",
            "--district",
            "Jiangbei",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "on 2022-06-01 in Jiangbei" in result.output
    assert "grid-east-china (from 2022-01-01 to 2022-12-31 in Jiangbei)" in result.output
    as_json = runner.invoke(main, ["explain", "--mode", "car", "--distance", "3.1 mi", "--json"])
    assert as_json.exit_code == 0, as_json.output
    record = json.loads(as_json.output)
    assert record["reasons"][0]["code"] == "not_eligible"
    assert record["distance_km"] == pytest.approx(3.1 * 1.609344)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--distance", "5 kg"], "not a length"),
        (["--distance", "-5km"], "must be above zero"),
        (["--distance", "5", "--date", "2022-13-01"], "does not match the format"),
        (["--distance", "5", "--already-paid", "-3"], "not a positive decimal number"),
    ],
)
def test_the_cli_refuses_what_is_not_a_trip(args: list[str], says: str) -> None:
    result = CliRunner().invoke(main, ["explain", "--mode", "bus", *args])
    assert result.exit_code == 2
    assert says in result.output
