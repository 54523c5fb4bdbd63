"""Start-up: a ``carbonfoot`` command on a tiny file against the floor of importing
numpy and pyarrow (what any columnar tool pays before it reads a byte).

Each case is a fresh process, timed as a whole (wall clock), alternating with the floor
in rotation so load drift hits all alike; medians of ``--runs``. Cases:

* ``calc``: ``carbonfoot calc`` of a 2-row CSV file to CSV (``-q``);
* ``explain``: ``carbonfoot explain --mode metro --distance '5 km'``;
* ``help``: ``carbonfoot --help``;
* ``floor``: ``python -c "import numpy, pyarrow, pyarrow.compute"``;
* ``python``: ``python -c pass`` (the interpreter alone).

The goal (issue: speed where users feel it) is calc within 1.5x of the floor. Also
recorded: which heavy libraries the calc process has imported when it ends.

    python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import median, record, rotated, run_command

HEAVY = ("pandas", "pint", "dask", "scipy", "matplotlib", "pyarrow.acero")


def imported(args: list[str]) -> list[str]:
    """The heavy modules a command has imported when it ends."""
    code = (
        "import sys\n"
        "from carbonfoot.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    last = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    return [name for name in last.split(",") if name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    carbonfoot = str(Path(sys.executable).with_name("carbonfoot"))
    with tempfile.TemporaryDirectory() as scratch:
        trips = Path(scratch) / "trips.csv"
        trips.write_text(
            "trip_id,user_id,mode,distance,started_at\n"
            "t1,u1,metro,3,2024-05-01T08:00:00+08:00\n"
            "t2,u1,bus,4,2024-05-01T09:00:00+08:00\n",
            encoding="utf-8",
        )
        output = str(Path(scratch) / "results.csv")
        calc = [carbonfoot, "calc", str(trips), "-o", output, "-q"]
        run_command(calc)  # warm the page cache and any bytecode
        times = rotated(
            args.runs,
            calc=lambda: run_command(calc),
            explain=lambda: run_command(
                [carbonfoot, "explain", "--mode", "metro", "--distance", "5 km"]
            ),
            help=lambda: run_command([carbonfoot, "--help"]),
            floor=lambda: run_command(
                [sys.executable, "-c", "import numpy, pyarrow, pyarrow.compute"]
            ),
            python=lambda: run_command([sys.executable, "-c", "pass"]),
        )
        heavy = imported(["calc", str(trips), "-o", output, "-q"])
    seconds = {name: round(median(values), 4) for name, values in times.items()}
    floor = seconds["floor"]
    result = {
        "command": f"python benchmarks/bench_startup.py --runs {args.runs}",
        "seconds_median": seconds,
        "ratio_to_floor": {
            name: round(value / floor, 2) for name, value in seconds.items() if name != "floor"
        },
        "floor": "python -c 'import numpy, pyarrow, pyarrow.compute' in the same run",
        "goal": "calc within 1.5x of the floor",
        "calc_imports_heavy": heavy,
    }
    record("startup", result)
    for name, value in seconds.items():
        print(f"{name:8} {value:7.3f} s  {value / floor:5.2f}x floor")
    print(f"calc imports: {', '.join(heavy) or 'none of ' + ', '.join(HEAVY)}")


if __name__ == "__main__":
    main()
