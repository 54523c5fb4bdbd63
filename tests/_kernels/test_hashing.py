"""Repeated values of a text column: the first row of each value, exactly, whatever the text."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot._kernels import hashing
from carbonfoot._kernels.hashing import (
    EXACT_BYTES,
    HASHED_BYTES,
    first_rows,
    text_hash,
    text_keys,
    value_codes,
)

# Values near the edges the keys care about: empty, NUL bytes, 8 and 9 bytes, multi-byte
# characters, over 64 bytes with equal heads or equal tails, and nulls.
EDGES = [
    "",
    "a",
    "\x00",
    "a\x00",
    "\x00a",
    "é",
    "ab",
    "t1234567",
    "t12345678",
    "x" * HASHED_BYTES,
    "x" * (HASHED_BYTES + 1),
    "x" * HASHED_BYTES + "y",
    "y" + "x" * HASHED_BYTES,
    "x" * 30 + "z" + "x" * 40,
    "x" * 30 + "w" + "x" * 40,
    None,
]
values = st.lists(st.one_of(st.sampled_from(EDGES), st.text(max_size=80), st.none()), max_size=60)


def first_rows_by_loop(column: list[str | None]) -> list[int]:
    seen: dict[str, int] = {}
    return [
        row if value is None else seen.setdefault(value, row) for row, value in enumerate(column)
    ]


def as_arrays(column: list[str | None], cut: int) -> list[pa.Array]:
    """The same values as string, large_string, and a slice of a longer array."""
    padding = ["before"] * cut
    longer = pa.array([*padding, *column, "after"], type=pa.string())
    return [
        pa.array(column, type=pa.string()),
        pa.array(column, type=pa.large_string()),
        longer.slice(cut, len(column)),
    ]


@settings(max_examples=300, deadline=None)
@given(column=values, cut=st.integers(0, 5))
def test_first_rows_match_a_plain_loop(column: list[str | None], cut: int) -> None:
    expected = first_rows_by_loop(column)
    for array in as_arrays(column, cut):
        assert first_rows(array).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(column=values, cut=st.integers(0, 5))
def test_equal_values_get_equal_keys_and_exact_keys_only_for_short_text(
    column: list[str | None], cut: int
) -> None:
    for array in as_arrays(column, cut):
        keys, exact = text_keys(array)
        by_value: dict[str, set[int]] = {}
        for value, key in zip(array.to_pylist(), keys.tolist(), strict=True):
            if value is not None:
                by_value.setdefault(value, set()).add(key)
        assert all(len(found) == 1 for found in by_value.values())
        present = [value for value in array.to_pylist() if value is not None]
        if exact:
            assert all(len(value.encode()) <= EXACT_BYTES for value in present)
            assert all("\x00" not in value for value in present)
            assert len({found.pop() for found in by_value.values()}) == len(by_value)


@settings(max_examples=100, deadline=None)
@given(column=values)
def test_colliding_keys_are_told_apart_as_text(column: list[str | None]) -> None:
    """Every value hashed to one key, the worst case: the answer is still exact."""

    def one_key(array: pa.Array) -> tuple[np.ndarray, bool]:
        return np.zeros(len(array), dtype=np.uint64), False

    with mock.patch.object(hashing, "text_keys", one_key):
        assert first_rows(pa.array(column, type=pa.string())).tolist() == first_rows_by_loop(column)


def test_ids_of_a_large_batch() -> None:
    ids = pa.array([f"trip-{index:07d}" for index in range(300_000)])
    assert np.array_equal(first_rows(ids), np.arange(300_000))
    repeated = pa.concat_arrays([ids, ids.slice(10, 3)])
    first = first_rows(repeated)
    assert first[300_000:].tolist() == [10, 11, 12]
    assert np.array_equal(first[:300_000], np.arange(300_000))


def test_only_text_is_keyed() -> None:
    with pytest.raises(TypeError, match="string array"):
        text_keys(pa.array([1, 2]))
    assert first_rows(pa.array([3, 1, 3])).tolist() == [0, 1, 0]


def codes_by_loop(column: list[str | None]) -> list[int]:
    numbered: dict[str, int] = {}
    return [-1 if value is None else numbered.setdefault(value, len(numbered)) for value in column]


@settings(max_examples=300, deadline=None)
@given(column=values, cut=st.integers(0, 5))
def test_value_codes_number_values_in_order_of_first_appearance(
    column: list[str | None], cut: int
) -> None:
    expected = codes_by_loop(column)
    for array in as_arrays(column, cut):
        assert value_codes(array).tolist() == expected
    assert value_codes(pa.array([7, None, 7, 3])).tolist() == [0, -1, 0, 1]


@settings(max_examples=200, deadline=None)
@given(first=values, second=values, cut=st.integers(0, 5))
def test_a_value_hashes_the_same_in_any_array(
    first: list[str | None], second: list[str | None], cut: int
) -> None:
    """Chunks of one file are hashed apart: a value's hash may not depend on its neighbours."""
    seen: dict[str | None, int] = {}
    for column in (first, second, [*second, "x" * (HASHED_BYTES + 9)]):
        for array in as_arrays(column, cut):
            for value, hashed in zip(column, text_hash(array).tolist(), strict=True):
                assert seen.setdefault("" if value is None else value, hashed) == hashed


def test_hashes_spread_over_buckets() -> None:
    hashes = text_hash(pa.array([f"u{index}" for index in range(20_000)]))
    assert len(set(hashes.tolist())) == 20_000
    counts = np.bincount((hashes % np.uint64(16)).astype(np.int64), minlength=16)
    assert counts.min() > 20_000 / 16 * 0.8
