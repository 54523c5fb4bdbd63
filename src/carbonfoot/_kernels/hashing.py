"""Which rows of a text column repeat an earlier row: exact, for about one integer sort.

Every batch must show its trip ids distinct. Hashing ten million strings into a table
(pyarrow's ``unique``) takes seconds. Here each string becomes one 64-bit integer read
straight from the column's bytes, and a sort of those integers finds any repeat. When
every value is at most 8 bytes long and has no NUL byte the integer *is* the value (zero
padded), so equal integers mean equal values; longer values are mixed into a 64-bit hash,
and only the rows whose hash repeats are compared as text. A batch without repeats, the
usual case, never builds a hash table of strings. The same word reads number user ids
(:func:`value_codes`) and hash ids alone for spreading a file over buckets
(:func:`text_hash`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbonfoot._kernels.strings import layout

__all__ = ["first_rows", "repeats", "text_hash", "text_keys", "value_codes"]

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
_EMPTY_HASH: Final = np.uint64(0)  # the empty string's key before finalising: length 0


class _Words:
    """The 8-byte words of every value of a string array, read in place from its buffers."""

    def __init__(self, values: pa.Array) -> None:
        self.size = len(values)
        starts, self.lengths, data = layout(values)
        if data.size > np.iinfo(starts.dtype).max - 2 * HASHED_BYTES:
            starts = starts.astype(np.int64)  # room for reads past a value's start
        self.starts = starts
        self.longest = int(self.lengths.max(initial=0))
        self.shortest = int(self.lengths.min(initial=0))
        self.used = data[int(starts[0]) : int(starts[-1] + self.lengths[-1])] if self.size else data
        # Every byte position as the start of a little-endian 64-bit word (unaligned
        # reads), and the last bytes again with zeros after them, for words that would run
        # past the end of the buffer.
        self.whole = max(data.size - EXACT_BYTES + 1, 0)
        self.words = np.ndarray((self.whole,), dtype=np.dtype("<u8"), buffer=data, strides=(1,))
        self.tail_from = max(data.size - EXACT_BYTES, 0)
        tail = np.zeros(2 * EXACT_BYTES, dtype=np.uint8)
        tail[: data.size - self.tail_from] = data[self.tail_from :]
        self.tail = np.ndarray((EXACT_BYTES + 1,), dtype=np.dtype("<u8"), buffer=tail, strides=(1,))

    def at(self, position: int) -> npt.NDArray[np.uint64]:
        """Bytes ``position`` to ``position + 7`` of every value, zero past its end."""
        starts, whole = self.starts, self.whole
        at = starts + position
        past = int(np.searchsorted(at, whole))  # offsets never decrease: a suffix of rows
        read = (
            self.words[np.minimum(at, whole - 1, out=at)]
            if whole
            else np.zeros(self.size, np.uint64)
        )
        read[past:] = self.tail[np.clip(starts[past:] + position - self.tail_from, 0, EXACT_BYTES)]
        if self.shortest < position + EXACT_BYTES:
            read &= _LOW_BYTES[np.clip(self.lengths - position, 0, EXACT_BYTES)]
        return read

    def last(self) -> npt.NDArray[np.uint64]:
        """The last 8 bytes of each value longer than :data:`HASHED_BYTES`, else 0."""
        last = np.zeros(self.size, dtype=np.uint64)
        long = np.flatnonzero(self.lengths > HASHED_BYTES)
        last[long] = self.words[self.starts[long] + self.lengths[long] - EXACT_BYTES]
        return last


def text_keys(values: pa.Array) -> tuple[npt.NDArray[np.uint64], bool]:
    """One 64-bit integer per row of a ``string`` or ``large_string`` array, and whether
    the integers are exact (equal integers if and only if equal values).

    Equal values always get equal integers. Null rows get an arbitrary integer. A hashed
    key depends on the rest of the array (how many words it mixes): compare keys of one
    array only; :func:`text_hash` is the hash of a value alone.
    """
    words = _Words(values)
    if words.longest <= EXACT_BYTES and not (words.used == 0).any():
        return words.at(0), True
    key = words.lengths.astype(np.uint64)
    key *= _LENGTH_MIX
    for position in range(0, min(words.longest, HASHED_BYTES), EXACT_BYTES):
        _mix(key, words.at(position))
    if words.longest > HASHED_BYTES:
        _mix(key, words.last())
    return key, False


def text_hash(values: pa.Array) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each value of a string array that depends on that value alone
    (the same in any array, chunk or process), well spread in its low bits for bucketing.

    Null rows hash as the empty string.
    """
    words = _Words(values)
    key = words.lengths.astype(np.uint64)
    key *= _LENGTH_MIX
    for position in range(0, min(words.longest, HASHED_BYTES), EXACT_BYTES):
        mixed = key.copy()
        _mix(mixed, words.at(position))
        np.copyto(key, mixed, where=words.lengths > position)  # only words of the value
    if words.longest > HASHED_BYTES:
        mixed = key.copy()
        _mix(mixed, words.last())
        np.copyto(key, mixed, where=words.lengths > HASHED_BYTES)
    if values.null_count:
        key[np.asarray(values.is_null().to_numpy(zero_copy_only=False))] = _EMPTY_HASH
    # splitmix64's finaliser: every input bit moves about half of the output bits.
    key ^= key >> np.uint64(30)
    key *= np.uint64(0xBF58476D1CE4E5B9)
    key ^= key >> np.uint64(27)
    key *= np.uint64(0x94D049BB133111EB)
    key ^= key >> np.uint64(31)
    return key


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
