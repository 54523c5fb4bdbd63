"""Review: quarantined trips are held, listed, and paid or refused by a named reviewer."""

from __future__ import annotations

import pytest

from carbonfoot import Catalog, Engine, LedgerError
from carbonfoot.ledger import Ledger
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"


def engine(catalog: Catalog, cap: str = "500") -> Engine:
    return Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": cap})


def too_fast(trips: Trips) -> dict[str, list[object]]:
    """A 10 km walk in ten minutes (suspect_speed) and, later, an ordinary metro ride."""
    batch = trips(
        ("fast", "u", "walk", 10.0, MORNING), ("m", "u", "metro", 4.0, "2024-05-01T09:00:00+08:00")
    )
    batch["ended_at"] = ["2024-05-01T08:10:00+08:00", "2024-05-01T09:30:00+08:00"]
    return batch


def test_a_quarantined_trip_is_held_for_review_and_earns_nothing(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        report = book.credit(too_fast(trips))
        assert (report.credited, report.quarantined) == (1, 1)
        held = book.pending_review()
        assert [(h.trip_id, h.status) for h in held] == [("fast", "suspect_speed")]
        assert "average speed 60 km/h" in held[0].message
        again = book.credit(too_fast(trips))  # a replay: still held, not credited twice
        assert (again.credited, again.replayed, again.quarantined) == (0, 1, 1)
        assert len(book.pending_review()) == 1
        assert book.verify().ok


def test_an_approved_trip_is_paid_once_with_the_reviewer_recorded(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(too_fast(trips))
        before = book.balance("u")
        decision = book.approve("fast", "GPS trace: a cycle lane, not a walk", "inspector 7")
        assert decision.decision == "approved"
        assert decision.amount > 0
        assert book.balance("u") == before + decision.amount
        assert book.pending_review() == []
        assert book.approve("fast", "again", "inspector 7").replayed
        credit = next(e for e in book.history("u") if e["entry_id"] == "credit:fast")
        assert credit["note"] == "approved by inspector 7: GPS trace: a cycle lane, not a walk"
        assert credit["corrects"] == "quarantine:fast"
        with pytest.raises(LedgerError, match="credited already"):
            book.refuse("fast", "changed my mind", "inspector 8")
        assert book.verify().ok


def test_an_approved_trip_still_counts_against_the_daily_cap(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog, cap="300")) as book:
        book.credit(too_fast(trips))
        paid = book.balance("u")
        decision = book.approve("fast", "checked", "inspector 7")
        assert paid + decision.amount == 300


def test_a_refusal_is_final_and_recorded(location: str, catalog: Catalog, trips: Trips) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(too_fast(trips))
        decision = book.refuse("fast", "speed impossible on foot", "inspector 7")
        assert (decision.decision, decision.amount, decision.replayed) == ("refused", 0, False)
        assert book.refuse("fast", "again", "x").replayed
        with pytest.raises(LedgerError, match="refusal is final"):
            book.approve("fast", "second thoughts", "inspector 8")
        assert book.pending_review() == []
        again = book.credit(too_fast(trips))
        assert again.outcomes.to_pylist()[0]["outcome"] == "rejected"
        assert book.verify().ok


def test_only_quarantined_trips_can_be_decided(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(too_fast(trips))
        with pytest.raises(LedgerError, match="not held for review"):
            book.approve("m", "it was fine", "inspector 7")
        with pytest.raises(LedgerError, match="not held for review"):
            book.refuse("nowhere", "no such trip", "inspector 7")
