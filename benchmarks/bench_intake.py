"""What checking trips costs: validation and plausibility on 10 million trips; GTFS stop lookups.

Two targets of the trip-intake issue:

* validation and plausibility checks add at most 50 % to the plain calculation, on
  10 million trips. The trips are a table with typed columns (text trip and user ids,
  mode labels as written, float km, start and end timestamps), as from Parquet or a
  service. *Plain*: the same answer from that table with no checks, only what any
  calculation must do (labels to mode codes, user ids to integer codes for the daily
  cap, timestamps to microseconds, then the bare computation). *Checked*:
  :meth:`Engine.prepare` (every intake check, mode and unit resolution, time conversion,
  local days, the factor lookup and the plausibility checks), then the same savings and
  award: :meth:`Engine.compute` without building its result table. Also reported, as
  before: the checked time over the *bare* computation, ``bench_kernel.py``'s carbonfoot
  side, from ready arrays (mode codes, km, user codes, start times), which charges the
  checks with decoding the text columns too. All answers must be identical.
  ``Engine.compute`` (result table included) is timed too, for context; and each part of
  ``prepare`` once, to show where the time goes.
* station lookup at 10 million trips per second or more: the GTFS distance provider
  (``from_stop`` and ``to_stop`` to km along the network), warm (feed loaded, shortest
  paths cached), on 10 million stop pairs of a synthetic metro (seed 19: 10 lines of 26
  stops, 250 stations, 10 of them interchanges). Reference: the least the lookup can be
  in pyarrow and numpy (``index_in`` of each stop in the station list, then one read of
  the all-pairs distance matrix of the same network); both must give the same km.

Timed alternately (``_common.rotated``), medians of ``--runs``.

    python benchmarks/bench_intake.py [--trips 10000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse.csgraph import dijkstra

from _common import median, record, rotated, timed
from _trips import (
    FACTOR_SET,
    GRAMS_PER_CREDIT,
    Trips,
    assert_identical,
    cap_for,
    carbonfoot_credits,
    credits_from_arrays,
    engine_with_cap,
    generate,
)
from carbonfoot import DistanceRequest, Engine
from carbonfoot._kernels.hashing import value_codes
from carbonfoot.intake import read_trips, to_arrow_table
from carbonfoot.money import whole_milligrams
from carbonfoot.times import local_days
from carbonfoot_builtins.distance_gtfs import load_network

SEED = 19
Answer = tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]


def plain_credits(engine: Engine, table: pa.Table) -> Answer:
    """The same answer from the same table with no checks: only what any calculation needs.

    Mode labels to codes, distances as km, user ids to integer codes (the daily cap groups
    by user), start times as microseconds; then the bare computation. Nothing is checked:
    a duplicate id, an unknown mode or an impossible speed would pass or fail silently.
    """
    codes = engine.mode_codes(table["mode"])
    users = table["user_id"].combine_chunks().dictionary_encode().indices
    return credits_from_arrays(
        engine,
        codes,
        table["distance"].to_numpy(),
        np.asarray(users.to_numpy(), dtype=np.int64),
        table["started_at"].cast(pa.int64()).to_numpy(),
    )


def checked_credits(engine: Engine, table: pa.Table) -> Answer:
    """:meth:`Engine.compute` up to the awards: every check, then the same arithmetic."""
    prepared = engine.prepare(table)
    if not prepared.ok.all():
        raise SystemExit(f"{int((~prepared.ok).sum())} trips rejected; the trips should be clean")
    _, _, savings_g = engine.savings(prepared)
    awards = engine.policy.award(engine.policy_batch(prepared, whole_milligrams(savings_g)))
    return savings_g, np.asarray(awards, dtype=np.int64)


def computed_credits(engine: Engine, table: pa.Table) -> Answer:
    result = engine.compute(table).table
    return result["savings_g"].to_numpy(), result["credits"].to_numpy()


def sample(function: Callable[[], Any]) -> Callable[[], float]:
    def run() -> float:
        gc.collect()
        return timed(function)

    return run


def prepare_parts(engine: Engine, table: pa.Table) -> dict[str, float]:
    """Seconds of each part of :meth:`Engine.prepare`, called one by one (one run each)."""
    parts: dict[str, float] = {}

    def part(name: str, function: Callable[[], Any]) -> Any:
        gc.collect()
        result: list[Any] = []
        parts[name] = round(timed(lambda: result.append(function())), 3)
        return result[0]

    columns = part(
        "intake checks (read_trips: ids, duplicates, modes, distances, units, times)",
        lambda: read_trips(
            to_arrow_table(table),
            engine.modes,
            default_unit="km",
            timezone=engine.policy.timezone,
            providers=engine.distance_providers,
            options=engine.distance_options,
        ),
    )
    local_day = part(
        "local days (also in the bare computation)",
        lambda: local_days(columns.started_us, engine.policy.timezone),
    )
    users = part(
        "user codes (exact integer keys, hashed; on the background thread in prepare)",
        lambda: value_codes(columns.user_id),
    )
    computed = columns.rejections.ok.copy()
    part(
        "plausibility checks (speed, distance, daily distance, overlap)",
        lambda: engine.plausibility.check(
            computed=computed,
            codes=columns.mode_code,
            distance_km=columns.distance_km,
            started_us=columns.started_us,
            ended_us=columns.ended_us,
            local_day=local_day,
            users=lambda: users,
        ),
    )
    parts["Engine.prepare, whole"] = round(timed(lambda: engine.prepare(table)), 3)
    return parts


# -- GTFS station lookup ---------------------------------------------------------------

LINES = 10
STATIONS_PER_LINE = 26  # 250 stations: 24 of each line's own, and 10 interchanges of two lines


def write_feed(folder: Path, seed: int) -> list[str]:
    """A synthetic metro feed (GTFS Schedule files); returns its station ids."""
    rng = np.random.default_rng(seed)
    hubs = [f"H{index:02d}" for index in range(LINES)]
    stations: dict[str, tuple[float, float]] = {
        hub: (32.0 + rng.normal(0, 0.05), 118.8 + rng.normal(0, 0.05)) for hub in hubs
    }
    lines: list[list[str]] = []
    for line in range(LINES):
        own = [f"L{line:02d}S{index:02d}" for index in range(STATIONS_PER_LINE - 2)]
        # Each line passes through two interchanges: its own hub and the next line's.
        ids = [*own[:8], hubs[line], *own[8:16], hubs[(line + 1) % LINES], *own[16:]]
        angle = rng.uniform(0, np.pi)
        start = (32.0 - 0.15 * np.sin(angle), 118.8 - 0.15 * np.cos(angle))
        for position, stop in enumerate(ids):
            if stop not in stations:
                step = position / len(ids) * 0.3
                stations[stop] = (
                    start[0] + step * np.sin(angle) + rng.normal(0, 0.004),
                    start[1] + step * np.cos(angle) + rng.normal(0, 0.004),
                )
        lines.append(ids)
    (folder / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\nM,Metro,https://example.org,Asia/Shanghai\n"
    )
    (folder / "stops.txt").write_text(
        "stop_id,stop_name,stop_lat,stop_lon\n"
        + "".join(f"{stop},{stop},{lat:.6f},{lon:.6f}\n" for stop, (lat, lon) in stations.items())
    )
    (folder / "routes.txt").write_text(
        "route_id,agency_id,route_short_name,route_type\n"
        + "".join(f"R{line},M,{line + 1},1\n" for line in range(LINES))
    )
    trips_rows, times_rows = [], []
    for line, ids in enumerate(lines):
        for direction, stops in (("up", ids), ("down", ids[::-1])):
            trip = f"R{line}-{direction}"
            trips_rows.append(f"R{line},daily,{trip}\n")
            times_rows += [
                f"{trip},08:{i:02d}:00,08:{i:02d}:00,{stop},{i + 1}\n"
                for i, stop in enumerate(stops)
            ]
    (folder / "trips.txt").write_text("route_id,service_id,trip_id\n" + "".join(trips_rows))
    (folder / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + "".join(times_rows)
    )
    return list(stations)


def gtfs_lookup(engine: Engine, trips: int, runs: int, seed: int) -> dict[str, Any]:
    from carbonfoot_builtins.distance_gtfs import PROVIDER

    with tempfile.TemporaryDirectory() as scratch:
        feed = Path(scratch)
        stations = write_feed(feed, seed)
        rng = np.random.default_rng(seed)
        names = pa.array(stations, type=pa.string())
        origin = names.take(pa.array(rng.integers(0, len(stations), trips)))
        target = names.take(pa.array(rng.integers(0, len(stations), trips)))
        metro = engine.modes.code_of("metro")
        # As the intake builds it: each row's mode id, from its mode code.
        mode_codes = np.full(trips, metro, dtype=np.int32)
        mode_ids = np.asarray([*engine.modes.ids, ""], dtype=object)[mode_codes]
        request = DistanceRequest(
            columns={"from_stop": origin, "to_stop": target},
            mode_ids=mode_ids,
            modes=engine.modes,
            options={"gtfs": str(feed)},
            mode_codes=mode_codes,
        )
        network = load_network(feed)
        matrix = dijkstra(network.graphs["metro"], directed=True)
        matrix[np.isinf(matrix)] = np.nan
        station_ids = pa.array(network.stop_ids, type=pa.string())

        def reference() -> npt.NDArray[np.float64]:
            rows = pc.index_in(origin, value_set=station_ids).to_numpy(zero_copy_only=False)
            columns = pc.index_in(target, value_set=station_ids).to_numpy(zero_copy_only=False)
            return np.asarray(matrix[rows, columns], dtype=np.float64)

        def provider() -> npt.NDArray[np.float64]:
            return np.asarray(PROVIDER.derive(request).km, dtype=np.float64)

        ours, theirs = provider(), reference()  # warm: feed read, shortest paths cached
        if not np.array_equal(ours, theirs, equal_nan=True):
            raise SystemExit(
                "GTFS provider and reference disagree; a fast wrong answer does not count"
            )
        times = rotated(runs, provider=sample(provider), reference=sample(reference))
        parts = {
            "stop ids to nodes (Network.nodes, both columns)": round(
                timed(lambda: (network.nodes(origin), network.nodes(target))), 3
            ),
            "modes present (bincount of the mode codes)": round(
                timed(lambda: np.flatnonzero(np.bincount(mode_codes))), 3
            ),
        }
    ours_s, reference_s = median(times["provider"]), median(times["reference"])
    return {
        "stations": len(stations),
        "lines": LINES,
        "trips": trips,
        "median_s": {"provider": round(ours_s, 3), "reference": round(reference_s, 3)},
        "trips_per_s": {
            "provider": round(trips / ours_s),
            "reference": round(trips / reference_s),
        },
        "ratio_to_reference": round(ours_s / reference_s, 2),
        "target_trips_per_s": 10_000_000,
        "met": trips / ours_s >= 10_000_000,
        "parts_s": parts,
        "all_runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    users = max(1, args.trips // 10)
    probe = engine_with_cap(None)
    trips: Trips = generate(probe, args.trips, users, args.seed)
    cap, share_over = cap_for(probe, trips)
    engine = engine_with_cap(cap)
    table = trips.table()
    command = f"python benchmarks/bench_intake.py --trips {args.trips} --runs {args.runs}"
    print(f"{args.trips:,} trips, {users:,} users; daily cap {cap} ({share_over:.1%} over)")

    bare = carbonfoot_credits(engine, trips)
    assert_identical("plain (no checks, same table)", bare, plain_credits(engine, table))
    assert_identical("checked (Engine.prepare + award)", bare, checked_credits(engine, table))
    assert_identical("Engine.compute", bare, computed_credits(engine, table))
    del bare
    times = rotated(
        args.runs,
        bare=sample(lambda: carbonfoot_credits(engine, trips)),
        plain=sample(lambda: plain_credits(engine, table)),
        checked=sample(lambda: checked_credits(engine, table)),
        compute=sample(lambda: computed_credits(engine, table)),
    )
    bare_s, plain_s, checked_s, compute_s = (
        median(times[name]) for name in ("bare", "plain", "checked", "compute")
    )
    overhead = checked_s / plain_s - 1
    over_bare = checked_s / bare_s - 1
    parts = prepare_parts(engine, table)
    checks = {
        "command": command,
        "trips": args.trips,
        "users": users,
        "factor_set": FACTOR_SET,
        "policy": f"green-credit, grams_per_credit={GRAMS_PER_CREDIT}, daily_cap={cap}",
        "runs": args.runs,
        "median_s": {
            "bare": round(bare_s, 3),
            "plain": round(plain_s, 3),
            "checked": round(checked_s, 3),
            "compute": round(compute_s, 3),
        },
        "trips_per_s": {name: round(args.trips / median(values)) for name, values in times.items()},
        "checks_overhead_over_plain": round(overhead, 2),
        "checks_overhead_over_bare": round(over_bare, 2),
        "target_overhead": 0.5,
        "target_reference": "plain: the same table, computed with no checks",
        "met": overhead <= 0.5,
        "prepare_parts_s": parts,
        "all_runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
    }
    record("intake_checks_overhead", checks)
    print("validation + plausibility:")
    for name in ("bare", "plain", "checked", "compute"):
        print(
            f"   {name:8s} {median(times[name]):8.3f} s  {checks['trips_per_s'][name]:>12,} trips/s"
        )
    print(
        f"   checks cost {overhead:.0%} over the plain calculation of the same table "
        f"(target <= 50%: {'met' if checks['met'] else 'MISSED'}); "
        f"{over_bare:.0%} over the bare kernel from ready arrays"
    )
    for name, seconds in parts.items():
        print(f"     {seconds:8.3f} s  {name}")

    lookup = gtfs_lookup(engine, args.trips, args.runs, args.seed)
    lookup["command"] = command
    record("gtfs_station_lookup", lookup)
    print(f"GTFS station lookup, {lookup['stations']} stations:")
    for name in ("provider", "reference"):
        print(
            f"   {name:9s} {lookup['median_s'][name]:8.3f} s  "
            f"{lookup['trips_per_s'][name]:>12,} trips/s"
        )
    print(
        f"   target >= 10,000,000 trips/s: {'met' if lookup['met'] else 'MISSED'} "
        f"(ratio to reference {lookup['ratio_to_reference']}x)"
    )
    for name, seconds in lookup["parts_s"].items():
        print(f"     {seconds:8.3f} s  {name}")


if __name__ == "__main__":
    main()
