"""Plausibility: quarantined trips keep their savings for review and earn nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import Catalog, Engine, InputError


def trip(**values: object) -> dict[str, list[object]]:
    base: dict[str, object] = {
        "trip_id": "a",
        "user_id": "u",
        "mode": "walk",
        "distance": "1",
        "started_at": "2024-05-01T08:00:00+08:00",
        "ended_at": "2024-05-01T09:00:00+08:00",
    }
    base.update(values)
    return {name: [value] for name, value in base.items()}


def rows(*trips: dict[str, list[object]]) -> dict[str, list[object]]:
    merged: dict[str, list[object]] = {}
    for one in trips:
        for name, values in one.items():
            merged.setdefault(name, []).extend(values)
    return merged


def test_exactly_the_speed_limit_is_accepted_and_just_over_is_quarantined(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog)
    limit = catalog.modes.get("walk").speed.max_kmh  # 15.67 km/h
    result = engine.compute(
        rows(
            trip(trip_id="a", distance=str(limit)),
            trip(trip_id="b", user_id="v", distance=str(limit + 0.001)),
        )
    ).table
    assert result.column("status").to_pylist() == ["ok", "suspect_speed"]
    credits = result.column("credits").to_pylist()
    assert credits[0] > 0
    assert credits[1] == 0
    assert result.column("savings_g").to_pylist()[1] > 0  # computed, for review
    assert "outside walk's plausible 0-15.67 km/h" in result.column("message")[1].as_py()


def test_a_trip_with_no_duration_and_a_distance_is_too_fast(catalog: Catalog) -> None:
    result = Engine(catalog=catalog).compute(trip(ended_at="2024-05-01T08:00:00+08:00")).table
    assert result.column("status").to_pylist() == ["suspect_speed"]


def test_the_speed_bound_holds_for_times_far_from_1970(catalog: Catalog) -> None:
    # Microseconds past 2**53 (year 2255) are not exact in float64: the duration is taken
    # in whole microseconds first, so a trip just inside the bound stays inside.
    limit = catalog.modes.get("walk").speed.max_kmh
    start, micros = 2**53 + 3, 3_600_000_001
    hours = micros / 3.6e9
    distance = np.nextafter(limit * hours, 0.0)
    while distance / hours <= limit:
        distance = np.nextafter(distance, np.inf)
    inside = np.nextafter(distance, 0.0)  # the longest walk at or under the bound
    stamp = pa.timestamp("us", tz="UTC")
    trips = pa.table(
        {
            "trip_id": ["in", "over"],
            "user_id": ["u", "v"],
            "mode": ["walk", "walk"],
            "distance": [float(inside), float(distance)],
            "started_at": pa.array([start, start], stamp),
            "ended_at": pa.array([start + micros, start + micros], stamp),
        }
    )
    statuses = Engine(catalog=catalog).compute(trips).table.column("status").to_pylist()
    assert statuses == ["ok", "suspect_speed"]


def test_a_trip_that_took_no_time_is_too_fast_whatever_its_distance() -> None:
    from carbonfoot.intake.plausibility import _outside_speed

    start = np.array([0, 0, 0], dtype=np.int64)
    end = np.array([0, 0, 3_600_000_000], dtype=np.int64)
    outside = _outside_speed(
        np.array([0.0, 1.0, 1.0]),
        start,
        end,
        np.zeros(3, dtype=np.int32),
        np.array([0.0]),
        np.array([15.67]),
    )
    assert outside.tolist() == [True, True, False]


def test_limits_are_configuration(catalog: Catalog) -> None:
    engine = Engine(
        catalog=catalog,
        plausibility={"modes": {"walk": {"max_kmh": 6, "max_trip_km": 5, "max_daily_km": 8}}},
    )
    result = engine.compute(
        rows(
            trip(trip_id="a", distance="6.5"),  # 6.5 km/h
            trip(
                trip_id="b", user_id="v", distance="5.5", ended_at="2024-05-01T10:00:00+08:00"
            ),  # too long a walk
            trip(trip_id="c", user_id="w", distance="4.5", ended_at="2024-05-01T10:00:00+08:00"),
            trip(
                trip_id="d",
                user_id="w",
                distance="4.5",
                started_at="2024-05-01T11:00:00+08:00",
                ended_at="2024-05-01T13:00:00+08:00",
            ),
        )
    ).table
    assert result.column("status").to_pylist() == [
        "suspect_speed",
        "suspect_distance",
        "suspect_daily_distance",
        "suspect_daily_distance",
    ]


def test_overlapping_trips_of_one_user_are_quarantined_after_the_first(catalog: Catalog) -> None:
    result = (
        Engine(catalog=catalog)
        .compute(
            rows(
                trip(
                    trip_id="a",
                    started_at="2024-05-01T08:00:00+08:00",
                    ended_at="2024-05-01T09:00:00+08:00",
                ),
                trip(
                    trip_id="b",
                    started_at="2024-05-01T09:00:00+08:00",
                    ended_at="2024-05-01T09:30:00+08:00",
                ),  # touches: fine
                trip(
                    trip_id="c",
                    started_at="2024-05-01T08:30:00+08:00",
                    ended_at="2024-05-01T08:45:00+08:00",
                ),  # inside a
                trip(
                    trip_id="d",
                    user_id="v",
                    started_at="2024-05-01T08:30:00+08:00",
                    ended_at="2024-05-01T08:45:00+08:00",
                ),
            )
        )
        .table
    )
    assert result.column("status").to_pylist() == ["ok", "ok", "suspect_overlap", "ok"]


def test_the_same_ride_reported_twice_is_a_suspect_duplicate(catalog: Catalog) -> None:
    engine = Engine(catalog=catalog, plausibility={"duplicate_window_s": 120, "overlap": False})
    result = engine.compute(
        rows(
            trip(trip_id="a", mode="bus", distance="5"),
            trip(
                trip_id="a-app2", mode="bus", distance="5", started_at="2024-05-01T08:02:00+08:00"
            ),
            trip(
                trip_id="b",
                mode="bus",
                distance="5",
                started_at="2024-05-01T08:02:01+08:00",
                user_id="v",
            ),
            trip(trip_id="c", mode="metro", distance="5", started_at="2024-05-01T08:01:00+08:00"),
        )
    ).table
    assert result.column("status").to_pylist() == ["ok", "suspect_duplicate", "ok", "ok"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"modes": {"walk": {"max_kmh": -1}}}, "above 0"),
        ({"modes": {"hovercraft": {"max_kmh": 3}}}, "unknown mode"),
        ({"window": 3}, "unknown setting"),
        ({"modes": {"walk": {"max_kmh": 0.1, "min_kmh": 1}}}, "above min_kmh"),
    ],
)
def test_bad_plausibility_settings_are_refused(
    catalog: Catalog, config: dict[str, object], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        Engine(catalog=catalog, plausibility=config)
