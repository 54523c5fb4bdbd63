"""A separate process that writes to a ledger, for the concurrency and crash tests.

    python ledger_worker.py credit LOCATION --trips N --seed S --shuffle K [--repeat R]
    python ledger_worker.py redeem LOCATION USER AMOUNT REQUEST_ID

``credit`` builds the same synthetic trips for a given ``--seed`` in every process, puts
them in the order of ``--shuffle`` and credits them ``--repeat`` times in chunks of
``--chunk`` rows. ``redeem`` prints ``ok`` or ``insufficient``. Both wait for the file
named by ``--go`` to exist before writing, so several workers start together.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from carbonfoot import Engine, InsufficientBalanceError
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.ledger import Ledger

DAILY_CAP = "300"


def ledger_engine() -> Engine:
    """The engine every worker and every test of these files credits with."""
    return Engine("uk-desnz-2025", policy_params={"daily_cap": DAILY_CAP})


def batch(trips: int, seed: int) -> pa.Table:
    """Synthetic trips, few users per trip so the daily cap bites, valid rows only."""
    table = generate_trips(trips, users=max(1, trips // 8), seed=seed, as_text=False)
    return table.select(["trip_id", "user_id", "mode", "distance", "distance_unit", "started_at"])


def shuffled(table: pa.Table, shuffle: int) -> pa.Table:
    order = np.random.default_rng(shuffle).permutation(table.num_rows)
    return table.take(pa.array(order))


def wait_for(go: str | None) -> None:
    if go:
        while not Path(go).exists():
            time.sleep(0.005)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    credit = commands.add_parser("credit")
    credit.add_argument("location")
    credit.add_argument("--trips", type=int, required=True)
    credit.add_argument("--seed", type=int, required=True)
    credit.add_argument("--shuffle", type=int, default=None)
    credit.add_argument("--repeat", type=int, default=1)
    credit.add_argument("--chunk", type=int, default=50_000)
    credit.add_argument("--go")
    redeem = commands.add_parser("redeem")
    redeem.add_argument("location")
    redeem.add_argument("user")
    redeem.add_argument("amount")
    redeem.add_argument("request_id")
    redeem.add_argument("--go")
    args = parser.parse_args(argv)
    if args.command == "credit":
        trips = batch(args.trips, args.seed)
        if args.shuffle is not None:
            trips = shuffled(trips, args.shuffle)
        with Ledger.open(args.location, ledger_engine()) as book:
            print("ready", flush=True)
            wait_for(args.go)
            for _ in range(args.repeat):
                report = book.credit(trips, chunk_rows=args.chunk)
                print(f"credited {report.credited} replayed {report.replayed}", flush=True)
        return 0
    with Ledger.open(args.location, ledger_engine()) as book:
        print("ready", flush=True)
        wait_for(args.go)
        try:
            book.redeem(args.user, args.amount, args.request_id, "bus pass")
        except InsufficientBalanceError:
            print("insufficient", flush=True)
            return 0
        print("ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
