"""GeoJSON lines as RFC 7946 defines them: positions of 2+ numbers, geometries, features.

Expected lengths come from a haversine written here, on the same sphere (IUGG mean
radius, 6,371.0088 km), not from the library's own function.
"""

from __future__ import annotations

import itertools
import json
import math

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonfoot import Engine
from carbonfoot.distances.geo import parse_polylines, polyline_km
from tests.builtins.trips import derive

RADIUS_KM = 6371.0088


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great circle between two (lon, lat) points in degrees."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * RADIUS_KM * math.asin(math.sqrt(h))


def path_km(points: list[tuple[float, float]]) -> float:
    return sum(haversine_km(a, b) for a, b in itertools.pairwise(points))


# a 300 m ride in Nanjing, with the altitudes a GPX converter writes
RIDE = [(118.7800, 32.0400), (118.7810, 32.0405), (118.7821, 32.0409), (118.7830, 32.0412)]
RIDE_3D = [[lon, lat, 12.5 + i] for i, (lon, lat) in enumerate(RIDE)]


def lengths(texts: list[str | None], *, spikes: bool = True) -> list[float]:
    """Lengths as the provider measures them (by default its spike filter, else none)."""
    lines = parse_polylines(pa.array(texts, pa.string()))
    ratio, minimum = (3, 0.2) if spikes else (1e9, 1e9)
    return polyline_km(lines, len(texts), spike_ratio=ratio, spike_min_km=minimum).tolist()


def test_a_ride_with_altitudes_is_its_2d_length_not_pairs_of_numbers(engine: Engine) -> None:
    row = derive(engine, mode=["bike"], polyline=[json.dumps(RIDE_3D)])[0]
    assert row["status"] == "ok"
    assert row["distance_source"] == "polyline"
    assert row["distance_km"] == pytest.approx(path_km(RIDE), rel=1e-9)
    assert 0.25 < row["distance_km"] < 0.35  # not 10,000 km


def test_positions_of_two_three_and_four_numbers_give_one_length() -> None:
    two = [[lon, lat] for lon, lat in RIDE]
    four = [[lon, lat, 8848.0, 1714550400] for lon, lat in RIDE]  # altitude and a time
    mixed = [two[0], RIDE_3D[1], four[2], two[3]]
    got = lengths([json.dumps(line) for line in (two, RIDE_3D, four, mixed)])
    assert got == pytest.approx([path_km(RIDE)] * 4, rel=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.floats(-179.0, 179.0),
            st.floats(-80.0, 80.0),
            st.lists(st.floats(-500, 9000, allow_nan=False), max_size=3),
        ),
        min_size=2,
        max_size=12,
    )
)
def test_extra_numbers_in_positions_never_change_the_length(
    points: list[tuple[float, float, list[float]]],
) -> None:
    flat = json.dumps([[lon, lat] for lon, lat, _ in points])
    extended = json.dumps([[lon, lat, *extra] for lon, lat, extra in points])
    lines = parse_polylines(pa.array([flat, extended]))
    km = polyline_km(lines, 2, spike_ratio=1e9, spike_min_km=1e9)  # no spike filter
    expected = path_km([(lon, lat) for lon, lat, _ in points])
    assert km[0] == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert km[1] == km[0]


def test_geometries_features_and_collections_are_lines() -> None:
    west = [[118.78, 32.04, 10], [118.78, 32.05, 11]]
    east = [[118.90, 32.04], [118.90, 32.06]]  # 11 km east of the first line's end
    line = {"type": "LineString", "coordinates": west}
    multi = {"type": "MultiLineString", "coordinates": [west, east]}
    feature = {"type": "Feature", "properties": {"name": "ride [1]"}, "geometry": line}
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [118.7, 32.0]}},
            {"type": "Feature", "properties": None, "geometry": multi},
            {"type": "Feature", "properties": {}, "geometry": line},
            {"type": "Feature", "properties": {}, "geometry": None},
        ],
    }
    reordered = (
        '{"coordinates": ' + json.dumps(west) + ', "bbox": [0, 0, 1, 1], "type": "LineString"}'
    )
    pretty = json.dumps(feature, indent=2)
    got = lengths([json.dumps(v) for v in (line, multi, feature, collection)] + [reordered, pretty])
    west_km = path_km([(p[0], p[1]) for p in west])
    east_km = path_km([(p[0], p[1]) for p in east])
    assert got == pytest.approx(
        [west_km, west_km + east_km, west_km, 2 * west_km + east_km, west_km, west_km], rel=1e-12
    )  # no jump from one line of a MultiLineString to the next


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"type": "Point", "coordinates": [118.7, 32.0]}', "Point, not a line"),
        ('{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}', "Polygon"),
        ('{"type": "GeometryCollection", "geometries": []}', "GeometryCollection"),
        ('{"type": "Feature", "geometry": null}', "without a geometry"),
        ('{"type": "FeatureCollection", "features": []}', "no LineString"),
        ('{"type": "Circle", "coordinates": [[0, 0], [1, 1]]}', "not a GeoJSON geometry type"),
        ('{"type": "LineString", "coordinates": [[0, 0], [1, NaN]]}', "not valid JSON"),
        ('{"type": "LineString", "coordinates": [[0, 0], [1, true]]}', "JSON numbers"),
        ("[[[118.78, 32.04], [118.78, 32.05]]]", "nested three deep"),
        ("[[118.78], [118.78, 32.05]]", "one number"),
        ("[118.78, 32.05]", "one position"),
        ("[[118.78, 32.05]]", "fewer than 2 positions"),
        ("[[32.05, 118.78], [32.06, 118.78]]", "outside longitude"),
        ("[[118.78, 32.05], [118.78, .5]]", "JSON numbers"),
    ],
)
def test_anything_else_is_rejected_with_its_reason(engine: Engine, text: str, reason: str) -> None:
    row = derive(engine, mode=["bike"], polyline=[text])[0]
    assert row["status"] == "bad_distance"
    assert reason in str(row["message"])


def test_a_broken_encoded_polyline_does_not_spoil_the_next_row() -> None:
    documented = "_p~iF~ps|U_ulLnnqC_mqNvxq`@"  # Google's documented example
    got = lengths(["_p~iF~ps|U_ul", documented])  # the first stops inside a value
    assert math.isnan(got[0])
    expected = path_km([(-120.2, 38.5), (-120.95, 40.7), (-126.453, 43.252)])
    assert got[1] == pytest.approx(expected, rel=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(
            st.tuples(st.floats(-179.0, 179.0), st.floats(-80.0, 80.0)), min_size=2, max_size=6
        ),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from([None, 1, "\t"]),
    st.booleans(),
    st.booleans(),
)
def test_every_spelling_of_a_geometry_gives_the_sum_of_its_lines(
    lines: list[list[tuple[float, float]]], indent: int | str | None, flip: bool, wrap: bool
) -> None:
    """Bare geometries are read without json, the rest with it: both must agree."""
    coordinates = [[list(point) for point in line] for line in lines]
    members = [("type", "MultiLineString"), ("coordinates", coordinates)]
    geometry = dict(reversed(members) if flip else members)
    value = {"type": "Feature", "properties": {"n": 1}, "geometry": geometry} if wrap else geometry
    single = {"type": "LineString", "coordinates": coordinates[0]}
    texts = [json.dumps(value, indent=indent), json.dumps(single, indent=indent)]
    got = lengths(texts, spikes=False)
    assert got[0] == pytest.approx(sum(path_km(line) for line in lines), rel=1e-9, abs=1e-9)
    assert got[1] == pytest.approx(path_km(lines[0]), rel=1e-9, abs=1e-9)
