"""Several processes at once, on SQLite and PostgreSQL: each trip credited once, caps hold,
totals equal a serial run, and a balance is never overdrawn."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.compute as pc
from ledger_worker import DAILY_CAP, batch, ledger_engine

from carbonfoot.ledger import Ledger

WORKER = Path(__file__).parent / "scripts" / "ledger_worker.py"
TRIPS = 4_000
TRIP_SEED = 3
PROCESSES = 4


def start_together(commands: list[list[str]], go: Path) -> list[str]:
    """Run the workers, release them at once when all are ready; their last output lines."""
    workers = [
        subprocess.Popen([sys.executable, str(WORKER), *command], stdout=subprocess.PIPE, text=True)
        for command in commands
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    go.touch()
    outputs = []
    for worker in workers:
        out, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0, out
        outputs.append(out.strip().splitlines()[-1] if out.strip() else "")
    return outputs


def day_totals(location: str) -> tuple[dict[tuple[str, dt.date], int], list[str]]:
    with Ledger.open(location, ledger_engine()) as book:
        assert book.verify().ok
        export = book.export()
    credits = export.filter(pc.equal(export["kind"], "credit"))
    totals: dict[tuple[str, dt.date], int] = defaultdict(int)
    for user, day, amount in zip(
        credits["user_id"].to_pylist(),
        credits["local_day"].to_pylist(),
        credits["amount_minor"].to_pylist(),
        strict=True,
    ):
        totals[(user, day)] += amount
    return dict(totals), credits["trip_id"].to_pylist()


def test_processes_crediting_the_same_trips_shuffled_twice_credit_each_once(
    location: str, tmp_path: Path
) -> None:
    serial = str(tmp_path / "serial.db")
    with Ledger.open(serial, ledger_engine()) as book:
        book.credit(batch(TRIPS, TRIP_SEED))
    expected, _ = day_totals(serial)
    go = tmp_path / "go"
    commands = [
        [
            "credit",
            location,
            "--trips",
            str(TRIPS),
            "--seed",
            str(TRIP_SEED),
            "--shuffle",
            str(k),
            "--repeat",
            "2",
            "--chunk",
            "300",
            "--go",
            str(go),
        ]
        for k in range(PROCESSES)
    ]
    start_together(commands, go)
    totals, trip_ids = day_totals(location)
    assert len(trip_ids) == len(set(trip_ids)) == batch(TRIPS, TRIP_SEED).num_rows
    assert totals == expected  # per user and day: what the serial run issued
    assert max(totals.values()) <= int(DAILY_CAP)
    assert sum(1 for total in totals.values() if total == int(DAILY_CAP)) > 10  # the cap bit


def test_concurrent_full_balance_redemptions_let_exactly_one_through(
    location: str, tmp_path: Path
) -> None:
    with Ledger.open(location, ledger_engine()) as book:
        book.credit(
            {
                "trip_id": ["a"],
                "user_id": ["u"],
                "mode": ["metro"],
                "distance": [4.0],
                "started_at": ["2024-05-01T08:00:00+08:00"],
            }
        )
        balance = book.balance("u")
    assert balance > 0
    go = tmp_path / "go"
    commands = [
        ["redeem", location, "u", str(balance), f"order-{k}", "--go", str(go)]
        for k in range(PROCESSES)
    ]
    outputs = start_together(commands, go)
    assert sorted(outputs) == ["insufficient"] * (PROCESSES - 1) + ["ok"]
    with Ledger.open(location, ledger_engine()) as book:
        assert book.balance("u") == 0
        assert book.verify().ok
