"""Kill a crediting process at a random point, re-run the batch, compare with a clean run.

The suite runs a bounded sample of seeds (tests/ledger/test_crash.py); `make stress` runs
many more::

    python tests/ledger/scripts/crash_replay.py --seeds 200 --trips 100000
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from ledger_worker import batch, ledger_engine

from carbonfoot.ledger import Ledger

WORKER = Path(__file__).with_name("ledger_worker.py")
TRIP_SEED = 11
CHUNK_ROWS = 5_000
#: Columns of an export that must match the clean run exactly (everything but recording time).
COMPARED = ("seq", "entry_id", "user_id", "amount_minor", "trip_id", "local_day", "digest")


def clean_run(trips: int, directory: Path) -> tuple[pa.Table, float]:
    """The ledger's export after one uninterrupted credit, and how long that took."""
    with Ledger.open(str(directory / "clean.db"), ledger_engine()) as book:
        started = time.perf_counter()
        book.credit(batch(trips, TRIP_SEED), chunk_rows=CHUNK_ROWS)
        took = time.perf_counter() - started
        return book.export().select(COMPARED), took


def crash_and_replay(seed: int, trips: int, directory: Path, window_s: float) -> dict[str, object]:
    """Kill a worker crediting ``trips`` after a random delay; re-run; describe the outcome."""
    path = directory / f"crash-{seed}.db"
    worker = subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "credit",
            str(path),
            "--trips",
            str(trips),
            "--seed",
            str(TRIP_SEED),
            "--chunk",
            str(CHUNK_ROWS),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    time.sleep(random.Random(seed).uniform(0.0, window_s))
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    with sqlite3.connect(path) as raw:
        before = raw.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    with Ledger.open(str(path), ledger_engine()) as book:
        book.credit(batch(trips, TRIP_SEED), chunk_rows=CHUNK_ROWS)
        export = book.export()
        verified = book.verify()
    with sqlite3.connect(path) as raw:
        integrity = raw.execute("PRAGMA integrity_check").fetchone()[0]
    credits = export.filter(pc.equal(export["kind"], "credit"))
    return {
        "seed": seed,
        "entries_before_replay": before,
        "killed_with_exit": worker.returncode,
        "export": export.select(COMPARED),
        "duplicate_trip_ids": credits.num_rows - len(pc.unique(credits["trip_id"])),
        "integrity": integrity,
        "verified": verified.ok,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--trips", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        expected, took = clean_run(args.trips, directory)
        failures = partial = 0
        for seed in range(args.seeds):
            outcome = crash_and_replay(seed, args.trips, directory, window_s=took * 0.9)
            same = outcome["export"].equals(expected)
            ok = same and outcome["duplicate_trip_ids"] == 0 and outcome["integrity"] == "ok"
            ok = ok and bool(outcome["verified"])
            partial += 0 < int(outcome["entries_before_replay"]) < expected.num_rows  # type: ignore[call-overload]
            failures += not ok
            print(
                f"seed {seed}: killed after {outcome['entries_before_replay']} entries, "
                f"{'ok' if ok else 'FAILED'}",
                flush=True,
            )
            for leftover in directory.glob(f"crash-{seed}.db*"):
                os.remove(leftover)
        print(f"{args.seeds} seeds, {partial} killed mid-batch, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
