"""Entry kinds: each fills exactly the fields its row of the table lists, in the database too."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.ledger import Ledger
from carbonfoot.ledger.chain import CHAINED_FIELDS
from carbonfoot.ledger.entries import (
    ENTRY_COLUMNS,
    FIELDS_BY_KIND,
    Adjustments,
    Credits,
    Quarantines,
    Redemption,
    Refusal,
    Reversal,
    Settings,
    TripFacts,
    append_block,
)
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"


def test_the_table_lists_chained_fields_only_and_every_kind_fills_the_common_ones() -> None:
    assert (*CHAINED_FIELDS, "digest") == ENTRY_COLUMNS
    for kind, fields in FIELDS_BY_KIND.items():
        assert set(fields) <= set(CHAINED_FIELDS), kind
        assert {"seq", "entry_id", "kind", "user_id", "account", "amount_minor"} <= set(fields)


TRIP = TripFacts(
    trip_ids=["t"],
    user_ids=["u"],
    local_day=np.array([19844]),
    modes=["bus"],
    distance_km=np.array([1.0]),
    started_us=np.array([0]),
    ended_us=[600_000_000],
    districts=["Jiangbei"],
    savings_mg=np.array([5000]),
    run_id="r",
)


@pytest.mark.parametrize(
    "entries",
    [
        Credits(TRIP, "credit", np.array([5]), approvals=["approved by ana: checked"]),
        Quarantines(TRIP, "credit", ["suspect_speed"], ["row 1: too fast"]),
        Refusal("t", "u", "credit", "refused by ana: a car"),
        Redemption("order-1", "u", "credit", 3, "bus ticket"),
        Reversal("t", "u", "credit", 5, 19844, "fraud"),
        Settings("credit", "r", 1, "the first credit"),
        Adjustments(account="credit"),
    ],
    ids=lambda entries: entries.kind,
)
def test_each_kind_fills_the_fields_of_its_row(entries) -> None:  # type: ignore[no-untyped-def]
    assert set(entries.columns()) | {"seq"} == set(FIELDS_BY_KIND[entries.kind])


def test_a_credit_not_from_review_leaves_corrects_and_note_empty() -> None:
    columns = Credits(TRIP, "credit", np.array([5])).columns()
    assert "corrects" not in columns
    assert "note" not in columns


def test_a_block_with_a_field_its_kind_does_not_fill_is_refused() -> None:
    class Stray(Redemption):
        def columns(self):  # type: ignore[no-untyped-def]
            return {**super().columns(), "trip_id": ["t"]}

    with pytest.raises(ValueError, match="do not fill trip_id"):
        append_block(None, Stray("order-1", "u", "credit", 3, "bus ticket"))


def test_stored_entries_fill_exactly_their_kinds_fields(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(
        location, Engine("uk-desnz-2024", catalog=catalog, policy_params={"daily_cap": "500"})
    ) as book:
        book.credit(trips(("a", "u", "metro", 3.0, MORNING), ("b", "u", "walk", 1.0, MORNING)))
        book.reverse("b", "duplicate upload")
        book.redeem("u", 1, request_id="order-1", item="bus ticket")
        new = Engine("uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "500"})
        book.recompute(new, dt.date(2024, 5, 1))
        entries = book.export().to_pylist()
    assert {entry["kind"] for entry in entries} == set(FIELDS_BY_KIND) - {"quarantine", "refusal"}
    for entry in entries:
        # The export reads the stored microseconds out as timestamps, under the trip's names.
        exported = {"started_us": "started_at", "ended_us": "ended_at"}
        filled = {name for name in CHAINED_FIELDS if entry[exported.get(name, name)] is not None}
        allowed = set(FIELDS_BY_KIND[entry["kind"]])
        assert filled <= allowed, entry["entry_id"]
        assert {"seq", "entry_id", "kind", "user_id", "account", "amount_minor"} <= filled
