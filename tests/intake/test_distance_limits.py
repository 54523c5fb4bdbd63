"""Every built-in mode has a sourced trip and daily distance limit, and an implausibly long
trip or day of any of them earns nothing under the defaults (issue 15, item 2).

The modes come from the installed catalog, so a mode added later is covered too, and the
limits must be finite: "unset" is not a default for a system that pays money.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine, Mode
from carbonfoot.plugins import default_catalog

README = Path(__file__).resolve().parents[2] / "README.md"
MODE_IDS = default_catalog().modes.ids
START = "2024-05-01T{hour:02d}:00:00+08:00"


def trips(mode: str, distances: list[float], user: str = "u") -> dict[str, list[object]]:
    """Trips of one user on one local day, an hour apart (no end times: no speed check)."""
    return {
        "trip_id": [f"{mode}-{user}-{i}" for i in range(len(distances))],
        "user_id": [user] * len(distances),
        "mode": [mode] * len(distances),
        "distance": distances,
        "started_at": [START.format(hour=6 + i) for i in range(len(distances))],
    }


def test_every_built_in_mode_declares_finite_limits(catalog: Catalog) -> None:
    for mode in catalog.modes:
        assert mode.max_trip_km is not None, mode.id
        assert mode.max_daily_km is not None, mode.id
        assert math.isfinite(mode.max_trip_km), mode.id
        assert math.isfinite(mode.max_daily_km), mode.id
        assert mode.max_daily_km >= mode.max_trip_km, mode.id


def test_a_km_column_typed_in_metres_is_over_every_mode_s_limit(catalog: Catalog) -> None:
    # The examples: a 12 km bike ride typed as 12,000, a 1.5 km walk as 1,500.
    assert catalog.modes.get("bike").max_trip_km < 12_000  # type: ignore[operator]
    assert catalog.modes.get("walk").max_trip_km < 1_500  # type: ignore[operator]
    # And the 900 km bike "trip" over 24 hours that the speed check lets through.
    bike = catalog.modes.get("bike")
    assert bike.speed.max_kmh > 900 / 24
    assert bike.max_daily_km < 900  # type: ignore[operator]


@pytest.mark.parametrize("mode_id", MODE_IDS)
def test_an_implausibly_long_trip_earns_nothing(catalog: Catalog, mode_id: str) -> None:
    mode: Mode = catalog.modes.get(mode_id)
    assert mode.max_trip_km is not None
    limit = mode.max_trip_km
    engine = Engine("uk-desnz-2025", catalog=catalog)
    batch = {
        name: a + b + c
        for (name, a), b, c in zip(
            trips(mode_id, [0.9 * limit], "inside").items(),
            trips(mode_id, [limit * 1.01], "over").values(),
            # A trip of a twentieth of the limit typed in metres (kept below the Earth's
            # circumference, which intake refuses as a distance of its own).
            trips(mode_id, [min(limit * 20, 30_000.0)], "metres").values(),
            strict=True,
        )
    }
    table = engine.compute(batch).table
    assert table.column("status").to_pylist() == ["ok", "suspect_distance", "suspect_distance"]
    assert table.column("credits").to_pylist()[1:] == [0, 0]
    # Computed, for review: the savings are there, only the credits are held back.
    assert None not in table.column("savings_g").to_pylist()
    message = table.column("message")[1].as_py()
    assert f"{mode_id}'s maximum trip of {limit:g} km" in message


@pytest.mark.parametrize("mode_id", MODE_IDS)
def test_an_implausibly_long_day_earns_nothing(catalog: Catalog, mode_id: str) -> None:
    mode = catalog.modes.get(mode_id)
    assert mode.max_trip_km is not None
    assert mode.max_daily_km is not None
    each = 0.9 * mode.max_trip_km  # every trip inside the trip limit
    count = math.floor(mode.max_daily_km / each) + 1  # together over the daily limit
    assert count * each > mode.max_daily_km
    engine = Engine("uk-desnz-2025", catalog=catalog)
    table = engine.compute(trips(mode_id, [each] * count)).table
    assert set(table.column("status").to_pylist()) == {"suspect_daily_distance"}
    assert set(table.column("credits").to_pylist()) == {0}
    # One trip fewer is a plausible day.
    fewer = engine.compute(trips(mode_id, [each] * (count - 1))).table
    assert set(fewer.column("status").to_pylist()) == {"ok"}


def test_limits_are_overridden_in_configuration(catalog: Catalog) -> None:
    engine = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        plausibility={"modes": {"bike": {"max_trip_km": 300, "max_daily_km": 600}}},
    )
    table = engine.compute(trips("bike", [250.0])).table
    assert table.column("status").to_pylist() == ["ok"]
    default = Engine("uk-desnz-2025", catalog=catalog).compute(trips("bike", [250.0])).table
    assert default.column("status").to_pylist() == ["suspect_distance"]


def test_the_readme_table_shows_the_limits_the_modes_declare(catalog: Catalog) -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("#### Default distance limits", 1)[1].split("\n#", 1)[0]
    rows = {
        match[1]: (float(match[2].replace(",", "")), float(match[3].replace(",", "")))
        for match in re.finditer(r"^\| `([a-z-]+)` \| ([\d,.]+) \| ([\d,.]+) \|", section, re.M)
    }
    assert set(rows) == set(catalog.modes.ids)
    for mode in catalog.modes:
        trip, day = rows[mode.id]
        assert trip == pytest.approx(mode.max_trip_km, abs=0.01), mode.id
        assert day == pytest.approx(mode.max_daily_km, abs=0.01), mode.id


def test_a_trip_that_ends_when_it_starts_is_named_so_not_given_an_infinite_speed(
    catalog: Catalog,
) -> None:
    engine = Engine("uk-desnz-2025", catalog=catalog)
    batch = {
        "trip_id": ["instant", "fast"],
        "user_id": ["u", "v"],
        "mode": ["walk", "walk"],
        "distance": [1.5, 20.0],
        "started_at": [START.format(hour=8)] * 2,
        "ended_at": [START.format(hour=8), START.format(hour=9)],
    }
    table = engine.compute(batch).table
    assert table.column("status").to_pylist() == ["suspect_speed", "suspect_speed"]
    instant, fast = table.column("message").to_pylist()
    assert "inf" not in instant
    assert "ends when it starts" in instant
    assert "1.5 km" in instant
    assert "average speed 20 km/h is outside walk's plausible 0-15.67 km/h" in fast


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),  # user
            st.integers(0, 2),  # local day
            st.integers(0, 2),  # mode code
            st.floats(0.0, 6.0, allow_nan=False),  # km
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([1, 10_000_019]),  # dense user codes, or codes far apart
)
def test_daily_totals_are_the_same_dense_or_sparse(
    trips: list[tuple[int, int, int, float]], spread: int
) -> None:
    # A spread of user codes too wide for a dense array takes the ranked path; both must
    # be the definition: a trip is over when its user-day-mode total passes the limit.
    from carbonfoot.intake.plausibility import _over_daily_distance

    users = np.array([t[0] * spread for t in trips], dtype=np.int64)
    days = np.array([t[1] for t in trips], dtype=np.int64)
    codes = np.array([t[2] for t in trips], dtype=np.int32)
    km = np.array([t[3] for t in trips])
    limit = np.array([5.0, 8.0, 12.0])
    totals: dict[tuple[int, int, int], float] = defaultdict(float)
    for user, day, code, distance in trips:
        totals[(user, day, code)] += distance
    expected = [totals[(u, d, c)] > limit[c] for u, d, c, _ in trips]
    got = _over_daily_distance(np.arange(len(trips)), users, days, codes, km, limit, len(trips))
    assert got.tolist() == expected
