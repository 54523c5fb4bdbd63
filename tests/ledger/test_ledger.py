"""The ledger's promises, on both backends: exactly once, caps, no overdraw, audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from carbonfoot import (
    Catalog,
    Engine,
    InsufficientBalanceError,
    LedgerError,
    RequestConflictError,
    TripConflictError,
)
from carbonfoot.ledger import Ledger, open_store

Trips = Callable[..., dict[str, list[object]]]

MORNING = "2024-05-01T08:00:00+08:00"


def engine(catalog: Catalog, **params: str) -> Engine:
    return Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "500", **params})


def test_a_trip_is_credited_once_and_a_replay_returns_the_original(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    batch = trips(("t1", "u1", "metro", 3.0, MORNING), ("t2", "u1", "bus", 2.0, MORNING))
    with Ledger.open(location, engine(catalog)) as book:
        first = book.credit(batch)
        again = book.credit(batch)
        assert (first.credited, again.credited, again.replayed) == (2, 0, 2)
        assert (
            again.outcomes.column("entry_id").to_pylist()
            == first.outcomes.column("entry_id").to_pylist()
        )
        assert (
            again.outcomes.column("amount").to_pylist()
            == first.outcomes.column("amount").to_pylist()
        )
        assert book.balance("u1") == int(first.awarded)
        assert book.verify().ok


def test_the_same_trip_id_with_other_content_is_a_conflict_naming_the_fields(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("t1", "u1", "metro", 3.0, MORNING)))
        before = book.export().num_rows
        with pytest.raises(TripConflictError, match="differs in mode, distance_km") as caught:
            book.credit(
                trips(("t1", "u1", "bus", 4.0, MORNING), ("t9", "u2", "walk", 1.0, MORNING))
            )
        assert caught.value.conflicts == [("t1", ("mode", "distance_km"))]
        assert book.export().num_rows == before  # nothing of the chunk was written
        report = book.credit(
            trips(("t1", "u1", "bus", 4.0, MORNING), ("t9", "u2", "walk", 1.0, MORNING)),
            on_conflict="skip",
        )
        assert report.conflicts == (("t1", ("mode", "distance_km")),)
        assert report.credited == 1


def test_a_factor_change_is_a_conflict_not_a_second_credit(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("t1", "u1", "metro", 3.0, MORNING)))
    other = Engine("uk-desnz-2024", catalog=catalog, policy_params={"daily_cap": "500"})
    with (
        Ledger.open(location, other) as book,
        pytest.raises(TripConflictError, match="factor_set_hash"),
    ):
        book.credit(trips(("t1", "u1", "metro", 3.0, MORNING)), change_settings="the 2024 set")


def test_the_daily_cap_holds_across_batches_from_the_first_trip(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        first = book.credit(
            trips(("a", "u", "metro", 4.0, "2024-05-01T08:00:00+08:00"))
        )  # 312 credits
        second = book.credit(
            trips(("b", "u", "metro", 4.0, "2024-05-01T09:00:00+08:00"))
        )  # capped at 188
        third = book.credit(
            trips(("c", "u", "metro", 4.0, "2024-05-01T23:59:00+08:00"))
        )  # nothing left
        next_day = book.credit(
            trips(("d", "u", "metro", 4.0, "2024-05-02T00:01:00+08:00"))
        )  # a new local day
        assert [first.awarded, second.awarded, third.awarded, next_day.awarded] == [
            312,
            188,
            0,
            312,
        ]
        assert book.balance("u") == 812


def test_redemption_never_overdraws_and_is_idempotent(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
        receipt = book.redeem("u", 300, "order-1", "bus ticket")
        assert (receipt.amount, receipt.balance_after, receipt.replayed) == (300, 12, False)
        retry = book.redeem("u", 300, "order-1", "bus ticket")
        assert (retry.replayed, retry.entry_id) == (True, receipt.entry_id)
        assert book.balance("u") == 12
        with pytest.raises(InsufficientBalanceError, match="has 12 credits"):
            book.redeem("u", 13, "order-2", "coffee")
        with pytest.raises(RequestConflictError, match="already used"):
            book.redeem("u", 5, "order-1", "coffee")
        with pytest.raises(InsufficientBalanceError):
            book.redeem("nobody", 1, "order-3", "anything")
        assert book.balance("u") == 12
        assert book.verify().ok


def test_coins_are_a_separate_exact_decimal_account(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    coins = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "100", "daily_cap": "unlimited"},
    )
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
    with Ledger.open(location, coins) as book:
        # Another ride (at the same instant it would be the same ride, held for review).
        book.credit(trips(("b", "u", "metro", 4.0, "2024-05-01T09:00:00+08:00")))
        assert book.balances("u").spendable == {"coin": Decimal("3.12"), "credit": 312}
        assert book.balance("u") == Decimal("3.12")  # the coin ledger's own account
        book.redeem("u", "1.05", "c-1", "voucher")
        assert book.balance("u") == Decimal("2.07")
        assert book.balances("u").spendable["credit"] == 312
        with pytest.raises(Exception, match="more than 2 decimal places"):
            book.redeem("u", "0.001", "c-2", "voucher")


def test_entries_are_append_only(location: str, catalog: Catalog, trips: Trips) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
        for statement in ("UPDATE entries SET amount_minor = 9999", "DELETE FROM entries"):
            with pytest.raises(Exception, match="append-only"), book.store.write() as cursor:
                cursor.execute(statement)
        assert book.verify().ok


def tamper(book: Ledger, statement: str) -> None:
    """Change a row behind the ledger's back (as an attacker with database access would)."""
    if book.store.dialect == "sqlite":
        with book.store.write() as cursor:
            cursor.execute("DROP TRIGGER entries_are_append_only_update")
            cursor.execute(statement)
    else:
        with book.store.write() as cursor:
            cursor.execute("ALTER TABLE entries DISABLE TRIGGER entries_are_append_only")
            cursor.execute(statement)


def test_verify_names_the_first_tampered_entry(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING), ("b", "v", "walk", 2.0, MORNING)))
        book.redeem("u", 10, "r1", "x")
        assert book.verify().ok
        tamper(book, "UPDATE entries SET amount_minor = 100000 WHERE entry_id = 'credit:b'")
        report = book.verify()
        assert not report.ok
        assert report.first_bad_entry == "credit:b"


def test_a_consistent_forgery_still_breaks_the_chain(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    """Changing an entry and its digest is caught by the block hash."""
    from carbonfoot.ledger.chain import canonical_rows, digests
    from carbonfoot.ledger.entries import ENTRY_COLUMNS

    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
        with book.store.read() as cursor:
            record = cursor.execute(f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE seq = 1")[
                0
            ]
        forged = dict(zip(ENTRY_COLUMNS, record, strict=True))
        forged["amount_minor"] = 999
        digest = digests(canonical_rows({k: [v] for k, v in forged.items()}))[0]
        tamper(book, f"UPDATE entries SET amount_minor = 999, digest = '{digest}' WHERE seq = 1")
        report = book.verify()
        assert not report.ok
        assert "does not match its hash" in report.problem


def test_recompute_writes_only_deltas_and_nothing_the_second_time(
    location: str, catalog: Catalog, trips: Trips, tmp_path: Path
) -> None:
    batch = trips(
        ("a", "u", "bus", 10.0, MORNING),
        ("b", "u", "metro", 3.0, "2024-05-01T09:00:00+08:00"),
        ("c", "v", "walk", 2.0, "2024-04-30T09:00:00+08:00"),
    )
    with Ledger.open(
        location, Engine("uk-desnz-2024", catalog=catalog, policy_params={"daily_cap": "500"})
    ) as book:
        book.credit(batch)
        original = {e["trip_id"]: e["amount_minor"] for e in book.export().to_pylist()}
        new = engine(catalog)
        plan = book.recompute(new, dt.date(2024, 5, 1), dry_run=True)
        assert plan.adjusted == 2  # bus and metro of 1 May; the walk of 30 April stays
        assert book.export().num_rows == 4  # 3 credits and the settings: the dry run wrote nothing
        done = book.recompute(new, dt.date(2024, 5, 1))
        assert done.by_mode == plan.by_mode
        assert book.recompute(new, dt.date(2024, 5, 1)).adjusted == 0
        entries = book.export().to_pylist()
        adjustments = [e for e in entries if e["kind"] == "adjustment"]
        assert {e["corrects"] for e in adjustments} == {"credit:a", "credit:b"}
        assert all(e["factor_set"] == "uk-desnz-2025" for e in adjustments)
        net: dict[str, int] = {}
        for e in entries:
            trip = e["trip_id"]
            net[trip] = net.get(trip, 0) + e["amount_minor"]
        assert book.verify().ok
    # After recompute, 1 May is worth exactly what a ledger started with the new factors awards.
    with Ledger.open(str(tmp_path / "fresh.db"), new) as fresh:
        fresh.credit(batch)
        awarded = {e["trip_id"]: e["amount_minor"] for e in fresh.export().to_pylist()}
    assert (net["a"], net["b"]) == (awarded["a"], awarded["b"])
    assert net["c"] == original["c"]  # outside the recomputed period: untouched


def test_a_reversal_compensates_and_points_to_the_credit(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
        book.reverse("a", "GPS trace shows a car")
        assert book.balance("u") == 0
        history = book.history("u")
        assert [h["kind"] for h in history] == ["credit", "reversal"]
        assert history[1]["corrects"] == "credit:a"
        again = book.reverse("a", "again")  # a replay: the original reversal
        assert (again.entry_id, again.reason, again.amount_minor) == (
            "reverse:a",
            "GPS trace shows a car",
            312,
        )
        assert [h["kind"] for h in book.history("u")] == ["credit", "reversal"]
        assert (
            book.credit(trips(("e", "u", "metro", 4.0, "2024-05-01T09:00:00+08:00"))).awarded == 312
        )  # the day's cap freed again


def test_a_reversal_of_spent_credits_is_owed_and_repaid_from_later_credits(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))  # 312
        book.redeem("u", 300, "r", "ticket")  # 12 left
        reversal = book.reverse("a", "fraud found after the user spent")
        assert (reversal.amount_minor, reversal.owed_minor) == (312, 300)
        assert book.balance("u") == 0
        (position,) = book.balances("u").positions
        assert (position.balance_minor, position.owed_minor, position.net_minor) == (0, 300, -300)
        assert book.reverse("a", "again").owed_minor == 300  # a replay, the same reversal
        with pytest.raises(InsufficientBalanceError):
            book.redeem("u", 1, "r2", "coffee")
        book.credit(trips(("b", "u", "metro", 4.0, "2024-05-02T08:00:00+08:00")))  # 312 more
        (position,) = book.balances("u").positions
        assert (position.balance_minor, position.owed_minor) == (12, 0)  # 300 repaid first
        assert book.verify().ok


def test_the_ledger_refuses_a_policy_with_other_decimals(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    coins = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"daily_cap": "unlimited"},
    )
    with Ledger.open(location, coins) as book:
        book.credit(trips(("a", "u", "metro", 4.0, MORNING)))
    three = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"decimals": "3", "daily_cap": "unlimited"},
    )
    with pytest.raises(LedgerError, match="2 decimal places"):
        Ledger.open(location, three)


def test_sqlite_runs_in_wal_with_full_synchronous(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = open_store(tmp_path / "x.db", create=True)
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 2
    store.close()


def test_the_default_database_is_a_file_here(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CARBONFOOT_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    store = open_store(create=True)
    assert store.description == "carbonfoot-ledger.db"
    store.close()
    assert (tmp_path / "carbonfoot-ledger.db").exists()


def test_the_same_work_exports_identically_on_sqlite_and_postgresql(
    postgres_location: str, tmp_path: Path, catalog: Catalog
) -> None:
    from carbonfoot.demo.synthetic import generate_trips

    trips = generate_trips(3_000, users=300, seed=21, as_text=False)
    exports = []
    for location in (str(tmp_path / "ledger.db"), postgres_location):
        with Ledger.open(location, engine(catalog)) as book:
            book.credit(trips, chunk_rows=700)
            book.redeem("u7", 1, "order-1", "bus ticket")
            book.reverse(trips["trip_id"][5].as_py(), "duplicate upload")
            book.recompute("uk-desnz-2024", dt.date(2024, 1, 1))
            assert book.verify().ok
            exports.append(book.export())
    sqlite_export, postgres_export = exports
    assert sqlite_export.num_rows > 3_000
    assert sqlite_export.equals(postgres_export)
