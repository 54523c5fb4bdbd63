"""Steps deferred to another core give the same batch results as on the calling thread."""

from __future__ import annotations

import multiprocessing
import os

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import Engine
from carbonfoot._kernels import threads
from carbonfoot._kernels.threads import Deferred
from carbonfoot.demo.synthetic import generate_trips


def _deferred_in_child() -> int:
    return Deferred(lambda: 42, threads.BACKGROUND_FROM_ROWS)()


def test_a_deferred_step_runs_once_and_reraises_where_collected() -> None:
    calls: list[int] = []

    def step() -> int:
        calls.append(1)
        return 7

    for rows in (10, threads.BACKGROUND_FROM_ROWS):
        calls.clear()
        deferred = Deferred(step, rows)
        assert deferred() == 7
        assert deferred() == 7
        assert calls == [1]

    def broken() -> int:
        raise ValueError("bad column")

    deferred = Deferred(broken, threads.BACKGROUND_FROM_ROWS)  # fails in the background
    with pytest.raises(ValueError, match="bad column"):
        deferred()


def test_a_small_batch_never_computes_what_it_does_not_use() -> None:
    calls: list[int] = []
    Deferred(lambda: calls.append(1), 10)
    assert calls == []


def test_a_large_batch_gives_the_same_results_on_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Enough rows to use the background thread, with duplicates and bad rows among them.
    trips = generate_trips(threads.BACKGROUND_FROM_ROWS, users=20_000, seed=5, bad_row_share=0.02)
    engine = Engine(policy_params={"daily_cap": "300"})
    threaded = engine.compute(trips).table
    monkeypatch.setattr(threads, "BACKGROUND_FROM_ROWS", 10**12)
    inline = engine.compute(trips).table
    assert threaded.equals(inline)
    assert pa.compute.sum(threaded["credits"]).as_py() > 0
    statuses = set(threaded["status"].to_pylist())
    assert "duplicate_trip_id" in statuses
    assert statuses & {"suspect_duplicate", "suspect_overlap"}  # the rides reported twice


def test_overlaps_of_a_large_batch_of_one_user_are_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One user: the halves of the user codes split on the background thread are uneven
    # (one is empty); every second trip starts before the one before it has ended.
    size = threads.BACKGROUND_FROM_ROWS
    start = 1_714_500_000_000_000 + np.arange(size, dtype=np.int64) * 600_000_000
    start[1::2] -= 300_000_000
    stamp = pa.timestamp("us", tz="UTC")
    trips = pa.table(
        {
            "trip_id": pa.array(np.arange(size)).cast(pa.string()),
            "user_id": pa.array(["u1"] * size),
            "mode": pa.array(["walk"] * size),
            "distance": pa.array(np.full(size, 0.5)),
            "started_at": pa.array(start, type=stamp),
            "ended_at": pa.array(start + 400_000_000, type=stamp),
        }
    )
    engine = Engine()
    threaded = engine.compute(trips).table
    monkeypatch.setattr(threads, "BACKGROUND_FROM_ROWS", 10**12)
    assert threaded.equals(engine.compute(trips).table)
    assert threaded["status"].to_pylist()[:4] == ["ok", "suspect_overlap"] * 2


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_still_runs_deferred_steps() -> None:
    # The pool exists in this process; a child forked now has none of its threads.
    assert Deferred(lambda: 1, threads.BACKGROUND_FROM_ROWS)() == 1
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        answer = pool.apply_async(_deferred_in_child)
        assert answer.get(timeout=30) == 42
