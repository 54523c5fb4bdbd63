"""`carbonfoot calc` on a CSV of 1 million trips, to Parquet, against pyarrow alone.

Reference: a Python process that only reads the same CSV with pyarrow and writes it as
Parquet. Both are whole processes (interpreter start and imports included), timed
alternately; the figure is the median of the runs and the ratio of the medians. The
core issue's target: carbonfoot at most 4x the reference.

    python benchmarks/bench_calc_csv.py [--trips 1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from _common import DATA, interleaved, median, python, record, run_command

REFERENCE = """
import sys, pyarrow.csv, pyarrow.parquet
table = pyarrow.csv.read_csv(sys.argv[1])
pyarrow.parquet.write_table(table, sys.argv[2])
"""


def trips_file(trips: int) -> Path:
    path = DATA / f"trips-{trips}.csv"
    if not path.exists():
        from carbonfoot.demo.synthetic import generate_trips
        from carbonfoot.io import write_result_file

        DATA.mkdir(parents=True, exist_ok=True)
        write_result_file(generate_trips(trips, users=max(1, trips // 3), days=1, seed=7), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    source = trips_file(args.trips)
    carbonfoot = shutil.which("carbonfoot") or str(Path(python()).with_name("carbonfoot"))
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        times = interleaved(
            args.runs,
            pyarrow=lambda: run_command(
                [python(), "-c", REFERENCE, str(source), str(out / "ref.parquet")]
            ),
            carbonfoot=lambda: run_command(
                [carbonfoot, "calc", str(source), "-o", str(out / "cf.parquet"), "-q"]
            ),
        )
    reference, ours = median(times["pyarrow"]), median(times["carbonfoot"])
    result = {
        "command": f"python benchmarks/bench_calc_csv.py --trips {args.trips} --runs {args.runs}",
        "trips": args.trips,
        "file_mb": round(source.stat().st_size / 1e6, 1),
        "runs": args.runs,
        "pyarrow_read_csv_write_parquet_s": round(reference, 3),
        "carbonfoot_calc_s": round(ours, 3),
        "carbonfoot_trips_per_s": round(args.trips / ours),
        "ratio_to_pyarrow": round(ours / reference, 2),
        "target_ratio": 4.0,
        "all_runs_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
    }
    record("calc_csv_to_parquet", result)
    print(f"{args.trips:,} trips, {result['file_mb']} MB CSV, median of {args.runs} runs")
    print(f"  pyarrow read CSV + write Parquet: {reference:.3f} s")
    print(
        f"  carbonfoot calc CSV -> Parquet:   {ours:.3f} s ({result['carbonfoot_trips_per_s']:,} trips/s)"
    )
    print(f"  ratio: {result['ratio_to_pyarrow']}x (target <= 4x)")


if __name__ == "__main__":
    main()
