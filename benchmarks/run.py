"""`make bench`: run every benchmark in turn, each with its default (issue-sized) arguments.

Each records itself in results.json; to run one with other sizes, call it directly.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_calc_csv.py",
    "bench_uncertainty.py",
    "bench_kernel.py",
    "bench_naive.py",
    "bench_single_trip.py",
    "bench_intake.py",
    "bench_hostile_csv.py",
    "bench_tracks.py",
    "bench_dask.py",
    "bench_ledger.py",
    "bench_startup.py",
]


def main() -> None:
    for script in BENCHMARKS:
        print(f"== {script}", flush=True)
        subprocess.run([sys.executable, str(HERE / script)], check=True, cwd=HERE)


if __name__ == "__main__":
    main()
