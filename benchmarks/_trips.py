"""Synthetic trips for the batch benchmarks, as in-memory arrays, generated vectorized.

The shape (not a measurement): every installed mode (18, under 21 labels, Chinese and
English, the shares of :data:`carbonfoot.demo.synthetic.MODE_SHAPES` plus diesel and hybrid
cars), 1 million users for 10 million trips (10 a user on average), one local day in
Asia/Shanghai (2024-05-01) with morning and evening peaks over a daytime background.
A user's trips follow one another: a trip starts no earlier than the user's previous trip
ended, so none overlaps (the plausibility checks find nothing to quarantine). Distances
are lognormal around each mode's median, in metres; durations follow a typical speed.

The daily cap is set from the data: the uncapped credits of the user-day at the 95th
percentile, so 5 % of user-days are over it. Same seed, same trips, same cap.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot import Engine, PolicyBatch
from carbonfoot.demo.synthetic import MODE_SHAPES
from carbonfoot.money import whole_milligrams
from carbonfoot.times import local_days

#: (label, share, median km): the synthetic mix, with the two car kinds it lacks.
LABELS: tuple[tuple[str, float, float], ...] = (
    *MODE_SHAPES,
    ("car-diesel", 0.01, 12.0),
    ("混合动力汽车", 0.01, 12.0),
)
TIMEZONE = "Asia/Shanghai"
FACTOR_SET = "uk-desnz-2025"  # the default set: one factor cell, no validity periods
GRAMS_PER_CREDIT = "10"  # the demo programme's rate
OVER_CAP_SHARE = 0.05
_MIDNIGHT_2024_05_01_SHANGHAI_US = 1_714_492_800_000_000
_HOUR_US = 3_600_000_000


@frozen
class Trips:
    """One column per field, one entry per trip; ``mode_code`` indexes ``engine.modes``."""

    label: list[str]  # the distinct labels; ``label_index`` picks one per trip
    label_index: npt.NDArray[np.int64]
    mode_code: npt.NDArray[np.int32]
    distance_km: npt.NDArray[np.float64]
    user: npt.NDArray[np.int64]
    started_us: npt.NDArray[np.int64]
    ended_us: npt.NDArray[np.int64]

    @property
    def size(self) -> int:
        return int(self.mode_code.size)

    def table(self) -> pa.Table:
        """The same trips as carbonfoot input, typed columns (as from Parquet or a service)."""
        ids = pa.array(np.arange(self.size)).cast(pa.string())
        users = pa.array(self.user).cast(pa.string())
        stamp = pa.timestamp("us", tz=TIMEZONE)
        return pa.table(
            {
                "trip_id": pc.binary_join_element_wise("t", ids, ""),
                "user_id": pc.binary_join_element_wise("u", users, ""),
                "mode": pa.array(self.label, type=pa.string()).take(pa.array(self.label_index)),
                "distance": pa.array(self.distance_km),
                "started_at": pa.array(self.started_us, type=stamp),
                "ended_at": pa.array(self.ended_us, type=stamp),
            }
        )


def generate(engine: Engine, trips: int, users: int, seed: int) -> Trips:
    """``trips`` trips of ``users`` users on one day; see the module docstring."""
    rng = np.random.default_rng(seed)
    labels = [label for label, _, _ in LABELS]
    shares = np.array([share for _, share, _ in LABELS])
    medians = np.array([median for _, _, median in LABELS])
    label_index = rng.choice(len(labels), size=trips, p=shares / shares.sum())
    codes_of_label = engine.mode_codes(labels)
    if (codes_of_label < 0).any():
        raise SystemExit(f"labels not installed: {np.asarray(labels)[codes_of_label < 0]}")
    median_km = medians[label_index]
    distance_km = np.maximum(np.round(median_km * rng.lognormal(0.0, 0.5, trips), 3), 0.05)
    user = rng.integers(0, users, size=trips)
    speed_kmh = np.clip(4.0 * np.sqrt(median_km), 4.0, 60.0)
    duration_us = (distance_km / speed_kmh * _HOUR_US).astype(np.int64)
    started = _start_times(rng, user, duration_us)
    return Trips(
        label=labels,
        label_index=label_index,
        mode_code=codes_of_label[label_index],
        distance_km=distance_km,
        user=user,
        started_us=started,
        ended_us=started + duration_us,
    )


def _start_times(
    rng: np.random.Generator, user: npt.NDArray[np.int64], duration_us: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Wanted start times from the day's profile, pushed later where a user is still travelling."""
    size = user.size
    peak = rng.choice(3, size=size, p=[0.35, 0.35, 0.30])
    hour = np.where(
        peak == 0,
        rng.normal(8.0, 1.0, size),
        np.where(peak == 1, rng.normal(18.0, 1.2, size), rng.uniform(6.0, 22.0, size)),
    )
    wanted = (np.clip(hour, 0.0, 23.0) * _HOUR_US).astype(np.int64)
    order = np.argsort(user * (24 * _HOUR_US) + wanted)  # by user, then wanted time
    ordered_user = user[order]
    first = np.r_[True, ordered_user[1:] != ordered_user[:-1]]
    duration = duration_us[order]
    travelled = np.cumsum(duration) - duration  # durations of the trips before, in this order
    group = np.cumsum(first) - 1
    shift = np.int64(1) << 40  # larger than any (wanted - travelled) difference
    # start_k = max over earlier j of the user (wanted_j + travelled_k - travelled_j):
    # a running maximum that restarts with each user.
    key = wanted[order] - travelled + group * shift
    start = np.maximum.accumulate(key) - group * shift + travelled
    started = np.empty(size, dtype=np.int64)
    started[order] = _MIDNIGHT_2024_05_01_SHANGHAI_US + start
    return started


def eligible_codes(engine: Engine) -> npt.NDArray[np.int32]:
    """Mode codes that earn under the engine's policy (its ``eligible`` parameter)."""
    allowed = engine.policy.params["eligible"]
    return np.array(
        [
            code
            for code, mode in enumerate(engine.modes.modes)
            if "all" in allowed or mode.id in allowed or mode.category in allowed
        ],
        dtype=np.int32,
    )


def uncapped_user_day_totals(engine: Engine, trips: Trips) -> npt.NDArray[np.int64]:
    """Each user-day's credits before any cap (green-credit arithmetic), for choosing the cap."""
    milligrams_per_credit = int(float(GRAMS_PER_CREDIT) * 1000)
    credits = whole_milligrams(engine.savings_g(trips.mode_code, trips.distance_km))
    credits //= milligrams_per_credit
    credits[~np.isin(trips.mode_code, eligible_codes(engine))] = 0
    day = local_days(trips.started_us, TIMEZONE)
    span = int(day.max() - day.min()) + 1
    _, group = np.unique(trips.user * span + (day - day.min()), return_inverse=True)
    return np.bincount(group, weights=credits).astype(np.int64)


def cap_for(engine: Engine, trips: Trips) -> tuple[int, float]:
    """The daily cap that 5 % of user-days exceed, and the share that does."""
    totals = uncapped_user_day_totals(engine, trips)
    cap = int(np.quantile(totals, 1.0 - OVER_CAP_SHARE))
    return cap, float((totals > cap).mean())


def engine_with_cap(cap: int | None) -> Engine:
    params: dict[str, Any] = {"grams_per_credit": GRAMS_PER_CREDIT}
    if cap is not None:
        params["daily_cap"] = cap
    return Engine(FACTOR_SET, policy="green-credit", policy_params=params)


def carbonfoot_credits(
    engine: Engine, trips: Trips
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Savings and capped credits with carbonfoot's public batch calls, from the arrays.

    What :meth:`Engine.compute` does once the rows are checked: the savings kernel,
    savings to whole milligrams, and the policy's award over a :class:`PolicyBatch`
    (local days computed lazily, from the start times, in the policy's time zone).
    """
    return credits_from_arrays(
        engine, trips.mode_code, trips.distance_km, trips.user, trips.started_us
    )


def credits_from_arrays(
    engine: Engine,
    mode_code: npt.NDArray[np.int32],
    distance_km: npt.NDArray[np.float64],
    user: npt.NDArray[np.int64],
    started_us: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """:func:`carbonfoot_credits` from the columns themselves."""
    savings_g = engine.savings_g(mode_code, distance_km)
    batch = PolicyBatch(
        whole_milligrams(savings_g),
        np.ones(mode_code.size, dtype=np.bool_),
        user,
        _local_days_of(started_us, engine.policy.timezone),
        started_us,
        mode=mode_code,
        mode_ids=engine.modes.ids,
        mode_categories=tuple(mode.category for mode in engine.modes.modes),
    )
    return savings_g, np.asarray(engine.policy.award(batch), dtype=np.int64)


def _local_days_of(
    started_us: npt.NDArray[np.int64], timezone: str
) -> Callable[[], npt.NDArray[np.int64]]:
    return lambda: local_days(started_us, timezone)


def assert_identical(
    name: str,
    expected: tuple[npt.NDArray[Any], ...],
    got: tuple[npt.NDArray[Any], ...],
) -> None:
    """Savings bit for bit (same IEEE operations) and credits exactly, or exit with a diff."""
    for what, left, right in zip(("savings_g", "credits"), expected, got, strict=False):
        left, right = np.ascontiguousarray(left), np.ascontiguousarray(right)
        same = left.shape == right.shape and (
            np.array_equal(left.view(np.int64), right.view(np.int64))
            if left.dtype == np.float64 and right.dtype == np.float64
            else np.array_equal(left, right)
        )
        if not same:
            differ = np.flatnonzero(left != right) if left.shape == right.shape else []
            raise SystemExit(
                f"{name}: {what} differs from carbonfoot's in {len(differ)} trips "
                f"(first rows {list(differ[:5])}); a fast wrong answer does not count"
            )
