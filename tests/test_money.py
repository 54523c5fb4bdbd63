"""Money-like numbers: minor units and values, exact columns, division, whole milligrams."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot.errors import InputError, PolicyError
from carbonfoot.money import (
    decimal_column,
    divide_floor,
    minor_units,
    money_column,
    parse_amount,
    to_value,
    whole_milligrams,
)


def test_divide_floor_is_exact_where_float_division_is_not() -> None:
    savings = np.array([2**62 + 1, 299_999, 300_000, 0], dtype=np.int64)
    assert divide_floor(savings, 1, 100_000).tolist() == [(2**62 + 1) // 100_000, 2, 3, 0]
    assert divide_floor(np.array([12_345], dtype=np.int64), 100, 1_000_000).tolist() == [
        1
    ]  # 0.012345 coin -> 0.01


def test_values_keep_their_places_and_whole_units_stay_int() -> None:
    assert to_value(1234, 2) == Decimal("12.34")
    assert str(to_value(-5, 3)) == "-0.005"
    assert to_value(7, 0) == 7
    assert isinstance(to_value(7, 0), int)


@pytest.mark.parametrize(
    ("text", "decimals", "minor"), [("12.34", 2, 1234), ("5", 0, 5), (" 0.5 ", 1, 5), (3, 0, 3)]
)
def test_amounts_are_parsed_exactly(text: object, decimals: int, minor: int) -> None:
    assert parse_amount(text, decimals) == minor


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abc", "not a positive decimal number"),
        ("0", "positive"),
        ("-1", "positive"),
        ("nan", "positive"),
        ("1.234", "decimal places"),
    ],
)
def test_bad_amounts_are_refused_not_rounded(text: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment):
        parse_amount(text, 2)


def test_decimal_columns_hold_the_exact_minor_units() -> None:
    minor = np.array([1234, -5, 0, 2**62], dtype=np.int64)
    valid = np.array([True, True, False, True])
    column = decimal_column(minor, 2, valid)
    assert column.type == pa.decimal128(18, 2)
    assert column.to_pylist() == [Decimal("12.34"), Decimal("-0.05"), None, Decimal(2**62) / 100]
    assert minor_units(column).tolist() == [1234, -5, 0, 2**62]
    whole = money_column(minor, 0, valid)
    assert whole.type == pa.int64()
    assert minor_units(whole).tolist() == [1234, -5, 0, 2**62]


def test_savings_round_half_to_even_to_whole_milligrams() -> None:
    grams = np.array([0.0005, 0.0015, 0.0025, 1.2344, 1.2346])
    assert whole_milligrams(grams.copy()).tolist() == [0, 2, 2, 1234, 1235]


def test_savings_too_large_to_award_exactly_are_refused() -> None:
    with pytest.raises(PolicyError, match="too much to award exactly"):
        whole_milligrams(np.array([2.0**62 / 1000 * 1.01]))


def test_a_summary_of_awards_near_the_limit_is_exact(catalog) -> None:  # type: ignore[no-untyped-def]
    from carbonfoot import Engine

    finest = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "0.001", "decimals": 6},
        # 40,000 km walks are over the default distance limits: lifted, so they earn.
        plausibility={"modes": {"walk": {"max_trip_km": 40_000, "max_daily_km": 1e9}}},
    )
    size = 2_500
    results = finest.compute(
        {
            "trip_id": [f"t{i}" for i in range(size)],
            "user_id": ["u"] * size,
            "mode": ["walk"] * size,
            "distance": [40_000.0] * size,
            # A minute apart: at one instant they would be one ride reported many times.
            "started_at": [
                f"2024-05-{1 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
                for i in range(size)
            ],
        }
    )
    awards = results.table["credits"].to_pylist()
    assert sum(awards) > Decimal(2**63) / 10**6  # more than int64 minor units could hold
    assert results.summary.credits == sum(awards)
