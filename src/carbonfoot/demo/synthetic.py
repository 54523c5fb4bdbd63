"""Synthetic trips with a realistic shape, for the demo, the tests and the benchmarks.

Nothing here is a measurement: mode shares, distances and times only give test data the
shape of a city's trip log (many users, several trips a day, morning and evening peaks,
Chinese and English mode labels, a few malformed rows). Same seed, same trips.

``python -m carbonfoot.demo.synthetic OUTPUT.csv --trips N --users U --seed S`` writes a file.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["MODE_SHAPES", "generate_trips"]

#: (label as written in the data, share of trips, median km) for the synthetic mix.
MODE_SHAPES: tuple[tuple[str, float, float], ...] = (
    ("步行", 0.16, 1.2),
    ("walk", 0.04, 1.2),
    ("自行车", 0.05, 2.5),
    ("共享单车", 0.10, 2.0),
    ("电动自行车", 0.08, 4.0),
    ("e-scooter", 0.01, 2.0),
    ("公交", 0.16, 5.0),
    ("bus", 0.03, 5.0),
    ("地铁", 0.17, 8.0),
    ("metro", 0.03, 8.0),
    ("有轨电车", 0.02, 5.0),
    ("rail", 0.01, 25.0),
    ("轮渡", 0.01, 3.0),
    ("拼车", 0.02, 12.0),
    ("出租车", 0.03, 8.0),
    ("car", 0.03, 12.0),
    ("car-petrol", 0.01, 12.0),
    ("car-bev", 0.02, 12.0),
    ("motorbike", 0.02, 8.0),
)
_EPOCH_2024_05_01_SHANGHAI_US = 1_714_492_800_000_000  # 2024-05-01T00:00:00+08:00


def generate_trips(
    trips: int,
    *,
    users: int | None = None,
    days: int = 1,
    seed: int = 0,
    bad_row_share: float = 0.0,
    as_text: bool = True,
) -> pa.Table:
    """A table of ``trips`` synthetic trips in the carbonfoot input format.

    ``bad_row_share`` of the rows get one malformed field each (bad distance, unknown
    mode, bad unit, bad time, missing user, repeated trip id), are made implausible (a
    25 km walk), or are reported a second time under another id (appended at the end). ``as_text`` writes
    ``started_at`` as ISO 8601 text with offset (as a CSV would have it) instead of a
    timestamp column.
    """
    rng = np.random.default_rng(seed)
    users = users or max(1, trips // 3)
    labels = [label for label, _, _ in MODE_SHAPES]
    shares = np.array([share for _, share, _ in MODE_SHAPES])
    medians = np.array([median for _, _, median in MODE_SHAPES])
    mode_index = rng.choice(len(labels), size=trips, p=shares / shares.sum())
    distance = np.round(medians[mode_index] * rng.lognormal(0.0, 0.5, size=trips), 3)
    distance = np.maximum(distance, 0.05)
    user_index = rng.integers(0, users, size=trips)
    duration_us = (distance / _typical_speed_kmh(medians[mode_index]) * 3.6e9).astype(np.int64)
    started_us = _start_times(rng, user_index, duration_us, days)
    table = pa.table(
        {
            "trip_id": pc.binary_join_element_wise(
                "t", pa.array(np.arange(trips)).cast(pa.string()), ""
            ),
            "user_id": pc.binary_join_element_wise("u", pa.array(user_index).cast(pa.string()), ""),
            "mode": pa.array(labels, type=pa.string()).take(pa.array(mode_index)),
            "distance": pa.array(distance).cast(pa.string()) if as_text else pa.array(distance),
            "distance_unit": pa.array(np.full(trips, "km")),
            "started_at": _times(started_us, as_text),
            "ended_at": _times(started_us + duration_us, as_text),
        }
    )
    if bad_row_share > 0:
        table = _spoil(table, rng, bad_row_share)
    return table


def _typical_speed_kmh(median_km: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # Longer typical trips are made by faster modes; a smooth shape, not a survey.
    return np.clip(4.0 * np.sqrt(median_km), 4.0, 60.0)


def _start_times(
    rng: np.random.Generator,
    user: npt.NDArray[np.int64],
    duration_us: npt.NDArray[np.int64],
    days: int,
) -> npt.NDArray[np.int64]:
    """A user's trips of a day one after another: the first near a peak, then gaps."""
    trips = user.size
    day = rng.integers(0, days, size=trips)
    order = np.lexsort((rng.random(trips), day, user))
    group = user[order] * days + day[order]
    first = np.r_[True, group[1:] != group[:-1]]
    first_hour = np.clip(
        rng.normal(rng.choice([7.5, 12.0, 17.5], size=trips, p=[0.5, 0.2, 0.3]), 1.2), 0.0, 20.0
    )
    gap_us = (rng.uniform(0.25, 3.0, size=trips) * 3.6e9).astype(np.int64)
    step = duration_us[order] + gap_us
    elapsed = np.cumsum(step) - step  # time since the first trip of the run, before the gap
    group_start = np.maximum.accumulate(np.where(first, np.arange(trips), 0))
    since_first = elapsed - elapsed[group_start]
    offset_us = (day[order] * 86_400 + first_hour[group_start] * 3_600).astype(np.int64) * 1_000_000
    started = np.empty(trips, dtype=np.int64)
    started[order] = _EPOCH_2024_05_01_SHANGHAI_US + offset_us + since_first
    return started


def _times(micros: npt.NDArray[np.int64], as_text: bool) -> pa.Array:
    instants = pa.array(micros, type=pa.timestamp("us", tz="Asia/Shanghai"))
    if not as_text:
        return instants
    return pc.strftime(
        instants.cast(pa.timestamp("s", tz="Asia/Shanghai"), safe=False), "%Y-%m-%dT%H:%M:%S+08:00"
    )


def _spoil(table: pa.Table, rng: np.random.Generator, share: float) -> pa.Table:
    rows = table.num_rows
    bad = rng.random(rows) < share
    kind = rng.integers(0, 8, size=rows)
    columns = {name: table.column(name).combine_chunks() for name in table.column_names}

    def replace(name: str, where: npt.NDArray[np.bool_], value: str) -> None:
        column = columns[name].cast(pa.string())
        columns[name] = pc.if_else(pa.array(where), pa.scalar(value), column)

    replace("distance", bad & (kind == 0), "abc")
    replace("mode", bad & (kind == 1), "hoverboard")
    replace("distance_unit", bad & (kind == 2), "furlongs")
    replace("started_at", bad & (kind == 3), "2024-13-45 25:00")
    replace("user_id", bad & (kind == 4), "")
    repeat = np.flatnonzero(bad & (kind == 5))
    if repeat.size:
        ids = np.asarray(columns["trip_id"].to_numpy(zero_copy_only=False), dtype=object)
        ids[repeat] = ids[np.maximum(repeat - 1, 0)]
        columns["trip_id"] = pa.array(ids, type=pa.string())
    # A "walk" far too fast: the kind of claim plausibility checks catch.
    replace("mode", bad & (kind == 6), "walk")
    replace("distance", bad & (kind == 6), "25")
    table = pa.table(columns)
    # The same ride reported twice: another id, same user, mode and start (kind 7).
    twins = np.flatnonzero(bad & (kind == 7))
    if twins.size:
        copies = table.take(pa.array(twins))
        copies = copies.set_column(
            0, "trip_id", pc.binary_join_element_wise(copies.column("trip_id"), "-app2", "")
        )
        table = pa.concat_tables([table, copies])
    return table


def main(argv: Sequence[str] | None = None) -> None:
    """Write synthetic trips to a CSV or Parquet file."""
    from carbonfoot.io import write_result_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("output", type=Path)
    parser.add_argument("--trips", type=int, default=1000)
    parser.add_argument("--users", type=int, default=None)
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bad-row-share", type=float, default=0.0)
    args = parser.parse_args(argv)
    table = generate_trips(
        args.trips,
        users=args.users,
        days=args.days,
        seed=args.seed,
        bad_row_share=args.bad_row_share,
    )
    write_result_file(table, args.output)


if __name__ == "__main__":  # pragma: no cover
    main()
