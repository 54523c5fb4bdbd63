"""calc's intake options as a user runs them: rejects file, GTFS feed, config thresholds."""

from __future__ import annotations

from pathlib import Path

import pyarrow.csv as pa_csv
from click.testing import CliRunner

from carbonfoot.cli import main
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import write_result_file

GTFS = Path(__file__).resolve().parents[1] / "data" / "gtfs-mini"


def test_rejects_file_holds_every_rejected_and_quarantined_row_as_given(tmp_path: Path) -> None:
    trips = tmp_path / "trips.csv"
    write_result_file(generate_trips(1000, seed=8, bad_row_share=0.1), trips)
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = CliRunner().invoke(
        main, ["calc", str(trips), "-o", str(out), "--rejects", str(rejects)]
    )
    assert result.exit_code == 0, result.output
    source = pa_csv.read_csv(
        trips, convert_options=pa_csv.ConvertOptions(strings_can_be_null=False)
    ).to_pylist()
    output = pa_csv.read_csv(out).to_pylist()
    rejected = pa_csv.read_csv(
        rejects, convert_options=pa_csv.ConvertOptions(strings_can_be_null=False)
    ).to_pylist()
    ok = [row for row in output if row["status"] == "ok"]
    assert len(ok) + len(rejected) == len(source) == len(output)
    expected = [
        (dict(src), res) for src, res in zip(source, output, strict=True) if res["status"] != "ok"
    ]
    assert {res["status"] for _, res in expected} >= {"bad_distance", "suspect_speed"}
    for (given, result_row), row in zip(expected, rejected, strict=True):
        assert {k: str(v) for k, v in given.items()} == {k: str(row[k]) for k in given}
        assert row["status"] == result_row["status"]
        assert row["message"] == result_row["message"]
        assert row["message"].startswith("row ")
    assert "rejected" in result.output
    assert "computed" in result.output


def test_stop_pairs_with_a_gtfs_feed(tmp_path: Path) -> None:
    trips = tmp_path / "trips.csv"
    trips.write_text(
        "trip_id,user_id,mode,distance,from_stop,to_stop,started_at\n"
        "a,u,metro,,A1,D,2024-05-01T08:00:00+08:00\nb,v,bus,,A,E,2024-05-01T08:00:00+08:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["calc", str(trips), "-o", str(out), "--gtfs", str(GTFS), "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = pa_csv.read_csv(out).to_pylist()
    assert [row["distance_source"] for row in rows] == ["gtfs-hops", "gtfs-hops"]
    assert rows[0]["distance_km"] > rows[1]["distance_km"]


def test_plausibility_and_distance_settings_from_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "programme.toml"
    config.write_text(
        "[plausibility]\nduplicate_window_s = 300\n[plausibility.modes.walk]\nmax_kmh = 7\n"
        '[distance]\nstep_length = "0.7 m"\n',
        encoding="utf-8",
    )
    trips = tmp_path / "trips.csv"
    trips.write_text(
        "trip_id,user_id,mode,distance,steps,started_at,ended_at\n"
        "a,u,walk,,10000,2024-05-01T08:00:00+08:00,2024-05-01T09:00:00+08:00\n"
        "b,v,walk,8,,2024-05-01T08:00:00+08:00,2024-05-01T09:00:00+08:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        main, ["calc", str(trips), "-o", str(out), "--config", str(config), "-q"]
    )
    assert result.exit_code == 0, result.output
    rows = pa_csv.read_csv(out).to_pylist()
    assert rows[0]["distance_km"] == 7.0
    assert rows[0]["status"] == "ok"
    assert rows[1]["status"] == "suspect_speed"
