"""Row statuses: one vocabulary, in precedence order, and one test of 'computed'."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from carbonfoot import STATUSES
from carbonfoot.statuses import (
    OK,
    QUARANTINED,
    REJECTED,
    STATUS_CODE,
    is_computed,
    is_computed_column,
)


def test_every_status_is_ok_rejected_or_quarantined_once() -> None:
    assert (OK, *REJECTED, *QUARANTINED) == STATUSES
    assert len(set(STATUSES)) == len(STATUSES)
    assert all(name.startswith("suspect_") for name in QUARANTINED)
    assert [STATUSES[STATUS_CODE[name]] for name in STATUSES] == list(STATUSES)


def test_computed_means_ok_or_quarantined_by_code_and_by_column() -> None:
    codes = np.arange(len(STATUSES), dtype=np.int8)
    expected = [name == "ok" or name.startswith("suspect_") for name in STATUSES]
    assert is_computed(codes).tolist() == expected
    as_text = pa.array(list(STATUSES))
    assert is_computed_column(as_text).to_pylist() == expected
    as_dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(STATUSES)))
    assert is_computed_column(as_dictionary).to_pylist() == expected


def test_the_summary_splits_rows_into_computed_quarantined_and_rejected(engine, make_trips) -> None:  # type: ignore[no-untyped-def]
    trips = make_trips(
        mode=["bus", "hovercraft", "bus", "bus"],
        distance=[1.0, 1.0, -1.0, 1.0],
        started_at=["2024-05-01T08:00:00+08:00"] * 3 + ["2024-05-01T08:00:00+08:00"],
        ended_at=["2024-05-01T08:10:00+08:00"] * 3 + ["2024-05-01T08:00:01+08:00"],
    )
    summary = engine.compute(trips).summary
    assert (summary.trips, summary.computed, summary.quarantined, summary.rejected) == (4, 1, 1, 2)
