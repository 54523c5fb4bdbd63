"""Trip ids across the parts of a file: the file-wide repeats and the bucket hash."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot.intake.ids import string_hash


def test_the_string_hash_spreads_ids_and_ignores_padding() -> None:
    import pyarrow as pa

    hashes = string_hash(pa.array([f"t{i}" for i in range(10_000)] + ["t1 ", " t1", None, ""]))
    assert len(set(hashes[:10_000].tolist())) == 10_000
    assert hashes[10_000] == hashes[10_001] == hashes[1]
    buckets = (hashes[:10_000] % 8).tolist()
    assert min(buckets.count(b) for b in range(8)) > 1000  # roughly even


@settings(max_examples=200, deadline=None)
@given(
    ids=st.lists(
        st.one_of(st.none(), st.sampled_from(["", "a", "b", "c" * 12, "d" * 70])), max_size=40
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_repeated_trip_ids_match_one_pass_in_row_order(ids: list[str | None], seed: int) -> None:
    """Rows may come in any order (a Dask partition after a shuffle); the earliest row wins."""
    import numpy as np
    import pyarrow as pa

    from carbonfoot.intake.ids import repeated_trip_ids

    numbers = np.random.default_rng(seed).permutation(len(ids)).astype(np.int64) * 3 + 5
    by_row = sorted(zip(numbers.tolist(), ids, strict=True))
    seen: dict[str, int] = {}
    expected = set()
    for row, value in by_row:
        if value:  # empty and null ids repeat nothing
            first = seen.setdefault(value, row)
            if first != row:
                expected.add((row, first))
    rows, firsts = repeated_trip_ids(pa.array(ids, type=pa.string()), numbers)
    assert set(zip(rows.tolist(), firsts.tolist(), strict=True)) == expected
    assert len(rows) == len(expected)
