"""A ledger knows itself: created only when asked, foreign and newer databases refused by
name, older ones migrated, PostgreSQL opened without DDL and with bounded waits."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from carbonfoot import Engine, LedgerError
from carbonfoot.ledger import SCHEMA_VERSION, Ledger, open_store
from tests.ledger.conftest import Trips

DATA = Path(__file__).resolve().parents[1] / "data" / "ledger-v1"
CARBONFOOT = str(Path(sys.executable).with_name("carbonfoot"))
MORNING = "2024-05-01T08:00:00+08:00"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CARBONFOOT, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [["balance", "u1"], ["history", "u1"], ["verify"], ["review"]])
def test_a_read_on_a_mistyped_database_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    done = run("ledger", *command, "--db", "ledgr.db", cwd=tmp_path)
    assert done.returncode == 2
    assert "ledgr.db: no ledger database there" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "ledgr.db").exists()


def test_init_creates_and_credit_creates_on_first_use(tmp_path: Path) -> None:
    assert run("ledger", "init", "--db", "a.db", cwd=tmp_path).returncode == 0
    assert run("ledger", "verify", "--db", "a.db", cwd=tmp_path).returncode == 0
    with Ledger.open(tmp_path / "b.db", Engine(policy_params={"daily_cap": "500"})) as book:
        assert book.verify().ok


def test_an_empty_file_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    for create in (False, True):
        with pytest.raises(
            LedgerError, match=r"empty\.db: is an empty file, not a carbonfoot ledger"
        ):
            open_store(tmp_path / "empty.db", create=create)
    assert (tmp_path / "empty.db").read_bytes() == b""


def test_another_applications_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)")
    before = path.read_bytes()
    with pytest.raises(
        LedgerError, match=r"not a carbonfoot ledger: .*another application's tables \(orders\)"
    ):
        open_store(path, create=True)
    assert path.read_bytes() == before
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(LedgerError, match="not a SQLite database"):
        open_store(tmp_path / "notes.txt", create=True)


@pytest.mark.parametrize("url", ["mysql://root@localhost/test", "mongodb://x", "http://ledger"])
def test_an_unsupported_url_scheme_is_named(url: str) -> None:
    with pytest.raises(LedgerError, match="unsupported database URL scheme"):
        open_store(url, create=True)


def test_a_ledger_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    open_store(path, create=True).close()
    with sqlite3.connect(path) as connection:
        connection.execute(
            "UPDATE ledger_meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION + 1),)
        )
    with pytest.raises(
        LedgerError, match=f"schema version {SCHEMA_VERSION + 1}, written by a newer"
    ):
        open_store(path)


def test_a_ledger_of_schema_1_is_migrated_and_still_verifies(tmp_path: Path) -> None:
    """tests/data/ledger-v1/ledger.db was written by carbonfoot before schema 2 (see the README)."""
    path = tmp_path / "ledger.db"
    shutil.copy(DATA / "ledger.db", path)
    with Ledger.open(path, create=False) as book:
        report = book.verify()
        assert report.ok, report.problem
        assert report.entries == 8
        assert book.balance("u1") == 133
        assert book.balance("u2") == 602
        assert book.balance("u3") == 0
    with sqlite3.connect(path) as connection:
        assert dict(connection.execute("SELECT key, value FROM ledger_meta")) == {
            "application": "carbonfoot ledger",
            "schema": str(SCHEMA_VERSION),
        }


def test_a_migrated_ledger_goes_on_crediting(tmp_path: Path, trips: Trips) -> None:
    path = tmp_path / "ledger.db"
    shutil.copy(DATA / "ledger.db", path)
    engine = Engine("uk-desnz-2024", policy_params={"daily_cap": "500"})
    with Ledger.open(path, engine) as book:
        report = book.credit(trips(("t9", "u1", "metro", 2.0, "2024-05-03T08:00:00+08:00")))
        assert report.credited == 1
        again = book.credit(
            {
                "trip_id": ["t1"],
                "user_id": ["u1"],
                "mode": ["metro"],
                "distance": [3.0],
                "started_at": ["2024-05-01T08:00:00+08:00"],
            }
        )
        assert again.replayed == 1  # credited under schema 1: still once
        assert book.verify().ok


def test_postgres_is_opened_without_ddl_so_a_read_never_waits_for_a_writer(
    postgres_location: str, trips: Trips
) -> None:
    engine = Engine(policy_params={"daily_cap": "500"})
    with Ledger.open(postgres_location, engine) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
    writer = Ledger.open(postgres_location, engine)
    hold = threading.Event()
    release = threading.Event()

    def stall(cursor: object) -> None:
        hold.set()
        release.wait(10)

    thread = threading.Thread(target=lambda: writer.store.transaction(stall))
    thread.start()
    hold.wait(10)
    try:
        started = time.monotonic()
        with Ledger.open(postgres_location, create=False) as reader:
            assert reader.balance("u") == 234
            assert reader.verify().ok
        assert time.monotonic() - started < 5
    finally:
        release.set()
        thread.join()
        writer.close()


def test_postgres_writers_wait_a_bounded_time_for_a_stalled_one(
    postgres_location: str, trips: Trips
) -> None:
    engine = Engine(policy_params={"daily_cap": "500"})
    with Ledger.open(postgres_location, engine) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
    writer = Ledger.open(postgres_location, engine)
    hold, release = threading.Event(), threading.Event()

    def stall(cursor: object) -> None:
        hold.set()
        release.wait(20)

    thread = threading.Thread(target=lambda: writer.store.transaction(stall))
    thread.start()
    hold.wait(10)
    try:
        impatient = f"{postgres_location}&lock_timeout=1"
        started = time.monotonic()
        with (
            Ledger.open(impatient, engine) as other,
            pytest.raises(LedgerError, match="waited 1 s"),
        ):
            other.redeem("u", 1, request_id="r", item="x")
        assert time.monotonic() - started < 8
    finally:
        release.set()
        thread.join()
        writer.close()


def test_postgres_reconnects_and_retries_after_a_dropped_connection(
    postgres_location: str, trips: Trips
) -> None:
    import psycopg

    from tests.ledger.conftest import POSTGRES_URL

    engine = Engine(policy_params={"daily_cap": "500"})
    with Ledger.open(postgres_location, engine) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING)))
        pid = book.store.connection.info.backend_pid
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        receipt = book.redeem("u", 10, request_id="after-the-drop", item="bus ticket")
        assert receipt.balance_after == 224
        assert book.store.connection.info.backend_pid != pid
        assert book.verify().ok


def test_a_second_store_on_a_file_keeps_the_first_seeing_other_processes_writes(
    tmp_path: Path,
) -> None:
    """Opening a store used to read the file's header through a descriptor of its own;
    closing it dropped this process's POSIX locks, so another process closing its
    connection took itself for the last, reset the WAL index, and this process's
    connections saw that moment's ledger from then on."""
    import subprocess
    import sys

    path = tmp_path / "ledger.db"
    first = open_store(path, create=True)
    second = open_store(path)  # the header check ran here, beside first's connection
    try:
        for round_ in range(3):
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from carbonfoot.ledger import open_store; s = open_store(sys.argv[1]); "
                    "s.transaction(lambda c: c.execute(\"INSERT INTO ledger_meta (key, value) VALUES (?, 'x')\", (sys.argv[2],))); "
                    "s.close()",
                    str(path),
                    f"probe-{round_}",
                ],
                check=True,
            )
            for store in (first, second):
                with store.read() as cursor:
                    found = cursor.execute("SELECT key FROM ledger_meta WHERE key LIKE 'probe-%'")
                assert len(found) == round_ + 1
    finally:
        first.close()
        second.close()
