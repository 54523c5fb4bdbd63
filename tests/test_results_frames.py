"""Results and summaries as notebook users take them: Arrow tables and pandas frames.

Promises: credits stay exact on the way out (nullable integers in pandas, never float64;
decimal coins as Decimal); a summary's table has one row per mode whose totals are those
of the result rows; the rows to review are a property, like the table itself.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from carbonfoot import Engine, Results

pd = pytest.importorskip("pandas")

TRIPS: dict[str, list[Any]] = {
    "trip_id": ["t1", "t2", "t3", "t4", "t5"],
    "user_id": ["u1", "u1", "u2", "u2", "u3"],
    "mode": ["bus", "bicycle", "teleport", "metro", "bus"],
    "distance": [5.2, 3.0, 1.0, "abc", 12.5],
    "started_at": ["2024-05-01T08:00:00+08:00"] * 5,
}


def test_credits_are_nullable_integers_in_pandas(engine: Engine) -> None:
    results = engine.compute(TRIPS)
    frame = results.to_pandas()
    assert isinstance(frame["credits"].dtype, pd.Int64Dtype)
    expected = results.table.column("credits").to_pylist()
    assert [None if pd.isna(v) else int(v) for v in frame["credits"]] == expected
    assert expected[2] is None  # unknown mode
    assert expected[3] is None  # bad distance
    assert all(isinstance(v, int) for v in (expected[0], expected[1], expected[4]))


def test_coins_stay_exact_decimals_in_pandas(catalog: Any) -> None:
    coins = Engine("uk-desnz-2025", policy="carbon-coin", catalog=catalog)
    frame = coins.compute(TRIPS).to_pandas()
    values = [v for v in frame["credits"] if v is not None and not pd.isna(v)]
    assert values
    assert all(isinstance(v, Decimal) for v in values)


def by_mode_of_rows(results: Results) -> dict[str, list[Any]]:
    """Per-mode totals summed here from the result rows, to check the summary against."""
    totals: dict[str, list[Any]] = defaultdict(lambda: [0, 0, 0.0, 0])
    for row in results.table.to_pylist():
        mode = row["mode"] if row["status"] != "unknown_mode" else "(unknown)"
        totals[mode][0] += 1
        if row["status"] == "ok":
            totals[mode][1] += 1
            totals[mode][2] += row["savings_g"]
            totals[mode][3] += row["credits"]
    return dict(totals)


def test_the_summary_table_has_the_rows_totals(engine: Engine) -> None:
    results = engine.compute(TRIPS)
    table = results.summary.to_arrow()
    assert table.schema.field("credits").type == pa.int64()
    assert table.schema.metadata[b"carbonfoot.credit_unit"] == b"credit"
    got = {
        row["mode"]: [row["trips"], row["computed"], row["savings_g"], row["credits"]]
        for row in table.to_pylist()
    }
    expected = by_mode_of_rows(results)
    assert got.keys() == expected.keys()
    for mode, (trips, computed, savings, credits) in expected.items():
        assert got[mode][:2] == [trips, computed]
        assert got[mode][2] == pytest.approx(savings)
        assert got[mode][3] == credits
    assert sum(table.column("credits").to_pylist()) == results.summary.credits


def test_the_summary_frame_keeps_credits_integer(engine: Engine) -> None:
    frame = engine.compute(TRIPS).summary.to_pandas()
    assert isinstance(frame["credits"].dtype, pd.Int64Dtype)
    assert list(frame.columns) == [
        "mode",
        "trips",
        "computed",
        "distance_km",
        "emissions_g",
        "baseline_g",
        "savings_g",
        "credits",
    ]


def test_a_coin_summary_table_is_decimal(catalog: Any) -> None:
    coins = Engine("uk-desnz-2025", policy="carbon-coin", catalog=catalog)
    summary = coins.compute(TRIPS).summary
    table = summary.to_arrow()
    assert table.schema.field("credits").type == pa.decimal128(38, 2)
    assert sum(table.column("credits").to_pylist()) == summary.credits


def test_rows_to_review_are_a_property(engine: Engine) -> None:
    results = engine.compute(TRIPS)
    rejected = results.rejected
    assert isinstance(rejected, pa.Table)
    assert rejected.column("trip_id").to_pylist() == ["t3", "t4"]
    assert rejected.column("status").to_pylist() == ["unknown_mode", "bad_distance"]
    assert results.not_ok.tolist() == [False, False, True, True, False]
