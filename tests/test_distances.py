"""Distances derived from steps, coordinates, polylines and GTFS stops, checked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import Catalog, Engine, InputError
from carbonfoot.distances.geo import EARTH_RADIUS_KM, great_circle_km, parse_polylines, polyline_km

GTFS = Path(__file__).parent / "data" / "gtfs-mini"
HOP_KM = EARTH_RADIUS_KM * math.pi / 180 * 0.01  # 0.01 degree of latitude


def derive(engine: Engine, **columns: list[object]) -> list[dict[str, object]]:
    size = len(next(iter(columns.values())))
    trips = {
        "trip_id": [f"t{i}" for i in range(size)],
        "user_id": [f"u{i}" for i in range(size)],
        "started_at": ["2024-05-01T08:00:00+08:00"] * size,
        **columns,
    }
    return engine.compute(trips).to_pylist()


def test_great_circle_distances_of_well_known_points() -> None:
    pole_to_pole = great_circle_km(
        np.array([90.0]), np.array([0.0]), np.array([-90.0]), np.array([0.0])
    )
    quarter_equator = great_circle_km(
        np.array([0.0]), np.array([0.0]), np.array([0.0]), np.array([90.0])
    )
    assert pole_to_pole[0] == pytest.approx(math.pi * 6371.0088, rel=1e-12)
    assert quarter_equator[0] == pytest.approx(math.pi / 2 * 6371.0088, rel=1e-12)


def test_a_meridian_degree_by_coordinates(engine: Engine) -> None:
    row = derive(
        engine,
        mode=["bike"],
        start_lat=["32.0"],
        start_lon=["118.8"],
        end_lat=["33.0"],
        end_lon=["118.8"],
    )[0]
    assert row["distance_source"] == "gps"
    assert row["distance_km"] == pytest.approx(100 * HOP_KM, rel=1e-12)


def test_circuity_and_step_length_are_options(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, distance_options={"circuity": "1.3", "step_length": "75 cm"})
    rows = derive(
        engine,
        mode=["bike", "walk"],
        start_lat=["32.0", None],
        start_lon=["118.8", None],
        end_lat=["33.0", None],
        end_lon=["118.8", None],
        steps=[None, "10000"],
    )
    assert rows[0]["distance_km"] == pytest.approx(1.3 * 100 * HOP_KM)
    assert rows[1]["distance_km"] == pytest.approx(7.5)
    with pytest.raises(InputError, match="not a length"):
        Engine(catalog=catalog, distance_options={"step_length": "3 kg"})
    with pytest.raises(InputError, match="unknown distance option"):
        Engine(catalog=catalog, distance_options={"stride": "1 m"})


def test_steps_use_the_conservative_default(engine: Engine) -> None:
    rows = derive(engine, mode=["walk", "walk", "walk"], steps=["10000", "12.5", "-3"])
    assert rows[0]["distance_km"] == pytest.approx(6.6)
    assert [row["status"] for row in rows] == ["ok", "bad_distance", "bad_distance"]


def test_polylines_in_both_formats_and_spikes_dropped(engine: Engine) -> None:
    geojson = "[[118.80, 32.00], [118.80, 32.01], [118.80, 32.02]]"
    spiky = "[[118.80, 32.00], [118.80, 32.01], [119.30, 32.015], [118.80, 32.02]]"
    encoded = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"  # Google's documented example
    rows = derive(
        engine,
        mode=["walk", "walk", "bike", "bike"],
        polyline=[geojson, spiky, encoded, "[[1, 2]]"],
    )
    assert rows[0]["distance_km"] == pytest.approx(2 * HOP_KM, rel=1e-9)
    assert rows[1]["distance_km"] == pytest.approx(
        2 * HOP_KM, rel=1e-9
    )  # the spike to 119.30 E is dropped
    expected = sum(
        great_circle_km(np.array([a]), np.array([b]), np.array([c]), np.array([d]))[0]
        for a, b, c, d in ((38.5, -120.2, 40.7, -120.95), (40.7, -120.95, 43.252, -126.453))
    )
    assert rows[2]["distance_km"] == pytest.approx(expected, rel=1e-9)
    assert rows[3]["status"] == "bad_distance"


def test_encoded_polylines_decode_to_the_documented_points() -> None:
    lines = parse_polylines(pa.array(["_p~iF~ps|U_ulLnnqC_mqNvxq`@"]))
    assert lines.lat.tolist() == pytest.approx([38.5, 40.7, 43.252])
    assert lines.lon.tolist() == pytest.approx([-120.2, -120.95, -126.453])
    assert polyline_km(lines, 1, spike_ratio=3, spike_min_km=0.2)[0] > 0


def test_gtfs_paths_match_the_hand_computation(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(GTFS)})
    rows = derive(
        engine,
        mode=["metro", "metro", "bus", "地铁", "metro"],
        from_stop=["A1", "A", "A", "D", "A"],
        to_stop=["D", "E", "E", "A", "nowhere"],
    )
    c_to_e = great_circle_km(
        np.array([32.02]), np.array([118.80]), np.array([32.02]), np.array([118.81])
    )[0]
    a_to_e = great_circle_km(
        np.array([32.00]), np.array([118.80]), np.array([32.02]), np.array([118.81])
    )[0]
    assert rows[0]["distance_km"] == pytest.approx(
        3 * HOP_KM, rel=1e-12
    )  # platform A1 belongs to station A
    assert rows[1]["distance_km"] == pytest.approx(
        2 * HOP_KM + c_to_e, rel=1e-12
    )  # metro: A, B, C, then line 2
    assert rows[2]["distance_km"] == pytest.approx(a_to_e, rel=1e-12)  # the bus runs straight to E
    assert rows[3]["distance_km"] == pytest.approx(
        3 * HOP_KM, rel=1e-12
    )  # southbound trips exist too
    assert [row["distance_source"] for row in rows[:4]] == ["gtfs"] * 4
    assert rows[4]["status"] == "bad_distance"
    assert "not a stop of the GTFS feed" in str(rows[4]["message"])


def test_gtfs_stop_ids_are_trimmed_and_unknown_ones_rejected(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(GTFS)})
    rows = derive(
        engine,
        mode=["metro"] * 4,
        from_stop=[" A1 ", "A", "\tD", " nowhere "],
        to_stop=["D", "D ", "A", "A"],
    )
    assert [row["distance_km"] for row in rows[:3]] == pytest.approx([3 * HOP_KM] * 3, rel=1e-12)
    assert rows[3]["status"] == "bad_distance"
    assert "not a stop of the GTFS feed" in str(rows[3]["message"])


def test_a_reported_distance_wins_and_says_so(engine: Engine) -> None:
    rows = derive(engine, mode=["walk"], distance=["2"], steps=["10000"])
    assert rows[0]["distance_km"] == 2.0
    assert rows[0]["distance_source"] == "reported"


def test_stops_without_a_feed_are_a_clear_rejection(engine: Engine) -> None:
    row = derive(engine, mode=["metro"], from_stop=["A"], to_stop=["D"])[0]
    assert row["status"] == "bad_distance"
    assert "--gtfs" in str(row["message"])


def test_a_missing_feed_is_a_file_level_error(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, distance_options={"gtfs": "/nonexistent/feed.zip"})
    with pytest.raises(InputError, match="no such file"):
        derive(engine, mode=["metro"], from_stop=["A"], to_stop=["D"])


def test_a_gtfs_zip_works_like_a_folder(catalog: Catalog, tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "feed.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for path in GTFS.glob("*.txt"):
            handle.write(path, path.name)
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(archive)})
    assert derive(engine, mode=["metro"], from_stop=["A"], to_stop=["D"])[0][
        "distance_km"
    ] == pytest.approx(3 * HOP_KM)
