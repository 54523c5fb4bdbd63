"""Which rows of a text column repeat an earlier row: exact, for about one integer sort.

Every batch must show its trip ids distinct. Hashing ten million strings into a table
(pyarrow's ``unique``) takes seconds. Here each string becomes one 64-bit integer read
straight from the column's bytes, and a sort of those integers finds any repeat. When
every value is at most 8 bytes long and has no NUL byte the integer *is* the value (zero
padded), so equal integers mean equal values; longer values are mixed into a 64-bit hash,
and only the rows whose hash repeats are compared as text. A batch without repeats, the
usual case, never builds a hash table of strings.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbonfoot.text import layout

__all__ = ["first_rows", "repeats", "text_keys", "value_codes"]

#: Bytes a value may have for its integer key to be the value itself.
EXACT_BYTES: Final = 8
#: Leading bytes mixed into the hash of a longer value (its last 8 bytes are mixed too).
HASHED_BYTES: Final = 64

_LOW_BYTES: Final = np.array(
    [(1 << (8 * count)) - 1 for count in range(EXACT_BYTES + 1)], dtype=np.uint64
)
_MIX: Final = np.uint64(0x9E3779B97F4A7C15)  # 2**64 / golden ratio, odd
_LENGTH_MIX: Final = np.uint64(0xC2B2AE3D27D4EB4F)
_SHIFT: Final = np.uint64(31)


def text_keys(values: pa.Array) -> tuple[npt.NDArray[np.uint64], bool]:
    """One 64-bit integer per row of a ``string`` or ``large_string`` array, and whether
    the integers are exact (equal integers if and only if equal values).

    Equal values always get equal integers. Null rows get an arbitrary integer.
    """
    size = len(values)
    starts, lengths, data = layout(values)
    if data.size > np.iinfo(starts.dtype).max - 2 * HASHED_BYTES:
        starts = starts.astype(np.int64)  # room for reads past a value's start
    longest, shortest = int(lengths.max(initial=0)), int(lengths.min(initial=0))
    # Every byte position as the start of a little-endian 64-bit word (unaligned reads),
    # and the last bytes again with zeros after them, for words that would run past the end.
    whole = max(data.size - EXACT_BYTES + 1, 0)
    words = np.ndarray((whole,), dtype=np.dtype("<u8"), buffer=data, strides=(1,))
    tail_from = max(data.size - EXACT_BYTES, 0)
    tail = np.zeros(2 * EXACT_BYTES, dtype=np.uint8)
    tail[: data.size - tail_from] = data[tail_from:]
    tail_words = np.ndarray((EXACT_BYTES + 1,), dtype=np.dtype("<u8"), buffer=tail, strides=(1,))

    def word(position: int) -> npt.NDArray[np.uint64]:
        """Bytes ``position`` to ``position + 7`` of every value, zero past its end."""
        at = starts + position
        past = int(np.searchsorted(at, whole))  # offsets never decrease: a suffix of rows
        read = words[np.minimum(at, whole - 1, out=at)] if whole else np.zeros(size, np.uint64)
        read[past:] = tail_words[np.clip(starts[past:] + position - tail_from, 0, EXACT_BYTES)]
        if shortest < position + EXACT_BYTES:
            read &= _LOW_BYTES[np.clip(lengths - position, 0, EXACT_BYTES)]
        return read

    used = data[int(starts[0]) : int(starts[-1] + lengths[-1])] if size else data[:0]
    if longest <= EXACT_BYTES and not (used == 0).any():
        return word(0), True
    key = lengths.astype(np.uint64)
    key *= _LENGTH_MIX
    for position in range(0, min(longest, HASHED_BYTES), EXACT_BYTES):
        _mix(key, word(position))
    if longest > HASHED_BYTES:
        last = word(0)  # replaced by each long value's last 8 bytes
        long = np.flatnonzero(lengths > HASHED_BYTES)
        last[long] = words[starts[long] + lengths[long] - EXACT_BYTES]
        _mix(key, last)
    return key, False


def _mix(key: npt.NDArray[np.uint64], word: npt.NDArray[np.uint64]) -> None:
    """Fold ``word`` into ``key`` in place (``word`` is overwritten)."""
    key ^= word
    key *= _MIX
    np.right_shift(key, _SHIFT, out=word)
    key ^= word


def value_codes(values: pa.Array) -> npt.NDArray[np.int64]:
    """One integer per distinct value (-1 for null), numbered in order of first appearance.

    Short text is numbered by its exact integer keys (hashing integers is faster than
    hashing strings); any other column by its values.
    """
    source = values
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        keys, exact = text_keys(values)
        if exact:
            nulls = values.is_null().to_numpy(zero_copy_only=False) if values.null_count else None
            source = pa.array(keys, mask=nulls)
    encoded = source.dictionary_encode().indices.fill_null(-1)
    return np.asarray(encoded.to_numpy(zero_copy_only=False), dtype=np.int64)


def first_rows(values: pa.Array) -> npt.NDArray[np.int64]:
    """For each row, the first row holding the same value; its own row if none before it.

    Null rows are their own first row (a missing value repeats nothing).
    """
    first = np.arange(len(values), dtype=np.int64)
    rows, earlier = repeats(values)
    first[rows] = earlier
    return first


def repeats(values: pa.Array) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The rows whose value an earlier row holds (ascending), and that earlier row's
    first appearance for each. Both empty when every value is distinct; nulls never repeat.
    """
    none = np.zeros(0, dtype=np.int64)
    size = len(values)
    if size < 2:
        return none, none
    text = values if pa.types.is_string(values.type) else values.cast(pa.string())
    keys, _ = text_keys(text)
    present: npt.NDArray[np.int64] | None = None
    if text.null_count:
        present = np.flatnonzero(np.asarray(text.is_valid().to_numpy(zero_copy_only=False)))
        keys = keys[present]
    ordered = np.sort(keys)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return none, none  # every value distinct: the usual case
    repeated = np.unique(ordered[1:][same])
    at = np.minimum(np.searchsorted(repeated, keys), repeated.size - 1)
    candidates = np.flatnonzero(repeated[at] == keys)
    if present is not None:
        candidates = present[candidates]
    # Rows with a repeated key: compared as text (hash keys of distinct values may meet).
    encoded = text.take(pa.array(candidates)).dictionary_encode()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    _, first_index = np.unique(codes, return_index=True)
    first_of_code = np.empty(len(encoded.dictionary), dtype=np.int64)
    first_of_code[codes[first_index]] = candidates[first_index]
    first = first_of_code[codes]
    later = first != candidates
    return candidates[later], first[later]
