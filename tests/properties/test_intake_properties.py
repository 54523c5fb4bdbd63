"""Arbitrary input: nothing escapes but the library's own errors, and no row is lost."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonfoot import CarbonfootError, Engine
from carbonfoot.io import read_trip_file
from carbonfoot.plugins import default_catalog

ENGINE = Engine("uk-desnz-2025", catalog=default_catalog(), plausibility={"duplicate_window_s": 60})

ADVERSARIAL = [
    "9**9**9",
    "9**9**9 km",
    "km*0+1",
    "__import__('os').system('true')",
    "1e400",
    "-0",
    "NaN",
    "inf",
    "${jndi:ldap://x}",
    "'; DROP TABLE trips; --",
    "\x00",
    "地铁",
    "🚇",
    " ",
    "",
    "1" * 400,
]
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(ADVERSARIAL),
)
plausible_time = st.datetimes().map(lambda d: d.isoformat()) | st.sampled_from(
    [
        "2024-05-01T08:00:00+08:00",
        "2024-02-30T08:00:00Z",
        "2024-05-01",
        "24:00",
        "2024-05-01T08:00:00.123456789+08:00",
    ]
)
COLUMNS = [
    "trip_id",
    "user_id",
    "mode",
    "distance",
    "distance_unit",
    "started_at",
    "ended_at",
    "district",
    "steps",
    "start_lat",
    "start_lon",
    "end_lat",
    "end_lon",
    "polyline",
    "from_stop",
    "to_stop",
]


@st.composite
def messy_batches(draw: st.DrawFn) -> dict[str, list[Any]]:
    size = draw(st.integers(1, 20))
    batch: dict[str, list[Any]] = {}
    for name in COLUMNS:
        if name in ("trip_id", "user_id", "mode", "distance", "started_at") or draw(st.booleans()):
            source = (
                plausible_time
                if name in ("started_at", "ended_at") and draw(st.booleans())
                else anything
            )
            if name == "mode" and draw(st.booleans()):
                source = st.sampled_from(["walk", "bus", "地铁", "metro", "car", "hovercraft", ""])
            batch[name] = [draw(source) for _ in range(size)]
    return batch


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(messy_batches())
def test_arbitrary_rows_are_computed_or_rejected_never_lost(batch: dict[str, list[Any]]) -> None:
    started = time.perf_counter()
    try:
        results = ENGINE.compute(batch)
    except CarbonfootError:
        return  # a file-level problem, said in the library's own words
    elapsed = time.perf_counter() - started
    rows = len(batch["trip_id"])
    assert len(results) == rows
    statuses = results.table.column("status").to_pylist()
    assert all(isinstance(status, str) and status for status in statuses)
    computed = sum(1 for s in statuses if s == "ok" or s.startswith("suspect_"))
    rejected = sum(1 for s in statuses if not (s == "ok" or s.startswith("suspect_")))
    assert computed + rejected == rows
    messages = results.table.column("message").to_pylist()
    for status, message in zip(statuses, messages, strict=True):
        assert (message is None) == (status == "ok")
    assert elapsed < 0.1 * rows + 0.5  # no pathological parse: well under 100 ms a row


csv_cells = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
    st.sampled_from(ADVERSARIAL),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    st.lists(st.sampled_from([*COLUMNS, "extra", "Trip_ID", ""]), min_size=0, max_size=8),
    st.lists(st.lists(csv_cells, min_size=0, max_size=9), max_size=15),
    st.binary(max_size=64),
)
def test_csv_intake_fuzz(
    tmp_path: Path, header: list[str], rows: list[list[str]], noise: bytes
) -> None:
    """A fuzz target for the CSV reader and intake: random headers, cells, and raw bytes."""
    path = tmp_path / "fuzz.csv"
    lines = [",".join(header)] + [",".join(cell.replace("\n", " ") for cell in row) for row in rows]
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + noise)
    try:
        table = read_trip_file(path)
        results = ENGINE.compute(table)
    except CarbonfootError:
        return
    assert len(results) == table.num_rows


@st.composite
def user_trips(
    draw: st.DrawFn,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    size = draw(st.integers(1, 40))
    far = draw(st.booleans())  # times decades apart take the ranked fallback
    step = 10**17 if far else 60_000_000
    user = np.array(draw(st.lists(st.integers(0, 5), min_size=size, max_size=size)), dtype=np.int64)
    code = np.array(draw(st.lists(st.integers(0, 3), min_size=size, max_size=size)), dtype=np.int32)
    start = (
        np.array(draw(st.lists(st.integers(0, 50), min_size=size, max_size=size)), dtype=np.int64)
        * step
    )
    length = (
        np.array(draw(st.lists(st.integers(0, 5), min_size=size, max_size=size)), dtype=np.int64)
        * step
    )
    rows = np.array(sorted(draw(st.sets(st.integers(0, size - 1), min_size=1))), dtype=np.intp)
    return user, code, start, start + length, rows


@given(user_trips())
def test_overlap_and_near_duplicate_checks_match_a_plain_loop(
    trips: tuple[np.ndarray, ...],
) -> None:
    from carbonfoot.intake.plausibility import _near_duplicates, _overlapping, _overlapping_users

    user, code, start, end, rows = trips
    size = user.size
    expected_overlap = np.zeros(size, dtype=bool)
    expected_duplicate = np.zeros(size, dtype=bool)
    by_time = sorted(rows.tolist(), key=lambda r: (user[r], start[r], r))
    for i, row in enumerate(by_time):
        earlier = [r for r in by_time[:i] if user[r] == user[row]]
        expected_overlap[row] = any(end[r] > start[row] for r in earlier)
    by_mode = sorted(rows.tolist(), key=lambda r: (user[r], code[r], start[r], r))
    for previous, row in itertools.pairwise(by_mode):
        same = user[previous] == user[row] and code[previous] == code[row]
        expected_duplicate[row] = same and start[row] - start[previous] <= 90 * 1e6
    assert (_overlapping(rows, user, start, end) == expected_overlap).all()
    # None stands for every row; users split into ranges (as on a large batch): same flags.
    choices = (rows, None) if rows.size == size else (rows,)
    for chosen in choices:
        assert (_overlapping(chosen, user, start, end) == expected_overlap).all()
    for parts in (2, 3):
        for chosen in choices:
            split = np.zeros(size, dtype=bool)
            for part in range(parts):
                split |= _overlapping_users(part, parts, chosen, lambda: user, start, end)
            assert (split == expected_overlap).all()
    assert (_near_duplicates(rows, user, code, start, 90.0, size) == expected_duplicate).all()
