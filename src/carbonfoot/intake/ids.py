"""Trip and user ids: in one canonical form, checked distinct, hashed for spreading a file.

Ids are compared in one canonical form (:func:`canonical_ids`): Unicode NFC, invisible
format characters removed (zero-width spaces and joiners, byte-order marks, soft hyphens,
bidirectional marks), then trimmed of whitespace; case is kept unless the run folds it
(``fold_case``). So ``"a1"``, ``"a1 "``, ``"a\u200b1"`` and the decomposed form of an accented
id are one trip (and one user), never two, and one ride cannot be credited once per
spelling. Bytes that are not valid UTF-8 are no id at all: such rows are rejected. A trip id
may appear once in a batch: a later row with an id seen before is a ``duplicate_trip_id``
naming the row it first appeared in. A batch that is part of a larger file (a streamed
bucket, a Dask partition) is told the file's repeats instead, found once over the whole
file by :func:`repeated_trip_ids`, so that the first occurrence wins wherever it is.
:func:`string_hash` spreads rows over buckets by an id, the same in every chunk and process.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.arrays import one_array
from carbonfoot._kernels.hashing import repeats, text_hash
from carbonfoot._kernels.strings import decode_utf8, empty_or_null, has_non_ascii, trim_whitespace

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
BoolArray = npt.NDArray[np.bool_]


#: Characters removed from ids: Unicode's format characters (category Cf), invisible
#: when printed.
INVISIBLE_PATTERN: Final = r"\p{Cf}"


def canonical_ids(values: pa.Array, *, fold_case: bool = False) -> tuple[pa.Array, BoolArray]:
    """An id column in its canonical form (see the module docstring), and the rows whose
    bytes are not valid UTF-8 (null in the result). Numbers become their text form.

    Columns of ASCII text (the usual case) need only the trimming: NFC and the removal of
    format characters cannot change them.
    """
    text, invalid = decode_utf8(values)
    if has_non_ascii(text):
        text = pc.utf8_normalize(text, form="NFC")
        text = pc.replace_substring_regex(text, pattern=INVISIBLE_PATTERN, replacement="")
    text = trim_whitespace(text)
    if fold_case:
        text = pc.utf8_lower(text)
    return text, invalid


def ids_as_text(values: pa.Array, *, fold_case: bool = False) -> pa.Array:
    """An id column in its canonical form (invalid UTF-8 as null)."""
    return canonical_ids(values, fold_case=fold_case)[0]


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


def string_hash(
    values: pa.Array | pa.ChunkedArray, *, fold_case: bool = False
) -> npt.NDArray[np.uint64]:
    """A 64-bit hash of each id in its canonical form (null as empty): the same in every
    chunk and process."""
    return text_hash(ids_as_text(one_array(values), fold_case=fold_case))


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
