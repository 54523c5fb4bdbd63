"""Trip and user ids: trimmed, checked distinct, and hashed for spreading a file over parts.

Ids are trimmed (``"a1"`` and ``"a1 "`` are one trip, and one user, never two). A trip id
may appear once in a batch: a later row with an id seen before is a ``duplicate_trip_id``
naming the row it first appeared in. A batch that is part of a larger file (a streamed
bucket, a Dask partition) is told the file's repeats instead, found once over the whole
file by :func:`repeated_trip_ids`, so that the first occurrence wins wherever it is.
:func:`string_hash` spreads rows over buckets by an id, the same in every chunk and process.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbonfoot._kernels.arrays import one_array
from carbonfoot._kernels.hashing import repeats, text_hash
from carbonfoot._kernels.strings import as_text, empty_or_null, trim_whitespace

__all__ = [
    "KnownDuplicates",
    "duplicate_trip_ids",
    "ids_as_text",
    "repeated_trip_ids",
    "string_hash",
]

#: Sorted row numbers (in the whole file) of repeated trip ids, and the row each first
#: appeared in.
KnownDuplicates = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


def ids_as_text(values: pa.Array) -> pa.Array:
    """An id column as trimmed text (numbers and other scalars as their text form)."""
    return trim_whitespace(as_text(values))


def duplicate_trip_ids(
    trip_id: pa.Array,
    row_numbers: npt.NDArray[np.int64],
    candidates: npt.NDArray[np.bool_],
    known_duplicates: KnownDuplicates | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which ``candidates`` rows repeat an earlier trip id, and each row's first row.

    Without ``known_duplicates`` the batch is the whole input and its own repeats are
    found; with them (a part of a larger file) the file's are used.
    """
    size = len(trip_id)
    if known_duplicates is None:
        again, first = repeats(trip_id)
        duplicate = np.zeros(size, dtype=np.bool_)
        duplicate[again] = True
        duplicate &= candidates
        first_row = row_numbers
        if again.size:
            first_row = row_numbers.copy()
            first_row[again] = row_numbers[first]
        return duplicate, first_row
    if known_duplicates[0].size:
        duplicate_rows, first_of_duplicate = known_duplicates
        position = np.minimum(np.searchsorted(duplicate_rows, row_numbers), duplicate_rows.size - 1)
        duplicate = (duplicate_rows[position] == row_numbers) & candidates
        return duplicate, np.where(duplicate, first_of_duplicate[position], row_numbers)
    return np.zeros(size, dtype=np.bool_), row_numbers  # the file's ids were all distinct


def string_hash(values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each string, trimmed (null as empty): the same in every chunk."""
    text = one_array(values)
    text = text if pa.types.is_string(text.type) else text.cast(pa.string())
    return text_hash(trim_whitespace(text))


def repeated_trip_ids(
    trip_ids: pa.Array | pa.ChunkedArray, rows: npt.NDArray[np.int64]
) -> KnownDuplicates:
    """Rows whose trip id appeared in an earlier row, and the row it first appeared in.

    ``trip_ids`` are the trimmed ids of some rows of a file (every row of each id among
    them), ``rows`` their row numbers in the whole file; empty and null ids repeat
    nothing. The first occurrence wins, as in one pass. Returned in no particular order.
    """
    none = np.zeros(0, dtype=np.int64)
    if len(trip_ids) == 0:
        return none, none
    ids = one_array(trip_ids)
    ids = ids if pa.types.is_string(ids.type) else ids.cast(pa.string())
    numbers = np.asarray(rows, dtype=np.int64)
    if not bool(np.all(numbers[1:] > numbers[:-1])):  # first in the file = first here
        order = np.argsort(numbers, kind="stable")
        ids, numbers = ids.take(pa.array(order)), numbers[order]
    later, first = repeats(ids)
    kept = ~empty_or_null(ids)[later]
    return numbers[later[kept]], numbers[first[kept]]
