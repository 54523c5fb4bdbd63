"""Broken files cost about what clean ones do: bad rows and impossible dates, against clean.

Three files of the same trips (``carbonfoot.demo.synthetic``, seed 23, three days), read and computed in memory by
``Engine.compute(read_trip_file(...))``:

* ``clean``: every row well formed;
* ``bad_rows``: one row in a hundred malformed (alternately a field too many, a field too
  few, a quote never closed, a byte that is not UTF-8): each becomes a ``bad_row``;
* ``impossible_dates``: one row in seven dated February 30 (a ``bad_time``).

Reported: the median seconds of each, and each broken file's ratio to the clean one
measured in the same rounds (rotated, so load drift hits all three alike). Both broken
files must give exactly the expected count of bad rows; that is checked before timing.

    python benchmarks/bench_hostile_csv.py [--trips 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

from _common import median, record, rotated, timed
from carbonfoot import Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import read_trip_file, write_result_file

BREAKS = (b",surplus", b"", b'"', b"\xff")
_FIRST_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}T")


def spoiled(clean: bytes, every: int) -> tuple[bytes, int]:
    """The file with one row in ``every`` broken in one of four ways, and how many."""
    lines = clean.split(b"\n")
    broken = 0
    for index in range(1, len(lines) - 1, every):
        kind = BREAKS[broken % len(BREAKS)]
        line = lines[index]
        if kind == b"":
            line = line.rsplit(b",", 1)[0]
        elif kind == b'"':
            line = line.replace(b",", b',"', 1)
        elif kind == b"\xff":
            line = line.replace(b",", b",\xff", 1)
        else:
            line = line + kind
        lines[index] = line
        broken += 1
    return b"\n".join(lines), broken


def impossible(clean: bytes, every: int) -> tuple[bytes, int]:
    lines = clean.split(b"\n")
    changed = 0
    for index in range(1, len(lines) - 1, every):
        lines[index] = _FIRST_DATE.sub(b"2024-02-30T", lines[index], count=1)
        changed += 1
    return b"\n".join(lines), changed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = Engine("uk-desnz-2025")
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        clean_path = base / "clean.csv"
        write_result_file(generate_trips(args.trips, days=3, seed=23), clean_path)
        clean = clean_path.read_bytes()
        bad, bad_count = spoiled(clean, 100)
        dates, date_count = impossible(clean, 7)
        (base / "bad.csv").write_bytes(bad)
        (base / "dates.csv").write_bytes(dates)

        def statuses(name: str) -> dict[str, int]:
            return dict(engine.compute(read_trip_file(base / name)).summary.status_counts)

        found = statuses("bad.csv")
        assert found.get("bad_row") == bad_count, (found, bad_count)
        found = statuses("dates.csv")
        assert found.get("bad_time", 0) >= date_count, (found, date_count)
        times = rotated(
            args.runs,
            clean=lambda: timed(lambda: statuses("clean.csv")),
            bad_rows=lambda: timed(lambda: statuses("bad.csv")),
            impossible_dates=lambda: timed(lambda: statuses("dates.csv")),
        )
    result = {
        "command": f"python benchmarks/bench_hostile_csv.py --trips {args.trips} --runs {args.runs}",
        "trips": args.trips,
        "bad_rows": bad_count,
        "impossible_dates": date_count,
        "seconds": {name: median(values) for name, values in times.items()},
        "ratio_to_clean": {
            name: median(values) / median(times["clean"])
            for name, values in times.items()
            if name != "clean"
        },
    }
    record("hostile_csv", result)
    print(result)


if __name__ == "__main__":
    main()
