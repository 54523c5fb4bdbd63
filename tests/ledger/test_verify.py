"""The audit: every table is checked against the entries, both ways, and an anchor kept
elsewhere shows a rewrite or a cut tail that the chain alone cannot."""

from __future__ import annotations

import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.ledger import Ledger
from carbonfoot.ledger.chain import canonical_rows, digests
from carbonfoot.ledger.entries import ENTRY_COLUMNS
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"


def filled(book: Ledger, trips: Trips) -> str:
    """A ledger with credits for two users and a redemption; its head."""
    book.credit(trips(("a", "u", "metro", 4.0, MORNING), ("b", "v", "walk", 2.0, MORNING)))
    book.redeem("u", 10, "r1", "bus ticket")
    report = book.verify()
    assert report.ok
    assert len(report.head) == 64
    return report.head


def behind_its_back(book: Ledger, *statements: str) -> None:
    """Change tables as someone with write access to the database would."""
    with book.store.write() as cursor:
        if book.store.dialect == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS entries_are_append_only_delete")
            cursor.execute("DROP TRIGGER IF EXISTS blocks_are_append_only_delete")
        else:
            cursor.execute("ALTER TABLE entries DISABLE TRIGGER entries_are_append_only")
            cursor.execute("ALTER TABLE blocks DISABLE TRIGGER blocks_are_append_only")
        for statement in statements:
            cursor.execute(statement)


@pytest.fixture
def book(location: str, catalog: Catalog) -> Ledger:
    ledger = Ledger.open(location, Engine(catalog=catalog, policy_params={"daily_cap": "500"}))
    yield ledger  # type: ignore[misc]
    ledger.close()


def test_a_deleted_balance_is_found(book: Ledger, trips: Trips) -> None:
    filled(book, trips)
    behind_its_back(book, "DELETE FROM balances WHERE user_id = 'u'")
    report = book.verify()
    assert not report.ok
    assert report.problem == "the credit balance of u is missing"


def test_a_deleted_day_total_is_found(book: Ledger, trips: Trips) -> None:
    filled(book, trips)
    behind_its_back(book, "DELETE FROM day_totals WHERE user_id = 'v'")
    report = book.verify()
    assert not report.ok
    assert "what v was issued on day 19844 (credits) is missing" in report.problem


def test_a_changed_day_total_is_found(book: Ledger, trips: Trips) -> None:
    filled(book, trips)
    behind_its_back(book, "UPDATE day_totals SET issued_minor = 0 WHERE user_id = 'u'")
    assert "differs from its trips' awards" in book.verify().problem


def test_a_wiped_ledger_verifies_only_without_its_anchor(book: Ledger, trips: Trips) -> None:
    head = filled(book, trips)
    behind_its_back(
        book,
        "DELETE FROM entries",
        "DELETE FROM blocks",
        "DELETE FROM balances",
        "DELETE FROM day_totals",
        f"UPDATE ledger_head SET last_seq = 0, last_block = 0, last_hash = '{'0' * 64}'",
    )
    assert book.verify().ok  # self-consistent: an empty chain
    report = book.verify(head=head)
    assert not report.ok
    assert f"the anchor head {head} is not a block of this chain" in report.problem


def test_a_cut_tail_shows_against_an_anchor(book: Ledger, trips: Trips) -> None:
    filled(book, trips)
    middle = book.verify().head
    book.redeem("v", 5, "r2", "water")
    with book.store.read() as cursor:
        last_block, previous = cursor.execute(
            "SELECT block, prev_hash FROM blocks ORDER BY block DESC LIMIT 1"
        )[0]
        first = cursor.execute("SELECT first_seq FROM blocks WHERE block = ?", (last_block,))[0][0]
    assert book.verify(head=middle).ok  # the anchor is still in the chain
    latest = book.verify().head
    behind_its_back(
        book,
        f"DELETE FROM entries WHERE seq >= {first}",
        f"DELETE FROM blocks WHERE block = {last_block}",
        f"UPDATE ledger_head SET last_seq = {first - 1}, last_block = {last_block - 1}, last_hash = '{previous}'",
        "UPDATE balances SET balance_minor = balance_minor + 5 WHERE user_id = 'v'",
    )
    assert book.verify().ok
    assert book.verify(head=middle).ok
    assert not book.verify(head=latest).ok


def test_null_and_a_nul_character_hash_apart_and_no_byte_moves_between_fields() -> None:
    def digest(**fields: object) -> str:
        row = {name: [None] for name in ENTRY_COLUMNS}
        row.update({name: [value] for name, value in fields.items()})
        return digests(canonical_rows(row))[0]

    assert digest(note=None) != digest(note="\x00")
    assert digest(note="") != digest(note=None)
    assert digest(item="ab", note="c") != digest(item="a", note="bc")
    assert digest(item="a\x1fb") != digest(item="a", note="b")
