"""Bad input: every row ends with one status and a message naming its row and column."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import Engine, InputError

Trips = Callable[..., dict[str, list[Any]]]


def statuses(engine: Engine, trips: Any, **options: Any) -> list[str]:
    return engine.compute(trips, **options).table.column("status").to_pylist()


def messages(engine: Engine, trips: Any) -> list[str | None]:
    return engine.compute(trips).table.column("message").to_pylist()


@pytest.mark.parametrize(
    ("distance", "fragment"),
    [
        ("abc", "'abc' is not a number"),
        ("-3", "'-3' is negative"),
        ("0", "'0' is zero"),
        ("nan", "'nan' is not a number"),
        ("NaN", "is not a number"),
        ("inf", "is not a number"),
        ("1e400", "'1e400' is not finite"),
        ("", "is empty"),
        ("  ", "is empty"),
        ("40076", "longer than 40,075.017 km"),
        ("1,5", "is not a number"),
        ("5 km", "is not a number"),
    ],
)
def test_bad_distances(engine: Engine, make_trips: Trips, distance: str, fragment: str) -> None:
    trips = make_trips(distance=["2", distance])
    assert statuses(engine, trips) == ["ok", "bad_distance"]
    message = messages(engine, trips)[1]
    assert message is not None
    assert message.startswith("row 2: column 'distance': ")
    assert fragment in message


def test_a_distance_too_small_to_be_a_number_of_kilometres_is_rejected(
    engine: Engine, make_trips: Trips
) -> None:
    trips = make_trips(distance=["2", "5e-324"])  # metres: 5e-327 km rounds to 0
    assert statuses(engine, trips, distance_unit="m") == ["ok", "bad_distance"]
    message = engine.compute(trips, distance_unit="m").table.column("message")[1].as_py()
    assert "'5e-324' is too small: 0 km once converted to kilometres" in message


@pytest.mark.parametrize("distance", [float("nan"), float("inf"), -1.0, 0.0, None, 1e300])
def test_bad_numeric_distances(engine: Engine, make_trips: Trips, distance: float | None) -> None:
    assert statuses(engine, make_trips(distance=[1.0, distance])) == ["ok", "bad_distance"]


@pytest.mark.parametrize(
    ("unit", "fragment"),
    [
        ("kg", "not a length"),
        ("furlongs", "unknown distance unit"),
        ("9**9**9", "unknown distance unit"),
        ("km*0+1", "unknown distance unit"),
        ("__import__('os').system('true')", "unknown distance unit"),
    ],
)
def test_bad_units_are_rejected_fast_without_pint_evaluating_them(
    engine: Engine, make_trips: Trips, unit: str, fragment: str
) -> None:
    trips = make_trips(distance=[1.0, 1.0], distance_unit=["km", unit])
    started = time.perf_counter()
    result = engine.compute(trips).table
    assert time.perf_counter() - started < 2.0
    assert result.column("status").to_pylist() == ["ok", "bad_unit"]
    assert fragment in result.column("message")[1].as_py()
    assert "column 'distance_unit'" in result.column("message")[1].as_py()


def test_an_empty_unit_cell_takes_the_default_unit(engine: Engine, make_trips: Trips) -> None:
    result = engine.compute(
        make_trips(distance=[1000.0, 2.0], distance_unit=["m", ""]), distance_unit="mi"
    ).table
    assert result.column("distance_km").to_pylist() == pytest.approx([1.0, 2 * 1.609344])


def test_a_bad_default_unit_is_a_file_level_error(engine: Engine, make_trips: Trips) -> None:
    with pytest.raises(InputError, match="default distance unit"):
        engine.compute(make_trips(distance=[1.0]), distance_unit="parsec")


@pytest.mark.parametrize(
    "started",
    [
        "yesterday",
        "2024-02-30T08:00:00+08:00",
        "2024-13-01T08:00:00",
        "2024-05-01",
        "",
        "2024-05-01T25:00:00Z",
    ],
)
def test_bad_times(engine: Engine, make_trips: Trips, started: str) -> None:
    trips = make_trips(started_at=["2024-05-01T08:00:00Z", started, "2024-05-01 09:00"])
    assert statuses(engine, trips) == ["ok", "bad_time", "ok"]
    assert "column 'started_at'" in messages(engine, trips)[1]  # type: ignore[operator]


def test_an_end_before_the_start_is_a_bad_time(engine: Engine, make_trips: Trips) -> None:
    trips = make_trips(
        started_at=["2024-05-01T08:00:00Z"] * 2,
        ended_at=["2024-05-01T08:30:00Z", "2024-05-01T07:00:00Z"],
    )
    assert statuses(engine, trips) == ["ok", "bad_time"]
    assert "is before started_at" in messages(engine, trips)[1]  # type: ignore[operator]


def test_naive_times_are_in_the_policy_time_zone(engine: Engine, make_trips: Trips) -> None:
    trips = make_trips(started_at=["2024-05-01T23:30:00", "2024-05-01T23:30:00Z"])
    table = engine.compute(trips).table
    assert [str(day) for day in table.column("credit_day").to_pylist()] == [
        "2024-05-01",
        "2024-05-02",
    ]


def test_identity_problems(engine: Engine, make_trips: Trips) -> None:
    trips = make_trips(trip_id=["a", "", "a", "b", None], user_id=["u", "u", "u", " ", "u"])
    assert statuses(engine, trips) == [
        "ok",
        "missing_trip_id",
        "duplicate_trip_id",
        "missing_user",
        "missing_trip_id",
    ]
    assert messages(engine, trips)[2] == "row 3: column 'trip_id': 'a' already appears in row 1"


def test_unknown_and_empty_modes(engine: Engine, make_trips: Trips) -> None:
    trips = make_trips(mode=["地铁", "hovercraft", "", None])
    assert statuses(engine, trips) == ["ok", "unknown_mode", "unknown_mode", "unknown_mode"]
    assert "'hovercraft' is not an installed mode" in messages(engine, trips)[1]  # type: ignore[operator]


def test_row_numbers_follow_the_offset(engine: Engine, make_trips: Trips) -> None:
    result = engine.compute(make_trips(distance=[1.0, -1.0]), row_offset=1000).table
    assert result.column("message")[1].as_py().startswith("row 1002:")


def test_the_first_reason_in_column_order_wins(engine: Engine, make_trips: Trips) -> None:
    trips = make_trips(user_id=[""], mode=["hovercraft"], distance=["abc"], started_at=["never"])
    assert statuses(engine, trips) == ["missing_user"]


@pytest.mark.parametrize("missing", ["trip_id", "user_id", "mode", "distance", "started_at"])
def test_a_missing_column_is_a_file_level_error_naming_it(
    engine: Engine, make_trips: Trips, missing: str
) -> None:
    trips = make_trips(distance=[1.0])
    del trips[missing]
    with pytest.raises(InputError, match=f"missing column\\(s\\) {missing}"):
        engine.compute(trips)


def test_columns_of_other_types_are_judged_row_by_row(engine: Engine) -> None:
    trips = {
        "trip_id": [1, 2, 3],
        "user_id": [10, 11, 12],
        "mode": ["bus", 7, "walk"],
        "distance": [1.5, "x", True],
        "started_at": ["2024-05-01T08:00:00Z", 5, None],
    }
    result = engine.compute(trips).table
    assert result.column("status").to_pylist() == ["ok", "unknown_mode", "bad_distance"]
    assert result.column("trip_id").to_pylist() == ["1", "2", "3"]


def test_timestamp_and_numpy_columns_are_accepted(engine: Engine) -> None:
    trips = {
        "trip_id": np.array(["a", "b"]),
        "user_id": np.array(["u", "v"]),
        "mode": np.array(["bus", "metro"]),
        "distance": np.array([1.0, 2.0]),
        "started_at": pa.array([0, 3_600_000_000], type=pa.timestamp("us", tz="UTC")),
    }
    assert statuses(engine, trips) == ["ok", "ok"]


def test_pandas_frames_are_accepted(engine: Engine) -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(
        {
            "trip_id": ["a", "b"],
            "user_id": ["u", "u"],
            "mode": ["bus", "tram"],
            "distance": [1.0, np.nan],
            "started_at": ["2024-05-01T08:00:00Z", "2024-05-01T09:00:00Z"],
        }
    )
    assert statuses(engine, frame) == ["ok", "bad_distance"]


def test_an_unreadable_input_type_is_an_input_error(engine: Engine) -> None:
    with pytest.raises(InputError, match="cannot read trips from int"):
        engine.compute(42)


def test_ids_are_trimmed_so_a_padded_repeat_is_still_a_duplicate(
    engine: Engine, make_trips: Trips
) -> None:
    trips = make_trips(trip_id=["a1", "a1 ", " a1"], user_id=["u", "u ", "u"])
    result = engine.compute(trips).table
    assert result.column("status").to_pylist() == ["ok", "duplicate_trip_id", "duplicate_trip_id"]
    assert result.column("user_id").to_pylist() == ["u", "u", "u"]


def test_a_repeated_column_is_a_file_level_error(engine: Engine) -> None:
    table = pa.table(
        [["a"], ["u"], ["bus"], ["1"], ["2024-05-01T08:00:00Z"], ["2"]],
        names=["trip_id", "user_id", "mode", "distance", "started_at", "distance"],
    )
    with pytest.raises(InputError, match="appears twice"):
        engine.compute(table)


def test_column_names_match_trimmed_and_case_insensitively(engine: Engine) -> None:
    table = pa.table(
        [["a"], ["u"], ["bus"], ["1"], ["2024-05-01T08:00:00Z"]],
        names=["Trip_ID", " user_id", "MODE", "Distance", "started_at "],
    )
    assert statuses(engine, table) == ["ok"]


def test_a_semicolon_file_gets_a_delimiter_hint(engine: Engine) -> None:
    with pytest.raises(InputError, match=r"seems separated by ';', not commas: give --delimiter"):
        engine.compute(pa.table({"trip_id;user_id;mode;distance;started_at": ["a;u;bus;1;x"]}))
