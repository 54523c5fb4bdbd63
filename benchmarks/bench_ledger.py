"""The ledger on SQLite: crediting 1,000,000 trips through the batch path, and redemptions.

Trips: synthetic (seed 9), 1,000,000 trips of 333,333 users on one day, as a Parquet-like
in-memory table (typed columns). Reported, each the median of ``--runs`` fresh databases:

* ``Ledger.credit`` of the whole batch (chunks of 50,000 trips, one transaction each):
  wall time and trips/s. Reference, timed alternately in the same run: the machine's floor
  for keeping one row per trip, a plain ``executemany`` of the same number of rows with the
  same columns into a table with the same indexes, in one transaction. And the least
  bookkeeping any storage layout keeping the ledger's promises must do, durably, chunk by
  chunk: one row per trip id (idempotency) and one upsert per user into a balance and a
  per-user-day total (caps across batches); no entry content, no chain, no engine.
* Replaying the same batch (every trip already credited), and ``verify`` of the chain.
* Redemption latency: ``--redemptions`` single redemptions of 1 credit by random users
  with a balance, each its own durable transaction; p50 and p99.

    python benchmarks/bench_ledger.py [--trips 1000000] [--runs 3] [--redemptions 10000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from _common import median, record, rotated
from carbonfoot import Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.ledger import Ledger
from carbonfoot.ledger.entries import ENTRY_COLUMNS
from carbonfoot.ledger.store import _TABLES, SQLITE_CACHE_KIB


def fresh(directory: Path, name: str) -> Path:
    path = directory / name
    for leftover in directory.glob(f"{name}*"):
        leftover.unlink()
    return path


def plain_insert(path: Path, rows: list[tuple[object, ...]]) -> float:
    """One row per trip, same columns and indexes, no logic: the storage floor."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    schema = _TABLES.replace("seq BIGINT PRIMARY KEY", "seq INTEGER PRIMARY KEY")
    connection.executescript(schema)
    marks = ",".join("?" * len(ENTRY_COLUMNS))
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        f"INSERT INTO entries ({','.join(ENTRY_COLUMNS)}) VALUES ({marks})", rows
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def least_bookkeeping(path: Path, trips: pa.Table, chunk_rows: int = 50_000) -> float:
    """The least any layout keeping the ledger's promises writes, durably, per chunk.

    One row per trip id (the idempotency key; ids sorted within the chunk, the kindest
    order for the index), and one upsert per user of the chunk into a balance table and
    into a per-user-day total (the daily cap across batches). No entry content, no hash
    chain, no engine: a floor, not a design.
    """
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    connection.executescript(
        "CREATE TABLE trips (trip_id TEXT PRIMARY KEY, block INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE balances (user_id TEXT PRIMARY KEY, minor INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE days (user_id TEXT, day INTEGER, minor INTEGER NOT NULL, "
        "PRIMARY KEY (user_id, day)) WITHOUT ROWID;"
    )
    ids = trips["trip_id"].to_pylist()
    users = trips["user_id"].to_pylist()
    started = time.perf_counter()
    for block, first in enumerate(range(0, len(ids), chunk_rows)):
        chunk_users = sorted(set(users[first : first + chunk_rows]))
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO trips VALUES (?, ?)",
            [(trip, block) for trip in sorted(ids[first : first + chunk_rows])],
        )
        connection.executemany(
            "INSERT INTO balances VALUES (?, 1) ON CONFLICT (user_id) DO UPDATE SET minor = minor + 1",
            [(user,) for user in chunk_users],
        )
        connection.executemany(
            "INSERT INTO days VALUES (?, 19844, 1) ON CONFLICT (user_id, day) DO UPDATE SET minor = minor + 1",
            [(user,) for user in chunk_users],
        )
        connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def entry_rows(trips: pa.Table) -> list[tuple[object, ...]]:
    """Rows shaped like credit entries, for the reference insert."""
    size = trips.num_rows
    ids = trips["trip_id"].to_pylist()
    users = trips["user_id"].to_pylist()
    modes = trips["mode"].to_pylist()
    distance = trips["distance"].to_pylist()
    digest = "0123456789abcdef0123456789abcdef"
    return [
        (
            seq + 1,
            f"credit:{ids[seq]}",
            "credit",
            users[seq],
            "credit",
            100,
            ids[seq],
            None,
            None,
            None,
            19844,
            modes[seq],
            distance[seq],
            1714521600000000 + seq,
            123456,
            100,
            "run",
            None,
            digest,
        )
        for seq in range(size)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--redemptions", type=int, default=10_000)
    args = parser.parse_args()
    trips = generate_trips(args.trips, users=max(1, args.trips // 3), seed=9, as_text=False)
    engine = Engine("uk-desnz-2025", policy_params={"daily_cap": "1000"})
    rows = entry_rows(trips)
    scratch = tempfile.TemporaryDirectory()
    directory = Path(scratch.name)
    replays: list[float] = []
    verifies: list[float] = []

    def credit() -> float:
        path = fresh(directory, "ledger.db")
        with Ledger.open(str(path), engine) as book:
            started = time.perf_counter()
            report = book.credit(trips)
            elapsed = time.perf_counter() - started
            assert report.credited == trips.num_rows, report
            started = time.perf_counter()
            again = book.credit(trips)
            replays.append(time.perf_counter() - started)
            assert again.replayed == trips.num_rows
            started = time.perf_counter()
            assert book.verify().ok
            verifies.append(time.perf_counter() - started)
        return elapsed

    def reference() -> float:
        return plain_insert(fresh(directory, "plain.db"), rows)

    def bookkeeping() -> float:
        return least_bookkeeping(fresh(directory, "least.db"), trips)

    times = rotated(args.runs, carbonfoot=credit, reference=reference, least=bookkeeping)
    ours, floor = median(times["carbonfoot"]), median(times["reference"])
    least = median(times["least"])

    # Redemptions on the last ledger: random users with a balance, one credit each.
    latencies = []
    with Ledger.open(str(directory / "ledger.db"), engine) as book:
        export = book.export()
        amounts = np.asarray(export["amount_minor"].to_numpy())
        users = np.asarray(export["user_id"].to_pylist(), dtype=object)[amounts > 0]
        chosen = np.random.default_rng(4).choice(users, size=args.redemptions)
        for index, user in enumerate(chosen.tolist()):
            started = time.perf_counter()
            book.redeem(user, 1, f"bench-{index}", "bus ticket")
            latencies.append(time.perf_counter() - started)
    scratch.cleanup()
    p50, p99 = (float(np.percentile(latencies, q)) * 1000 for q in (50, 99))
    result = {
        "trips": args.trips,
        "runs": args.runs,
        "credit_s": round(ours, 3),
        "credit_trips_per_s": round(args.trips / ours),
        "reference_plain_insert_s": round(floor, 3),
        "reference_rows_per_s": round(args.trips / floor),
        "ratio_to_plain_insert": round(ours / floor, 2),
        "least_bookkeeping_s": round(least, 3),
        "least_bookkeeping_trips_per_s": round(args.trips / least),
        "replay_s": round(median(replays), 3),
        "verify_s": round(median(verifies), 3),
        "redemptions": args.redemptions,
        "redeem_p50_ms": round(p50, 3),
        "redeem_p99_ms": round(p99, 3),
        "target_trips_per_s": 200_000,
        "target_redeem_p99_ms": 5.0,
    }
    print(
        f"credit {args.trips:,} trips: {ours:.2f} s ({args.trips / ours:,.0f} trips/s); "
        f"plain insert of the same rows {floor:.2f} s; ratio {ours / floor:.2f}x\n"
        f"least bookkeeping any layout must do (trip-id row, balance and day upserts): "
        f"{least:.2f} s ({args.trips / least:,.0f} trips/s)\n"
        f"replay {median(replays):.2f} s, verify {median(verifies):.2f} s; "
        f"redeem p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )
    record("ledger_sqlite", result)


if __name__ == "__main__":
    main()
