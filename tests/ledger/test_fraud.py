"""Fraud across batches: what the ledger holds makes a new trip suspect; ids compare in one
canonical form; id columns that are not text are read as text or refused."""

from __future__ import annotations

import multiprocessing
import unicodedata

import pyarrow as pa
import pytest

from carbonfoot import Catalog, Engine
from carbonfoot.ledger import Ledger
from tests.ledger.conftest import Trips

MORNING = "2024-05-01T08:00:00+08:00"


def engine(catalog: Catalog, **plausibility: object) -> Engine:
    return Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy_params={"daily_cap": "5000"},
        plausibility=plausibility or None,
    )


def test_the_same_ride_under_another_id_in_another_batch_is_quarantined(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("app1-77", "u", "metro", 6.0, MORNING)))
        report = book.credit(trips(("app2-x9", "u", "metro", 6.0, MORNING)))
        row = report.outcomes.to_pylist()[0]
        assert (row["outcome"], row["status"]) == ("quarantined", "suspect_duplicate")
        assert "'app1-77'" in row["message"]
        assert [h.trip_id for h in book.pending_review()] == ["app2-x9"]
        assert book.verify().ok


def test_a_near_duplicate_within_the_configured_window_is_caught_across_batches(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    with Ledger.open(location, engine(catalog, duplicate_window_s=120)) as book:
        book.credit(trips(("a", "u", "bus", 6.0, MORNING)))
        late = book.credit(trips(("b", "u", "bus", 6.0, "2024-05-01T08:01:30+08:00")))
        other_mode = book.credit(trips(("c", "u", "metro", 6.0, "2024-05-01T08:01:00+08:00")))
        apart = book.credit(trips(("d", "u", "bus", 6.0, "2024-05-01T09:00:00+08:00")))
        assert late.outcomes["status"].to_pylist() == ["suspect_duplicate"]
        assert other_mode.credited == 1
        assert apart.credited == 1


def test_overlapping_trips_in_separate_batches_are_quarantined(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    first = trips(("ride", "u", "bike", 8.0, MORNING))
    first["ended_at"] = ["2024-05-01T08:40:00+08:00"]
    second = trips(("inside", "u", "walk", 1.0, "2024-05-01T08:20:00+08:00"))
    second["ended_at"] = ["2024-05-01T08:35:00+08:00"]
    after = trips(("after", "u", "walk", 1.0, "2024-05-01T08:40:00+08:00"))  # touching is fine
    after["ended_at"] = ["2024-05-01T08:50:00+08:00"]
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(first)
        overlap = book.credit(second).outcomes.to_pylist()[0]
        assert (overlap["outcome"], overlap["status"]) == ("quarantined", "suspect_overlap")
        assert "'ride'" in overlap["message"]
        assert book.credit(after).credited == 1


def _credit_in_a_process(location: str, trip_id: str) -> int:
    with Ledger.open(
        location, Engine("uk-desnz-2025", policy_params={"daily_cap": "5000"})
    ) as book:
        return book.credit(
            {
                "trip_id": [trip_id],
                "user_id": ["u"],
                "mode": ["metro"],
                "distance": [6.0],
                "started_at": [MORNING],
            }
        ).credited


def test_concurrent_processes_credit_one_ride_once_whatever_its_ids(location: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        credited = pool.starmap(
            _credit_in_a_process, [(location, f"app{i}-ride") for i in range(3)]
        )
    assert sorted(credited) == [0, 0, 1]
    with Ledger.open(location, create=False) as book:
        assert len(book.pending_review()) == 2
        assert book.verify().ok


@pytest.mark.parametrize(
    "variant",
    [
        unicodedata.normalize("NFD", "café-1"),
        "café\u200b-1",
        "\ufeffcafé-1",
        " café-1\u3000",
    ],
    ids=["nfd", "zero-width-space", "bom", "unicode-spaces"],
)
def test_a_trip_id_spelled_another_way_is_the_same_trip(
    location: str, catalog: Catalog, trips: Trips, variant: str
) -> None:
    with Ledger.open(location, engine(catalog)) as book:
        book.credit(trips(("café-1", "u", "metro", 6.0, MORNING)))
        again = book.credit(trips((variant, "u", "metro", 6.0, MORNING)))
        assert (again.credited, again.replayed) == (0, 1)
        assert again.outcomes["trip_id"].to_pylist() == ["café-1"]


def test_case_is_kept_unless_folding_is_configured(
    location: str, catalog: Catalog, trips: Trips
) -> None:
    assert (
        engine(catalog).compute(trips(("A1", "u", "metro", 6.0, MORNING))).to_pylist()[0]["trip_id"]
        == "A1"
    )
    folding = Engine(
        "uk-desnz-2025", catalog=catalog, policy_params={"daily_cap": "5000"}, fold_id_case=True
    )
    with Ledger.open(location, folding) as book:
        book.credit(trips(("A1", "U", "metro", 6.0, MORNING)))
        again = book.credit(trips(("a1", "u", "metro", 6.0, MORNING)))
        assert (again.credited, again.replayed) == (0, 1)


def test_a_binary_id_column_is_decoded_and_a_row_that_is_not_utf8_is_rejected(
    location: str, catalog: Catalog
) -> None:
    table = pa.table(
        {
            "trip_id": pa.array([b"t1", b"t2", b"t\xff3"], type=pa.binary()),
            "user_id": pa.array([b"u1", b"u1", b"u1"], type=pa.binary()),
            "mode": ["metro", "bus", "walk"],
            "distance": [3.0, 4.0, 1.0],
            "started_at": ["2024-05-01T08:00:00+08:00", "2024-05-01T09:00:00+08:00", MORNING],
        }
    )
    with Ledger.open(location, engine(catalog)) as book:
        first = book.credit(table)
        rows = first.outcomes.to_pylist()
        assert [row["trip_id"] for row in rows] == ["t1", "t2", None]
        assert [row["outcome"] for row in rows] == ["credited", "credited", "rejected"]
        assert "not valid UTF-8" in rows[2]["message"]
        again = book.credit(table)
        assert (again.credited, again.replayed) == (0, 2)
