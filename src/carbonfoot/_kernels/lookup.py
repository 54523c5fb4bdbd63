"""Integer codes for a text column, by key, at one hash probe per row.

Mode labels, stop ids and the like are mostly written exactly as a known key; those rows
are found by one ``index_in`` against the keys. Only the rows that miss are resolved by the
caller's own rule (trimming, case-folding, aliases), once per distinct value, so a column
of ten million labels costs a hash probe per row and a Python call per odd spelling.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["TextLookup"]


class TextLookup:
    """The code of each value of a text column: ``codes_by_key`` for exact keys, else
    ``resolve(value)``; ``missing`` for nulls."""

    def __init__(
        self, codes_by_key: Mapping[str, int], resolve: Callable[[str], int], missing: int
    ) -> None:
        self._keys = pa.array(list(codes_by_key), type=pa.string())
        self._codes = np.array([*codes_by_key.values(), missing], dtype=np.int32)
        self._resolve = resolve
        self._missing = missing

    def __call__(self, values: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int32]:
        text = values if values.type == pa.string() else values.cast(pa.string())
        found = pc.index_in(text, value_set=self._keys)
        if found.null_count == 0:
            return np.asarray(self._codes[found.to_numpy()], dtype=np.int32)
        none = len(self._codes) - 1
        index = found.fill_null(none).to_numpy()
        codes = self._codes[index]
        missed = np.flatnonzero(index == none)
        encoded = text.take(pa.array(missed)).dictionary_encode()
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        distinct = np.array(
            [*(self._resolve(value) for value in encoded.dictionary.to_pylist()), self._missing],
            dtype=np.int32,
        )
        codes[missed] = distinct[encoded.indices.fill_null(len(distinct) - 1).to_numpy()]
        return np.asarray(codes, dtype=np.int32)
