"""What a user would otherwise write: a Python loop over trips with a pint quantity each.

Benchmark 4 of the performance issue. The loop (``naive_loop``) goes over the trips in
trip-time order; for each it makes a pint quantity of its distance, multiplies it by the
mode's savings per km (a pint quantity, g/km, made once per mode), converts to grams,
rounds to whole milligrams, divides into credits and pays them up to the user's daily cap
(local day by ``datetime`` in the policy's time zone). It is given the trips as Python
rows; carbonfoot as columns (mode ids, km, user codes, start times), each in its natural
form, made before timing.

carbonfoot's side is the batch path of ``bench_kernel.py`` (mode ids to codes, the
savings kernel, the green-credit award with the cap); also timed: the same given mode
codes (``bench_kernel.py``'s input), and :meth:`Engine.compute` on the same trips as a
table, every check and the result table included. Both must give the loop's answer exactly before they are timed; timed
alternately, medians of ``--runs`` (each carbonfoot figure is the mean of 10 calls).

    python benchmarks/bench_naive.py [--trips 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import zoneinfo
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pint
import pyarrow as pa

from _common import interleaved, median, record, timed
from _trips import (
    FACTOR_SET,
    GRAMS_PER_CREDIT,
    Trips,
    assert_identical,
    cap_for,
    carbonfoot_credits,
    engine_with_cap,
    generate,
)

SEED = 13
Row = tuple[str, float, str, int, int]  # mode id, distance, unit, user, started (UTC us)


def naive_loop(
    rows: list[Row],
    savings_per_km: dict[str, pint.Quantity],
    earning_modes: set[str],
    grams_per_credit: float,
    cap: int,
    timezone: str,
    ureg: pint.UnitRegistry,
) -> tuple[list[float], list[int]]:
    """Savings and capped credits, one trip at a time."""
    zone = zoneinfo.ZoneInfo(timezone)
    milligrams_per_credit = round(grams_per_credit * 1000)
    savings = [0.0] * len(rows)
    credits = [0] * len(rows)
    used: dict[tuple[int, dt.date], int] = {}
    for index in sorted(range(len(rows)), key=lambda i: (rows[i][4], i)):
        mode, distance, unit, user, started_us = rows[index]
        saved = (savings_per_km[mode] * ureg.Quantity(distance, unit)).to("gram").magnitude
        earned = round(saved * 1000) // milligrams_per_credit if mode in earning_modes else 0
        day = dt.datetime.fromtimestamp(started_us // 1_000_000, zone).date()
        already = used.get((user, day), 0)
        paid = max(0, min(earned, cap - already))
        used[(user, day)] = already + paid
        savings[index] = saved
        credits[index] = paid
    return savings, credits


def mean_of(calls: int, function: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        gc.collect()
        return timed(lambda: [function() for _ in range(calls)]) / calls

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    users = max(1, args.trips // 10)
    probe = engine_with_cap(None)
    trips = generate(probe, args.trips, users, args.seed)
    cap, share_over = cap_for(probe, trips)
    engine = engine_with_cap(cap)

    # Each side's input, in its natural form.
    mode_ids = np.asarray(engine.modes.ids, dtype=object)[trips.mode_code]
    rows: list[Row] = list(
        zip(
            mode_ids.tolist(),
            trips.distance_km.tolist(),
            ["km"] * trips.size,
            trips.user.tolist(),
            trips.started_us.tolist(),
            strict=True,
        )
    )
    ureg = pint.UnitRegistry()
    savings_per_km = {
        mode.id: ureg.Quantity(float(value), "g/km")
        for mode, value in zip(engine.modes.modes, engine.savings_g_per_pkm, strict=False)
    }
    allowed = engine.policy.params["eligible"]
    earning_modes = {
        mode.id for mode in engine.modes.modes if mode.id in allowed or mode.category in allowed
    }
    mode_column = pa.array(mode_ids, type=pa.string())
    table = trips.table()

    def naive() -> tuple[list[float], list[int]]:
        return naive_loop(
            rows, savings_per_km, earning_modes, float(GRAMS_PER_CREDIT), cap, "Asia/Shanghai", ureg
        )

    def batch() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        coded = Trips(
            label=trips.label,
            label_index=trips.label_index,
            mode_code=engine.mode_codes(mode_column),
            distance_km=trips.distance_km,
            user=trips.user,
            started_us=trips.started_us,
            ended_us=trips.ended_us,
        )
        return carbonfoot_credits(engine, coded)

    def compute() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        result = engine.compute(table).table
        return result["savings_g"].to_numpy(), result["credits"].to_numpy()

    def kernel() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        return carbonfoot_credits(engine, trips)  # mode codes given: bench_kernel.py's side

    expected = naive()
    assert_identical("carbonfoot batch", expected, batch())
    assert_identical("carbonfoot batch from mode codes", expected, kernel())
    assert_identical("Engine.compute", expected, compute())
    times = interleaved(
        args.runs,
        naive=lambda: timed(naive),
        carbonfoot=mean_of(10, batch),
        from_codes=mean_of(10, kernel),
        compute=mean_of(10, compute),
    )
    loop, ours, coded, full = (
        median(times[name]) for name in ("naive", "carbonfoot", "from_codes", "compute")
    )
    result = {
        "command": f"python benchmarks/bench_naive.py --trips {args.trips} --runs {args.runs}",
        "trips": args.trips,
        "users": users,
        "factor_set": FACTOR_SET,
        "policy": f"green-credit, grams_per_credit={GRAMS_PER_CREDIT}, daily_cap={cap}",
        "share_of_user_days_over_cap": round(share_over, 4),
        "runs": args.runs,
        "median_s": {
            "naive": round(loop, 3),
            "carbonfoot": round(ours, 5),
            "from_codes": round(coded, 5),
            "compute": round(full, 5),
        },
        "trips_per_s": {name: round(args.trips / median(values)) for name, values in times.items()},
        "speed_up_batch": round(loop / ours),
        "speed_up_from_codes": round(loop / coded),
        "speed_up_compute": round(loop / full),
        "naive_us_per_trip": round(loop / args.trips * 1e6, 1),
        "target": "thousands of times (expected, not a hard target)",
        "all_runs_s": {name: [round(t, 5) for t in values] for name, values in times.items()},
    }
    record("naive_python_pint_loop", result)
    print(f"{args.trips:,} trips, {users:,} users; daily cap {cap} ({share_over:.1%} over)")
    print(f"   naive loop with pint  {loop:9.3f} s  ({result['naive_us_per_trip']} µs a trip)")
    print(f"   carbonfoot batch      {ours:9.5f} s  speed-up {result['speed_up_batch']:,}x")
    print(f"   ... from mode codes   {coded:9.5f} s  speed-up {result['speed_up_from_codes']:,}x")
    print(f"   Engine.compute        {full:9.5f} s  speed-up {result['speed_up_compute']:,}x")


if __name__ == "__main__":
    main()
