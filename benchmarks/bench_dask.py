"""`carbonfoot calc` of a Parquet file on Dask (1 and 2 local workers) against one process.

Input: synthetic trips (``carbonfoot.demo.synthetic``, seed 7, a user for every 3 trips, one
day), written as Parquet in row groups of ``--partition-rows`` (a Dask partition is a
row group). Policy: 10 g per credit, at most 200 credits a user a day.

1. Whole processes, timed alternately, median of ``--runs``: ``carbonfoot calc`` alone,
   and with ``--workers 1`` and ``--workers 2`` (each starts its local cluster: that start
   is part of the time, as a user sees it).
2. In this process, with the cluster already running: the job alone (read, compute,
   write), for 1 and 2 workers, and the single-process job (read, ``Engine.compute``,
   write), median of ``--runs``. These give the per-core throughput for the estimate.
3. The I/O floor: pyarrow alone reading the input file and writing the single process's
   output table as Parquet, median of ``--runs``; no engine can produce this output from
   this file faster.

The outputs of the three commands are compared (the same rows, columns and types), or the
benchmark stops: a fast wrong answer does not count. The 1-minute load average before and
after is recorded: the machines are shared.

    python benchmarks/bench_dask.py [--trips 10000000] [--runs 3] [--partition-rows 500000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DATA, interleaved, median, python, record, run_command

POLICY = ["--policy-param", "grams_per_credit=10", "--policy-param", "daily_cap=200"]
POLICY_PARAMS = {"grams_per_credit": "10", "daily_cap": "200"}


def trips_file(trips: int, partition_rows: int) -> Path:
    path = DATA / f"trips-{trips}-rg{partition_rows}.parquet"
    if not path.exists():
        import pyarrow.parquet as pq

        from carbonfoot.demo.synthetic import generate_trips

        DATA.mkdir(parents=True, exist_ok=True)
        table = generate_trips(trips, users=max(1, trips // 3), days=1, seed=7)
        pq.write_table(table, path, row_group_size=partition_rows)
    return path


def same_content(left: Path, right: Path) -> bool:
    """The same rows, columns and types (dictionaries may differ, as their encoding may)."""
    import pyarrow.parquet as pq

    from carbonfoot.dask.frames import plain_types

    a, b = pq.read_table(left), pq.read_table(right)
    return a.schema.equals(b.schema, check_metadata=True) and plain_types(a).equals(plain_types(b))


def warm_single(source: Path, out: Path) -> float:
    from carbonfoot import Engine
    from carbonfoot.io import read_trip_file, write_result_file

    engine = Engine(policy_params=POLICY_PARAMS)
    started = time.perf_counter()
    write_result_file(engine.compute(read_trip_file(source)).table, out)
    return time.perf_counter() - started


def io_floor(source: Path, output: Path, scratch: Path) -> float:
    """pyarrow alone reading the input and writing the single process's output table:
    what any engine producing this output from this file pays before computing anything."""
    import pyarrow.parquet as pq

    result = pq.read_table(output)
    started = time.perf_counter()
    pq.read_table(source)
    pq.write_table(result, scratch)
    return time.perf_counter() - started


def warm_dask(client: Any, source: Path, out: Path, partition_rows: int) -> float:
    import carbonfoot.dask
    from carbonfoot import Engine

    engine = Engine(policy_params=POLICY_PARAMS)
    started = time.perf_counter()
    trips, schema = carbonfoot.dask.read_trip_file(
        source, partition_rows=partition_rows, client=client
    )
    results = carbonfoot.dask.compute(trips, engine)
    carbonfoot.dask.write_results(results, out, input_schema=schema, client=client)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partition-rows", type=int, default=500_000)
    args = parser.parse_args()
    source = trips_file(args.trips, args.partition_rows)
    load_before = os.getloadavg()[0]
    carbonfoot = shutil.which("carbonfoot") or str(Path(python()).with_name("carbonfoot"))
    calc = [carbonfoot, "calc", str(source), "-q", *POLICY]
    dask_args = ["--chunk-rows", str(args.partition_rows)]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        times = interleaved(
            args.runs,
            single=lambda: run_command([*calc, "-o", str(out / "single.parquet")]),
            workers_1=lambda: run_command(
                [*calc, "-o", str(out / "w1.parquet"), "--workers", "1", *dask_args]
            ),
            workers_2=lambda: run_command(
                [*calc, "-o", str(out / "w2.parquet"), "--workers", "2", *dask_args]
            ),
        )
        identical = same_content(out / "single.parquet", out / "w1.parquet") and same_content(
            out / "single.parquet", out / "w2.parquet"
        )
        warm = warm_runs(source, out, args.runs, args.partition_rows)
        floor = median(
            [
                io_floor(source, out / "single.parquet", out / "floor.parquet")
                for _ in range(args.runs)
            ]
        )
    if not identical:
        raise SystemExit("the Dask runs' output differs from the single process's")
    whole = {name: median(values) for name, values in times.items()}
    result = {
        "command": f"python benchmarks/bench_dask.py --trips {args.trips} --runs {args.runs} "
        f"--partition-rows {args.partition_rows}",
        "trips": args.trips,
        "partitions": -(-args.trips // args.partition_rows),
        "file_mb": round(source.stat().st_size / 1e6, 1),
        "outputs_identical": identical,
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "whole_process_s": {name: round(value, 2) for name, value in whole.items()},
        "job_s_warm_cluster": {name: round(value, 2) for name, value in warm.items()},
        "speed_up_2_over_1_workers": round(whole["workers_1"] / whole["workers_2"], 2),
        "speed_up_2_over_1_workers_warm": round(warm["workers_1"] / warm["workers_2"], 2),
        "overhead_1_worker_over_single": round(whole["workers_1"] / whole["single"], 2),
        "overhead_1_worker_over_single_warm": round(warm["workers_1"] / warm["single"], 2),
        "trips_per_s_warm": {name: round(args.trips / value) for name, value in warm.items()},
        "io_floor_s": round(floor, 2),
        "io_floor_trips_per_s": round(args.trips / floor),
        "single_over_io_floor_warm": round(warm["single"] / floor, 2),
        "target_trips_per_s_single": 5_000_000,
        "all_runs_s": {name: [round(t, 2) for t in values] for name, values in times.items()},
    }
    record("dask_scaling", result)
    print(
        f"{args.trips:,} trips, {result['file_mb']} MB Parquet, {result['partitions']} partitions"
    )
    for name, value in whole.items():
        print(
            f"  whole process {name:9s} {value:7.2f} s   job on a warm cluster {warm[name]:7.2f} s"
        )
    print(
        f"  speed-up 2 vs 1 workers: {result['speed_up_2_over_1_workers']}x "
        f"(warm {result['speed_up_2_over_1_workers_warm']}x)"
    )
    print(
        f"  1 worker / one process: {result['overhead_1_worker_over_single']}x "
        f"(warm {result['overhead_1_worker_over_single_warm']}x)"
    )
    print(
        f"  I/O floor (pyarrow reads the input, writes the same output): {floor:.2f} s, "
        f"at most {args.trips / floor:,.0f} trips/s for any engine; one process warm is "
        f"{result['single_over_io_floor_warm']}x it"
    )
    print(f"  outputs identical: {identical}")


def warm_runs(source: Path, out: Path, runs: int, partition_rows: int) -> dict[str, float]:
    """The job alone, median of ``runs``, for one process and warm clusters of 1 and 2."""
    from carbonfoot.dask import cluster_client

    warm = {"single": median([warm_single(source, out / "warm.parquet") for _ in range(runs)])}
    for workers in (1, 2):
        with cluster_client(workers=workers) as client:
            warm_dask(client, source, out / "warm.parquet", partition_rows)  # workers' imports
            warm[f"workers_{workers}"] = median(
                [
                    warm_dask(client, source, out / "warm.parquet", partition_rows)
                    for _ in range(runs)
                ]
            )
    return warm


if __name__ == "__main__":
    main()
