"""Trimming and blank tests read from the buffers agree with pyarrow's own kernels."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot._kernels import strings
from carbonfoot._kernels.strings import empty_or_null, layout, trim_whitespace

# Whitespace pyarrow trims (ASCII and Unicode), other control characters, and letters.
EDGE_CHARACTERS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\xa0", "\u3000"]
EDGE_CHARACTERS += ["\u2028", "\x00", "\x7f", "a", "é", "步", "1"]
values = st.lists(
    st.one_of(st.none(), st.text(alphabet=st.sampled_from(EDGE_CHARACTERS), max_size=6)),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(column=values, cut=st.integers(0, 3))
def test_trimming_matches_pyarrow(column: list[str | None], cut: int) -> None:
    longer = pa.array([*(["x"] * cut), *column], type=pa.string())
    for array in (pa.array(column, type=pa.string()), longer.slice(cut)):
        assert trim_whitespace(array).to_pylist() == pc.utf8_trim_whitespace(array).to_pylist()
        expected = [value is None or value == "" for value in array.to_pylist()]
        assert empty_or_null(array).tolist() == expected


def test_a_column_with_nothing_to_trim_is_returned_as_it_is() -> None:
    ids = pa.array(["t1", "u-22", "", None, "x"])
    assert trim_whitespace(ids) is ids
    padded = pa.array(["t1", " t2"])
    assert trim_whitespace(padded).to_pylist() == ["t1", "t2"]


def test_other_types_go_to_the_kernels() -> None:
    chunked = pa.chunked_array([[" a "], ["b"]])
    assert trim_whitespace(chunked).to_pylist() == ["a", "b"]
    assert empty_or_null(pa.array([b"", b"x", None])).tolist() == [True, False, True]


def test_layout_of_a_large_string_slice() -> None:
    array = pa.array(["ab", "", "cde", "f"], type=pa.large_string()).slice(1, 2)
    starts, lengths, data = layout(array)
    assert lengths.tolist() == [0, 3]
    assert bytes(data[starts[1] : starts[1] + 3]) == b"cde"
    assert np.issubdtype(starts.dtype, np.int64)


@settings(max_examples=100, deadline=None)
@given(column=values)
def test_trimming_in_small_blocks_matches_pyarrow(column: list[str | None]) -> None:
    array = pa.array(column, type=pa.string())
    with mock.patch.object(strings, "_BLOCK_VALUES", 3):
        assert trim_whitespace(array).to_pylist() == pc.utf8_trim_whitespace(array).to_pylist()


def test_an_empty_array_without_an_offsets_buffer() -> None:
    empty = pa.Array.from_buffers(pa.string(), 0, [None, None, pa.py_buffer(b"")])
    assert empty.buffers()[1] is None
    assert trim_whitespace(empty) is empty
    assert empty_or_null(empty).tolist() == []
    assert layout(empty)[1].tolist() == []
