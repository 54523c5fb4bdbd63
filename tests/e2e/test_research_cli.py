"""The research commands as a researcher runs them."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pa_csv
import pytest
from click.testing import CliRunner

from carbonfoot.cli import main
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import write_result_file


@pytest.fixture(scope="module")
def trips_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("research") / "trips.csv"
    write_result_file(generate_trips(2000, users=300, seed=4), path)
    return path


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_uncertainty_reports_percentiles_and_is_reproducible(
    trips_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "mc.csv"
    first = invoke(
        "uncertainty",
        str(trips_csv),
        "--draws",
        "200",
        "--seed",
        "3",
        "--factors",
        "cn-nanjing",
        "-o",
        str(out),
    )
    second = invoke(
        "uncertainty", str(trips_csv), "--draws", "200", "--seed", "3", "--factors", "cn-nanjing"
    )
    assert "97.5%" in first
    assert "metro#1" in first
    assert first.split("uncertain factors")[0] == second.split("uncertain factors")[0]
    rows = pa_csv.read_csv(out).to_pylist()
    total = next(row for row in rows if row["mode"] == "total")
    assert total["savings_kg_p2_5"] <= total["savings_kg_median"] <= total["savings_kg_p97_5"]


def test_sensitivity_writes_a_tornado_chart(trips_csv: Path, tmp_path: Path) -> None:
    chart = tmp_path / "tornado.png"
    output = invoke("sensitivity", str(trips_csv), "-o", str(chart), "--factors", "cn-nanjing")
    assert "car-occupancy" in output
    assert chart.read_bytes().startswith(b"\x89PNG")
    assert chart.stat().st_size > 10_000


def test_sensitivity_by_percent_on_a_set_without_uncertainty(trips_csv: Path) -> None:
    output = invoke("sensitivity", str(trips_csv), "--percent", "10")
    assert "+/-10%" in output


def test_compare_two_factor_sets_with_a_chart(trips_csv: Path, tmp_path: Path) -> None:
    chart = tmp_path / "compare.png"
    output = invoke(
        "compare",
        str(trips_csv),
        "--factors",
        "uk-desnz-2024",
        "--factors",
        "uk-desnz-2025",
        "-o",
        str(chart),
    )
    assert "uk-desnz-2024@" in output
    assert "different factor content" in output
    assert chart.stat().st_size > 10_000


def test_compare_two_baselines_and_two_policies(trips_csv: Path) -> None:
    assert "published-savings" in invoke(
        "compare", str(trips_csv), "--baseline", "car", "--baseline", "published-savings"
    )
    assert "carbon-coin" in invoke(
        "compare", str(trips_csv), "--policy", "green-credit", "--policy", "carbon-coin"
    )


def test_compare_needs_two_of_something(trips_csv: Path) -> None:
    result = CliRunner().invoke(main, ["compare", str(trips_csv), "--factors", "uk-desnz-2025"])
    assert result.exit_code != 0
    assert "needs two" in result.output


def test_baselines_are_listed_with_citations() -> None:
    output = invoke("baselines")
    for fragment in ("city-average", "published-savings", "db11-3043", "DB11/T 3043-2024", "26.9"):
        assert fragment in output


def test_a_methodology_with_parameters_from_the_command_line(
    trips_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    invoke(
        "calc",
        str(trips_csv),
        "-o",
        str(out),
        "-q",
        "--baseline",
        "city-average",
        "--baseline-param",
        "emissions_t=1000",
        "--baseline-param",
        "passenger_km=10000000",
    )
    rows = pa_csv.read_csv(out).to_pylist()
    walk = next(row for row in rows if row["mode"] == "walk" and row["status"] == "ok")
    assert walk["baseline_g"] == pytest.approx(
        walk["distance_km"] * 100.0
    )  # 1000 t / 1e7 pkm = 100 g/pkm


def test_calc_warns_when_appending_results_of_other_factor_content(
    trips_csv: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.csv"
    invoke("calc", str(trips_csv), "-o", str(out), "-q")
    result = CliRunner().invoke(
        main, ["calc", str(trips_csv), "-o", str(out), "-q", "--append", "--factors", "cn-nanjing"]
    )
    assert result.exit_code == 0
    assert "the factor content differs" in result.output
    assert len(pa_csv.read_csv(out)) == 4000


def test_an_overrides_file_is_a_factor_set(trips_csv: Path, tmp_path: Path) -> None:
    overrides = tmp_path / "mine.toml"
    overrides.write_text(
        'schema = 1\n[set]\nname = "mine"\nextends = "cn-nanjing"\ntitle = "what if"\n'
        '[factors.car-occupancy]\nvalue = "1.2"\nsource = "definition"\nnote = "a what-if"\n',
        encoding="utf-8",
    )
    output = invoke("explain", "--mode", "metro", "--distance", "5 km", "--factors", str(overrides))
    assert "extends cn-nanjing" in output
    assert "car-occupancy = 1.2" in output
