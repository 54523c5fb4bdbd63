"""Daily caps: earliest trips paid first, per user and local day, in trip-time order."""

from __future__ import annotations

import numpy as np

from carbonfoot import PolicyBatch
from carbonfoot.policies import apply_daily_cap


def batch(
    savings_mg: list[int], user: list[int], day: list[int], started: list[int]
) -> PolicyBatch:
    return PolicyBatch(
        savings_mg=np.array(savings_mg, dtype=np.int64),
        eligible=np.ones(len(savings_mg), dtype=bool),
        user=np.array(user, dtype=np.int64),
        local_day=np.array(day, dtype=np.int64),
        started_us=np.array(started, dtype=np.int64),
    )


def naive_cap(
    awards: list[int],
    user: list[int],
    day: list[int],
    started: list[int],
    cap: int,
    already: list[int] | None = None,
) -> list[int]:
    """The obvious loop, as a reference: pay each user-day in time order up to the cap.

    ``already`` is what each trip's user-day was issued before (the same for its trips).
    """
    paid = [0] * len(awards)
    used: dict[tuple[int, int], int] = {}
    for index in sorted(range(len(awards)), key=lambda i: (started[i], i)):
        key = (user[index], day[index])
        before = used.get(key, already[index] if already is not None else 0)
        paid[index] = max(0, min(awards[index], cap - before))
        used[key] = before + paid[index]
    return paid


def test_the_cap_pays_the_earliest_trips_first() -> None:
    awards = np.array([50, 80, 30], dtype=np.int64)
    started = [3, 1, 2]  # input order is not time order
    capped = apply_daily_cap(awards, batch([0, 0, 0], [7, 7, 7], [1, 1, 1], started), cap=100)
    assert capped.tolist() == [0, 80, 20]


def test_the_cap_counts_each_user_and_day_separately() -> None:
    awards = np.array([90, 90, 90, 90], dtype=np.int64)
    capped = apply_daily_cap(
        awards, batch([0] * 4, [1, 1, 2, 1], [5, 5, 5, 6], [1, 2, 3, 4]), cap=100
    )
    assert capped.tolist() == [90, 10, 90, 90]


def test_equal_times_are_paid_in_input_order() -> None:
    awards = np.array([60, 60], dtype=np.int64)
    capped = apply_daily_cap(awards, batch([0, 0], [1, 1], [1, 1], [5, 5]), cap=100)
    assert capped.tolist() == [60, 40]


def test_the_vectorized_cap_matches_the_obvious_loop() -> None:
    rng = np.random.default_rng(3)
    size = 5000
    awards = rng.integers(0, 400, size)
    user = rng.integers(0, 300, size)
    day = rng.integers(0, 3, size)
    started = rng.integers(0, 10_000, size)
    capped = apply_daily_cap(
        awards.astype(np.int64),
        batch([0] * size, user.tolist(), day.tolist(), started.tolist()),
        700,
    )
    assert capped.tolist() == naive_cap(
        awards.tolist(), user.tolist(), day.tolist(), started.tolist(), 700
    )
