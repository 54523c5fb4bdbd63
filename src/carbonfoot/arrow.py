"""One contiguous Arrow array from a table column, copied only when it must be.

``ChunkedArray.combine_chunks`` copies even a column of one chunk (the usual shape of a
table read in one go): on ten million ids that is a copy of every byte. A single chunk is
used as it is.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["one_array"]


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as one array: its only chunk as it is, or its chunks joined."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values
