"""Arrow columns as the engine needs them, copied only when they must be.

``ChunkedArray.combine_chunks`` copies even a column of one chunk (the usual shape of a
table read in one go): on ten million ids that is a copy of every byte. A single chunk is
used as it is. A column without nulls has an all-false null mask without a pass over it.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["null_mask", "one_array"]


def one_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``values`` as one array: its only chunk as it is, or its chunks joined."""
    if isinstance(values, pa.ChunkedArray):
        return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    return values


def null_mask(values: pa.Array) -> npt.NDArray[np.bool_]:
    """Rows that are null, as a numpy mask."""
    if values.null_count == 0:
        return np.zeros(len(values), dtype=np.bool_)
    return np.asarray(pc.is_null(values).to_numpy(zero_copy_only=False), dtype=np.bool_)
