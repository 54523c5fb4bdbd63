"""The `carbonfoot` command, run as a user runs it: files in, files out, clear errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from carbonfoot.cli import main
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import write_result_file

CARBONFOOT = shutil.which("carbonfoot") or str(Path(sys.executable).with_name("carbonfoot"))
HEADER = "trip_id,user_id,mode,distance,started_at\n"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CARBONFOOT, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def trips_csv(tmp_path: Path) -> Path:
    path = tmp_path / "trips.csv"
    write_result_file(generate_trips(500, seed=1, bad_row_share=0.05), path)
    return path


def test_calc_csv_to_parquet_keeps_every_row_in_order(trips_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    done = run("calc", str(trips_csv), "-o", str(out))
    assert done.returncode == 0, done.stderr
    table = pq.read_table(out)
    source = pa_csv.read_csv(trips_csv)
    assert table.column("trip_id").to_pylist() == [
        str(v) for v in source.column("trip_id").to_pylist()
    ]
    for name in (
        "trip_id",
        "user_id",
        "mode",
        "distance_km",
        "emissions_g",
        "baseline_g",
        "savings_g",
        "credits",
        "status",
    ):
        assert name in table.column_names
    assert "trips" in done.stdout
    assert "status: ok" in done.stdout


def test_calc_options_reach_the_engine(trips_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    done = run(
        "calc",
        str(trips_csv),
        "-o",
        str(out),
        "--factors",
        "uk-desnz-2025",
        "--policy",
        "carbon-coin",
        "--policy-param",
        "grams_per_coin=100",
        "--policy-param",
        "decimals=3",
        "--baseline",
        "car:0.6,taxi:0.1,bus:0.3",
        "--distance-unit",
        "km",
    )
    assert done.returncode == 0, done.stderr
    table = pa_csv.read_csv(
        out, convert_options=pa_csv.ConvertOptions(column_types={"credits": pa.string()})
    )
    record = next(row for row in table.to_pylist() if row["status"] == "ok")
    assert record["policy"] == "carbon-coin"
    assert record["baseline"] == "car:0.6,taxi:0.1,bus:0.3"
    assert Decimal(record["credits"]).as_tuple().exponent == -3


def test_a_config_file_sets_the_policy(trips_csv: Path, tmp_path: Path) -> None:
    config = tmp_path / "programme.toml"
    config.write_text(
        '[policy]\nid = "green-credit"\n[policy.params]\ndaily_cap = 0\n', encoding="utf-8"
    )
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(
        main, ["calc", str(trips_csv), "-o", str(out), "--config", str(config), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert set(pq.read_table(out).column("credits").drop_null().to_pylist()) == {0}


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("trip_id,user_id,mode,started_at\n", [], "missing column(s) distance"),
        (
            HEADER + "a,u,bus,1,2024-05-01T08:00:00Z\n",
            ["--factors", "nope"],
            "unknown factor set 'nope'",
        ),
        (
            HEADER + "a,u,bus,1,2024-05-01T08:00:00Z\n",
            ["--policy", "gold"],
            "unknown credit policy 'gold'",
        ),
        (
            HEADER + "a,u,bus,1,2024-05-01T08:00:00Z\n",
            ["--policy-param", "daily_cap"],
            "is not NAME=VALUE",
        ),
        (
            HEADER + "a,u,bus,1,2024-05-01T08:00:00Z\n",
            ["--distance-unit", "9**9**9"],
            "unknown distance unit",
        ),
        (
            HEADER + "a,u,bus,1,2024-05-01T08:00:00Z\n",
            ["--baseline", "hovercraft"],
            "unknown baseline 'hovercraft'; a baseline is a mode",
        ),
    ],
)
def test_file_level_problems_exit_non_zero_with_one_line(
    tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "trips.csv"
    path.write_text(content, encoding="utf-8")
    done = run("calc", str(path), "-o", str(tmp_path / "out.csv"), *args)
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    done = run("calc", str(tmp_path / "nothing.csv"), "-o", str(tmp_path / "out.csv"))
    assert done.returncode != 0
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_rows_do_not_fail_the_file(tmp_path: Path) -> None:
    path = tmp_path / "trips.csv"
    path.write_text(
        HEADER + "a,u,bus,abc,2024-05-01T08:00:00Z\nb,u,hovercraft,1,never\n", encoding="utf-8"
    )
    done = run("calc", str(path), "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 0
    assert "bad_distance 1" in done.stdout
    assert "unknown_mode 1" in done.stdout


def test_modes_prints_one_mode_per_line_id_first() -> None:
    result = CliRunner().invoke(main, ["modes"])
    assert result.exit_code == 0
    first_fields = [line.split("\t")[0] for line in result.output.splitlines()]
    assert {"walk", "metro", "car-bev", "shared-bike"} <= set(first_fields)
    assert len(first_fields) == len(set(first_fields))


def test_factors_prints_one_set_per_line_name_first() -> None:
    result = CliRunner().invoke(main, ["factors", "--check"])
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.output.splitlines()]
    assert {"uk-desnz-2025", "uk-desnz-2024", "us-epa-2025", "cn-nanjing"} <= set(names)


def test_factors_shows_one_set_with_sources() -> None:
    result = CliRunner().invoke(main, ["factors", "uk-desnz-2025"])
    assert result.exit_code == 0
    assert "Business travel- land, D81" in result.output


def test_explain_shows_every_step_with_sources() -> None:
    result = CliRunner().invoke(main, ["explain", "--mode", "地铁", "--distance", "5 km"])
    assert result.exit_code == 0, result.output
    for fragment in (
        "London Underground",
        "Greenhouse gas reporting: conversion factors 2025",
        "Scottish Household Survey",
        "car-occupancy = 1.58",
        "Savings = max(0, baseline - emissions)",
        "green-credit",
        "GWP AR5",
    ):
        assert fragment in result.output


def test_policies_and_plugins_are_listed() -> None:
    policies = CliRunner().invoke(main, ["policies"])
    assert policies.output.splitlines()[0].split("\t")[0] in {"green-credit", "carbon-coin"}
    assert "grams_per_credit=1" in policies.output
    plugins = CliRunner().invoke(main, ["plugins"])
    assert "active-modes" in plugins.output


def test_demo_runs_from_any_directory(tmp_path: Path) -> None:
    done = run("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "carbonfoot: 3,001 trips" in done.stdout
    assert (tmp_path / "demo-output" / "trips-results.csv").is_file()
