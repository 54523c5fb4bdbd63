"""Group-then-time order, and the plausibility checks that walk in it, against plain loops.

The fast order packs group, a coarsened time and the position into one sortable number;
these properties pin it to the definition (by group, then exact time, then position) on
batches built to hit its edges: ties, times that share a coarse step, spans too wide for
one key, and group codes too large for one.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot._kernels.sorting import group_time_order
from carbonfoot.intake.plausibility import Limits, PlausibilityRules
from carbonfoot.statuses import QUARANTINED as SUSPECT_STATUSES

_DAY_US = 86_400_000_000


@st.composite
def grouped_times(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    size = draw(st.integers(1, 80))
    group_scale = draw(st.sampled_from([3, 1_000, 2**40, 2**55]))
    groups = draw(st.lists(st.integers(0, 3), min_size=size, max_size=size))
    group = np.array(groups, dtype=np.int64) * (group_scale // 3)
    # Offsets mixing exact ties, microsecond neighbours and far-apart times.
    time_scale = draw(st.sampled_from([1, 1_000_000, _DAY_US, 2**50]))
    offsets = draw(st.lists(st.integers(0, 6), min_size=size, max_size=size))
    jitter = draw(st.lists(st.integers(0, 2), min_size=size, max_size=size))
    times = (
        1_714_492_800_000_000
        + np.array(offsets, dtype=np.int64) * time_scale
        + np.array(jitter, dtype=np.int64)
    )
    return group, times


@given(grouped_times())
def test_order_is_group_then_time_then_position(case: tuple[np.ndarray, np.ndarray]) -> None:
    group, times = case
    expected = np.lexsort((np.arange(group.size), times, group))
    assert group_time_order(group, times).tolist() == expected.tolist()


def test_a_large_batch_with_coarse_steps_is_still_exact() -> None:
    rng = np.random.default_rng(3)
    size = 200_000
    group = rng.integers(0, 50_000, size)
    times = 1_714_492_800_000_000 + rng.integers(0, _DAY_US, size)
    times[::7] = times[1::7][: times[::7].size]  # many exact ties, several within a group
    expected = np.lexsort((np.arange(size), times, group))
    assert np.array_equal(group_time_order(group, times), expected)


@st.composite
def trip_batches(draw: st.DrawFn) -> dict[str, Any]:
    size = draw(st.integers(1, 40))
    user_scale = draw(st.sampled_from([1, 2**40]))
    time_scale = draw(st.sampled_from([60_000_000, _DAY_US, 2**58]))
    ints = st.lists(st.integers(0, 5), min_size=size, max_size=size)
    users = np.array(draw(st.lists(st.integers(0, 2), min_size=size, max_size=size))) * user_scale
    start = 1_000_000 + np.array(draw(ints), dtype=np.int64) * (time_scale // 4)
    length = np.array(draw(ints), dtype=np.int64) * (time_scale // 3)
    backwards = np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size)))
    return {
        "users": users.astype(np.int64),
        "codes": np.array(
            draw(st.lists(st.integers(0, 2), min_size=size, max_size=size)), dtype=np.int32
        ),
        "computed": np.array(draw(st.lists(st.booleans(), min_size=size, max_size=size))),
        "distance_km": np.array(draw(st.lists(st.integers(1, 9), min_size=size, max_size=size)))
        * 1.0,
        "started_us": start,
        "ended_us": np.where(backwards, start - 1, start + length),
        "local_day": start // _DAY_US,
        "window_s": draw(st.sampled_from([0.0, 1.0, time_scale / 4e6])),
    }


def expected_verdicts(batch: dict[str, Any], limits: list[Limits]) -> list[int]:
    """The checks' definitions as loops (speed and trip-distance limits left open)."""
    users, codes, computed = batch["users"], batch["codes"], batch["computed"]
    km, start, ended = batch["distance_km"], batch["started_us"], batch["ended_us"]
    day, window = batch["local_day"], batch["window_s"]
    rows = [i for i in range(len(codes)) if computed[i]]
    end = {i: max(ended[i], start[i]) for i in rows}
    totals: dict[tuple[int, int, int], float] = defaultdict(float)
    for i in rows:
        totals[(users[i], day[i], codes[i])] += km[i]
    verdict = [0] * len(codes)

    def flag(i: int, status: str) -> None:
        if verdict[i] == 0:
            verdict[i] = SUSPECT_STATUSES.index(status) + 1

    for i in rows:
        if totals[(users[i], day[i], codes[i])] > limits[codes[i]].max_daily_km:
            flag(i, "suspect_daily_distance")
    # At a window of 0 too: the same user and mode starting at the same instant.
    by_group: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in sorted(rows, key=lambda i: (start[i], i)):
        by_group[(users[i], codes[i])].append(i)
    for members in by_group.values():
        for before, after in itertools.pairwise(members):
            if start[after] - start[before] <= window * 1e6:
                flag(after, "suspect_duplicate")
    by_user: dict[int, list[int]] = defaultdict(list)
    for i in sorted(rows, key=lambda i: (start[i], i)):
        by_user[users[i]].append(i)
    for members in by_user.values():
        latest = -math.inf
        for i in members:
            if start[i] < latest:
                flag(i, "suspect_overlap")
            latest = max(latest, end[i])
    return verdict


@given(trip_batches())
def test_daily_duplicate_and_overlap_checks_match_their_definitions(
    batch: dict[str, Any],
) -> None:
    limits = [
        Limits(min_kmh=0.0, max_kmh=math.inf, max_trip_km=math.inf, max_daily_km=daily)
        for daily in (math.inf, 10.0, 4.0)
    ]
    rules = PlausibilityRules(tuple(limits), batch["window_s"], True)
    users = batch["users"]
    verdict = rules.check(
        computed=batch["computed"],
        codes=batch["codes"],
        distance_km=batch["distance_km"],
        started_us=batch["started_us"],
        ended_us=batch["ended_us"],
        local_day=batch["local_day"],
        users=lambda: users,
    )
    assert verdict.tolist() == expected_verdicts(batch, limits)
