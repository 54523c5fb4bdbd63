"""A real bike-share operator export through carbonfoot: every row accounted for, and the
default distance limits pass every real trip while flagging the same trips typed in metres.

The data (tests/data/citibike-2017-07, README beside it) is Citi Bike's own export; its
columns are turned into carbonfoot's here, and the expected distances are a haversine
written in this test, not carbonfoot's output.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from carbonfoot import Catalog, Engine

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "citibike-2017-07" / "trips.csv"
#: The export's times are New York local time; July is EDT.
EDT = "-04:00"
#: IUGG mean Earth radius (Moritz, Geodetic Reference System 1980), the radius carbonfoot's
#: great circles use too.
MEAN_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    h = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * MEAN_RADIUS_KM * math.asin(math.sqrt(h))


def export() -> list[dict[str, str]]:
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def as_trips(rows: list[dict[str, str]], *, distance: list[Any] | None = None) -> pa.Table:
    """The operator's columns as carbonfoot's: one user per rental (the export has no rider
    id), station coordinates for the ``gps`` provider, local times with their offset."""
    columns: dict[str, Any] = {
        "trip_id": [f"citibike-201707-{i}" for i in range(len(rows))],
        "user_id": [f"rental-{i}" for i in range(len(rows))],
        "mode": ["shared-bike"] * len(rows),
        "started_at": [r["starttime"].replace(" ", "T") + EDT for r in rows],
        "ended_at": [r["stoptime"].replace(" ", "T") + EDT for r in rows],
        "start_lat": [float(r["start station latitude"]) for r in rows],
        "start_lon": [float(r["start station longitude"]) for r in rows],
        "end_lat": [float(r["end station latitude"]) for r in rows],
        "end_lon": [float(r["end station longitude"]) for r in rows],
    }
    if distance is not None:
        columns["distance"] = distance
    return pa.table(columns)


def station_km(rows: list[dict[str, str]]) -> list[float]:
    return [
        haversine_km(
            float(r["start station latitude"]),
            float(r["start station longitude"]),
            float(r["end station latitude"]),
            float(r["end station longitude"]),
        )
        for r in rows
    ]


def test_the_sample_is_the_export_it_says() -> None:
    rows = export()
    assert len(rows) == 300
    assert list(rows[0])[:3] == ["tripduration", "starttime", "stoptime"]
    # The export's own duration agrees with its times (a check on reading them as local).
    for row in rows:
        start = dt.datetime.fromisoformat(row["starttime"])
        stop = dt.datetime.fromisoformat(row["stoptime"])
        assert abs((stop - start).total_seconds() - int(row["tripduration"])) <= 1


def test_every_real_rental_is_accounted_for_and_none_is_over_a_distance_limit(
    catalog: Catalog,
) -> None:
    rows = export()
    expected = station_km(rows)
    table = Engine("uk-desnz-2025", catalog=catalog).compute(as_trips(rows)).table
    assert table.num_rows == len(rows)
    statuses = table.column("status").to_pylist()
    messages = table.column("message").to_pylist()
    for status, message in zip(statuses, messages, strict=True):
        assert status == "ok" or message, "a row that is not ok says why"
    assert "suspect_distance" not in statuses
    assert "suspect_daily_distance" not in statuses
    # Rentals returned where they started have no station-to-station distance: refused,
    # with a reason, never paid; every other rental is paid on the haversine distance.
    for km, status, got, credits in zip(
        expected,
        statuses,
        table.column("distance_km").to_pylist(),
        table.column("credits").to_pylist(),
        strict=True,
    ):
        if km == 0:
            assert status != "ok"
            assert not credits
        else:
            assert status == "ok"
            assert got == pytest.approx(km, rel=1e-9)
    limit = catalog.modes.get("shared-bike").max_trip_km
    assert limit is not None
    assert max(expected) < limit / 5  # real rentals are far inside the limit


def test_the_same_rentals_typed_in_metres_are_quarantined(catalog: Catalog) -> None:
    rows = export()
    metres = [km * 1000 for km in station_km(rows)]
    engine = Engine("uk-desnz-2025", catalog=catalog)
    # Without end times there is no speed check: the distance limit alone catches them.
    trips = as_trips(rows, distance=metres).drop_columns(["ended_at"])
    table = engine.compute(trips).table
    limit = catalog.modes.get("shared-bike").max_trip_km
    assert limit is not None
    for value, status, credits in zip(
        metres, table.column("status").to_pylist(), table.column("credits").to_pylist(), strict=True
    ):
        if value > limit:
            assert status == "suspect_distance"
            assert credits == 0
        elif value > 0:
            assert status == "ok"  # a rental of under 80 m is a plausible distance in km
    assert sum(value > limit for value in metres) >= 290
    # With end times the speed check catches them first; either way nothing is paid.
    timed = engine.compute(as_trips(rows, distance=metres)).table
    assert set(timed.column("credits").to_pylist()) <= {0, None}
