"""On Dask the summary names the same unknown labels and naive times as one process."""

from __future__ import annotations

import pyarrow as pa
import pytest

from carbonfoot import Engine
from tests.dask.test_dask import HAS_DASK, partitioned

pytestmark = pytest.mark.skipif(not HAS_DASK, reason="carbonfoot[dask] is not installed")


def test_unknown_labels_and_naive_times_match_one_process() -> None:
    import dask

    import carbonfoot.dask

    size = 600
    table = pa.table(
        {
            "trip_id": [f"t{i}" for i in range(size)],
            "user_id": [f"u{i % 41}" for i in range(size)],
            "mode": [("bus", "bycicle", "walk", "skateboard", "")[i % 5] for i in range(size)],
            "distance": [1.0 + i % 7 for i in range(size)],
            "started_at": [
                f"2024-05-{1 + i % 28:02d}T08:{i % 60:02d}:00" + ("Z" if i % 4 else "")
                for i in range(size)
            ],
        }
    )
    engine = Engine("uk-desnz-2025")
    one = engine.compute(table).summary
    assert one.unknown_labels == (("bycicle", 120), ("skateboard", 120))
    assert one.naive_times == 150
    results = carbonfoot.dask.compute(partitioned(table, [150, 400]), engine)
    with dask.config.set(scheduler="synchronous"):
        (summary,) = dask.compute(results.summary)
    assert summary == one
