"""compare and sensitivity as a district's officer runs them: per-run engine options,
config files, units kept apart, every skipped factor listed, chart names checked first."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from carbonfoot.cli import main
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import write_result_file


@pytest.fixture(scope="module")
def trips_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("compare") / "trips.csv"
    write_result_file(generate_trips(1200, users=200, seed=9), path)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_two_daily_caps_side_by_side(trips_csv: Path) -> None:
    code, output = run(
        "compare",
        str(trips_csv),
        "--a-policy-param",
        "daily_cap=200",
        "--b-policy-param",
        "daily_cap=500",
    )
    assert code == 0, output
    assert "daily_cap=200" in output
    assert "daily_cap=500" in output
    assert "credits A" in output
    assert "change" in output


def test_a_programme_file_against_a_variant(trips_csv: Path, tmp_path: Path) -> None:
    programme = tmp_path / "programme.toml"
    programme.write_text(
        'factors = "cn-nanjing"\n[policy]\nid = "green-credit"\n[policy.params]\ndaily_cap = 300\n',
        encoding="utf-8",
    )
    variant = tmp_path / "variant.toml"
    variant.write_text(
        'factors = "cn-nanjing"\nbaseline = "published-savings"\n'
        '[policy]\nid = "carbon-coin"\n[policy.params]\ndaily_cap = "3"\n',
        encoding="utf-8",
    )
    code, output = run(
        "compare", str(trips_csv), "--a-config", str(programme), "--b-config", str(variant)
    )
    assert code == 0, output
    assert "daily_cap=300" in output
    assert "carbon-coin" in output
    assert "not subtracted" in output  # credits and coins
    assert "no baseline" in output  # published-savings has none for walking


def test_a_shared_config_with_one_run_changed(trips_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "programme.toml"
    config.write_text(
        'factors = "cn-nanjing"\n[policy.params]\ndaily_cap = 300\n', encoding="utf-8"
    )
    code, output = run(
        "compare", str(trips_csv), "--config", str(config), "--b-policy-param", "daily_cap=600"
    )
    assert code == 0, output
    assert "cn-nanjing@" in output
    assert "daily_cap=300" in output
    assert "daily_cap=600" in output


def test_two_identical_runs_are_refused(trips_csv: Path) -> None:
    code, output = run("compare", str(trips_csv), "--policy-param", "daily_cap=200")
    assert code == 2
    assert "needs two runs that differ" in output


def test_a_malformed_per_run_parameter_names_its_option(trips_csv: Path) -> None:
    code, output = run("compare", str(trips_csv), "--b-policy-param", "daily_cap")
    assert code == 2
    assert "--b-policy-param 'daily_cap' is not NAME=VALUE" in output


@pytest.mark.parametrize("command", ["compare", "sensitivity"])
def test_a_chart_name_is_checked_before_any_work(command: str, tmp_path: Path) -> None:
    """The input does not even exist: the chart's extension is refused first."""
    args = [command, str(tmp_path / "missing.csv"), "-o", str(tmp_path / "chart.jpg")]
    if command == "compare":
        args += ["--policy", "green-credit", "--policy", "carbon-coin"]
    code, output = run(*args)
    assert code == 2
    assert "chart.jpg" in output
    assert ".png, .svg, .pdf" in output
    assert "Traceback" not in output


def test_sensitivity_lists_what_it_did_not_swing(trips_csv: Path, tmp_path: Path) -> None:
    chart = tmp_path / "tornado.svg"
    code, output = run(
        "sensitivity",
        str(trips_csv),
        "--factors",
        "cn-nanjing",
        "--percent",
        "10",
        "-o",
        str(chart),
    )
    assert code == 0, output
    assert "not swung" in output
    assert "co2-per-carbon: a physical constant" in output
    assert "single-rider: a definition" in output
    swung = output.split("not swung")[0]
    assert "co2-per-carbon" not in swung
    assert "capped" in swung  # gasoline-oxidation stops at 1
    assert "cn-nanjing@" in chart.read_text(encoding="utf-8")
