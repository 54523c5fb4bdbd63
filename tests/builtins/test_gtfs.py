"""The GTFS distance provider: shortest paths along a feed, checked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def copy_feed(tmp_path: Path) -> Path:
    import shutil

    feed = tmp_path / "feed"
    shutil.copytree(GTFS, feed)
    return feed


def test_a_stop_whose_parent_is_missing_is_a_station_of_its_own(
    catalog: Catalog, tmp_path: Path
) -> None:
    feed = copy_feed(tmp_path)
    stops = (feed / "stops.txt").read_text().splitlines()
    (feed / "stops.txt").write_text(
        "\n".join(line for line in stops if not line.startswith("A,")) + "\n"
    )
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(feed)})
    rows = derive(engine, mode=["metro", "metro"], from_stop=["A1", "A"], to_stop=["D", "D"])
    assert rows[0]["status"] == "ok"
    assert rows[0]["distance_km"] == pytest.approx(3 * HOP_KM, rel=1e-12)
    assert "not a stop of the GTFS feed" in str(rows[1]["message"])  # A itself is gone


@pytest.mark.parametrize(
    ("name", "line", "key"),
    [
        ("stops.txt", "B,Station B again,32.5,118.5,0,", "stop_id 'B'"),
        ("trips.txt", None, "trip_id 'L1-north'"),
    ],
)
def test_a_feed_with_a_repeated_id_is_refused_by_name(
    catalog: Catalog, tmp_path: Path, name: str, line: str | None, key: str
) -> None:
    feed = copy_feed(tmp_path)
    lines = (feed / name).read_text().splitlines()
    repeated = line or next(row for row in lines if "L1-north" in row)
    (feed / name).write_text("\n".join([*lines, repeated]) + "\n")
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(feed)})
    with pytest.raises(InputError, match=f"{key} appears 2 times in {name}"):
        derive(engine, mode=["metro"], from_stop=["A"], to_stop=["D"])


def test_a_zip_that_unpacks_past_the_bound_is_refused(tmp_path: Path) -> None:
    import zipfile

    from carbonfoot_builtins.gtfs.feed import Feed

    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        for path in GTFS.glob("*.txt"):
            handle.write(path, path.name)
        handle.writestr("shapes.txt", "shape_id\n" + "x\n" * 2_000_000)  # 4 MB, 4 kB packed
    assert archive.stat().st_size < 100_000
    with pytest.raises(InputError, match="unpack to 4,0"):
        Feed(archive, max_bytes=1_000_000)
    # What is read is counted too (a zip header can understate a member's size).
    feed = Feed(archive, max_bytes=5_000_000)
    feed.table("shapes.txt", ["shape_id"])
    with pytest.raises(InputError, match="limit"):
        feed.table("shapes.txt", ["shape_id"])


def test_a_path_is_labelled_by_the_least_precise_method_it_needs(
    catalog: Catalog, tmp_path: Path
) -> None:
    # Line 1 gets a shape through its stations; line 2 and the bus have none.
    feed = copy_feed(tmp_path)
    (feed / "shapes.txt").write_text(
        "shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
        + "".join(f"S1,{32.00 + i * 0.005:.3f},118.80,{i}\n" for i in range(7))
    )
    trips = (feed / "trips.txt").read_text().splitlines()
    header = trips[0] + ",shape_id"
    body = [row + (",S1" if "L1-north" in row else ",") for row in trips[1:]]
    (feed / "trips.txt").write_text("\n".join([header, *body]) + "\n")
    engine = Engine(catalog=catalog, distance_options={"gtfs": str(feed)})
    rows = derive(
        engine, mode=["metro", "metro", "metro"], from_stop=["A", "A", "D"], to_stop=["D", "E", "A"]
    )
    assert rows[0]["distance_km"] == pytest.approx(3 * HOP_KM, rel=1e-9)  # a straight shape
    assert [row["distance_source"] for row in rows] == ["gtfs-shape", "gtfs-hops", "gtfs-hops"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("gtfs_distance_unit", "furlongs"),
        ("gtfs_count_walks", "maybe"),
        ("gtfs_same_station_m", "-5"),
        ("gtfs_walks", "true"),
    ],
)
def test_a_mistyped_gtfs_option_is_an_error(catalog: Catalog, name: str, value: str) -> None:
    options = {"gtfs": str(GTFS), name: value}
    with pytest.raises(InputError, match=name if name != "gtfs_walks" else "unknown"):
        Engine(catalog=catalog, distance_options=options)


@settings(max_examples=60, deadline=None)
@given(
    unit=st.sampled_from(["kilometer", "meter", "mile", "foot"]),
    circuity=st.floats(min_value=0.951, max_value=1.499),
    hops=st.lists(st.floats(min_value=0.05, max_value=5.0), min_size=1, max_size=40),
)
def test_the_unit_of_shape_dist_traveled_is_told_by_the_median_circuity(
    unit: str, circuity: float, hops: list[float]
) -> None:
    from carbonfoot.units import km_per_unit
    from carbonfoot_builtins.gtfs.hops import detect_unit_km

    straight = np.array(hops)
    in_unit = straight * circuity / km_per_unit(unit)
    assert detect_unit_km(in_unit, straight) == pytest.approx(km_per_unit(unit))
    # Distances shorter than the straight lines fit no unit: they are not taken.
    assert detect_unit_km(straight * 0.5, straight) is None
