"""Properties of the credit arithmetic: exact, capped, and equal to the obvious loop."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from carbonfoot import PolicyBatch
from carbonfoot.money import divide_floor
from carbonfoot.policies import apply_daily_cap
from tests.policies.test_caps import naive_cap


def cap_batch(
    user: list[int], day: list[int], started: list[int], already: list[int] | None = None
) -> PolicyBatch:
    """What the cap reads of a batch: users, local days, start times, earlier awards."""
    extra = {} if already is None else {"already_issued": np.array(already, dtype=np.int64)}
    return PolicyBatch(
        savings_mg=np.zeros(len(user), dtype=np.int64),
        eligible=np.ones(len(user), dtype=bool),
        user=np.array(user, dtype=np.int64),
        local_day=np.array(day, dtype=np.int64),
        started_us=np.array(started, dtype=np.int64),
        **extra,
    )


trips = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 4), st.integers(0, 2), st.integers(0, 50)),
    min_size=1,
    max_size=60,
)


@given(trips, st.integers(0, 20_000))
def test_the_cap_equals_the_obvious_loop(rows: list[tuple[int, int, int, int]], cap: int) -> None:
    awards, user, day, started = (list(column) for column in zip(*rows, strict=True))
    batch = cap_batch(user, day, started)
    capped = apply_daily_cap(np.array(awards, dtype=np.int64), batch, cap)
    assert capped.tolist() == naive_cap(awards, user, day, started, cap)


wide_trips = st.lists(
    st.tuples(
        st.integers(0, 10_000),
        st.sampled_from([-(2**40), -1, 0, 3, 2**40]),
        st.integers(0, 2),
        st.sampled_from([0, 1, 7, 2**40, 2**62]),
    ),
    min_size=1,
    max_size=60,
)


@given(wide_trips, st.integers(0, 20_000), st.integers(0, 5_000))
def test_the_cap_equals_the_obvious_loop_for_any_ids_times_and_prior_awards(
    rows: list[tuple[int, int, int, int]], cap: int, prior: int
) -> None:
    """Sparse user ids, times years apart and awards issued earlier take the general paths."""
    awards, user, day, started = (list(column) for column in zip(*rows, strict=True))
    already = [prior * (u % 2) for u in user]  # one prior total per user-day
    batch = cap_batch(user, day, started, already)
    capped = apply_daily_cap(np.array(awards, dtype=np.int64), batch, cap)
    assert capped.tolist() == naive_cap(awards, user, day, started, cap, already)


@given(
    st.lists(st.integers(0, 2**53), min_size=1, max_size=50),
    st.integers(0, 6),
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("100000"), places=3),
)
def test_coin_division_equals_decimal_arithmetic(
    savings_mg: list[int], decimals: int, grams_per_coin: Decimal
) -> None:
    milligrams_per_coin = int(grams_per_coin * 1000)
    assume(
        max(savings_mg) // milligrams_per_coin < (2**63 - 1) // 10**decimals - 1
    )  # else refused, below
    units = divide_floor(np.array(savings_mg, dtype=np.int64), 10**decimals, milligrams_per_coin)
    for mg, got in zip(savings_mg, units.tolist(), strict=True):
        exact = (Decimal(mg) / Decimal(milligrams_per_coin)).quantize(
            Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN
        )
        assert Decimal(got).scaleb(-decimals) == exact


def test_an_award_too_large_for_64_bits_is_refused_not_wrapped() -> None:
    import pytest

    from carbonfoot import PolicyError

    with pytest.raises(PolicyError, match="does not fit in 64 bits"):
        divide_floor(np.array([2**53], dtype=np.int64), 10**6, 1)
