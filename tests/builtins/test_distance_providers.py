"""Distances derived from steps, coordinates and polylines, checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import Catalog, Engine, InputError
from carbonfoot.distances.geo import great_circle_km, parse_polylines, polyline_km
from tests.builtins.trips import HOP_KM, derive


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


def test_a_reported_distance_wins_and_says_so(engine: Engine) -> None:
    rows = derive(engine, mode=["walk"], distance=["2"], steps=["10000"])
    assert rows[0]["distance_km"] == 2.0
    assert rows[0]["distance_source"] == "reported"


def test_a_derived_distance_over_the_limit_is_rejected_for_the_limit(engine: Engine) -> None:
    twice_round = [[0, 0], [90, 0], [180, 0], [-90, 0], [0, 0]] * 2
    row = derive(engine, mode=["bike"], polyline=[str(twice_round)])[0]
    assert row["status"] == "bad_distance"
    message = str(row["message"])
    assert "longer than 40,075.017 km, the Earth's circumference" in message
    assert "not a polyline" not in message
    assert "neither" not in message
    figure = float(message.split("the derived distance ")[1].split(" km")[0])
    # eight quarters of the equator (the repeated [0, 0] adds nothing)
    assert figure == pytest.approx(8 * math.pi / 2 * 6371.0088, rel=1e-6)
