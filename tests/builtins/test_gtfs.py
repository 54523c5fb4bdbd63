"""The GTFS distance provider: shortest paths along a feed, checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from carbonfoot import Catalog, Engine, InputError
from carbonfoot.distances.geo import great_circle_km
from tests.builtins.trips import GTFS, HOP_KM, derive


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
    assert [row["distance_source"] for row in rows[:4]] == ["gtfs-hops"] * 4
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
