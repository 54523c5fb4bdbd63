"""Rejections: each row's status and, for rows that are not ok, a message saying why.

The intake, the engine and the plausibility checks all add reasons to one
:class:`Rejections` per batch, in the order of the data's way; a row keeps the first
reason it meets (a status is never overwritten). Messages name the row (1-based, counting
data rows of the whole input), the column and the offending value, and are built as
Arrow string columns for the rejected rows only: no Python string per trip.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.strings import as_text
from carbonfoot.statuses import STATUS_CODE

__all__ = ["Rejections"]

#: Characters of a rejected value quoted in its message (longer values end in "...").
SHOWN_CHARACTERS: Final = 40

BoolArray = npt.NDArray[np.bool_]


class Rejections:
    """Statuses and messages of one batch. The first reason a row meets is the one it keeps."""

    def __init__(self, size: int, row_numbers: npt.NDArray[np.int64]) -> None:
        self.status = np.zeros(size, dtype=np.int8)
        self.row_numbers = row_numbers
        self.parts: list[tuple[npt.NDArray[np.intp], pa.Array]] = []

    @property
    def ok(self) -> BoolArray:
        """Rows with no reason yet: still ok."""
        return np.asarray(self.status == 0)

    def _claim(self, mask: BoolArray, status: str) -> npt.NDArray[np.intp]:
        if not mask.any():
            return np.zeros(0, dtype=np.intp)
        rows = np.flatnonzero(mask & (self.status == 0))
        self.status[rows] = STATUS_CODE[status]
        return rows

    def _prefix(self, rows: npt.NDArray[np.intp], column: str) -> list[Any]:
        numbers = pa.array(self.row_numbers[rows] + 1).cast(pa.string())
        return ["row ", numbers, f": column '{column}': "]

    def reject(self, mask: BoolArray, status: str, column: str, message: str) -> None:
        """Reject rows of ``mask`` with a fixed message about ``column``."""
        rows = self._claim(mask, status)
        if rows.size:
            self.parts.append((rows, join(*self._prefix(rows, column), message)))

    def reject_value(
        self,
        mask: BoolArray,
        status: str,
        column: str,
        values: pa.Array,
        message: str,
        detail: Callable[[npt.NDArray[np.intp]], pa.Array] | None = None,
    ) -> None:
        """Reject rows of ``mask``, quoting each row's value of ``column`` in the message.

        ``detail(rows)``, if given, returns text appended to the message of those rows.
        """
        rows = self._claim(mask, status)
        if rows.size:
            shown = _quoted(as_text(values.take(pa.array(rows))))
            tail = [detail(rows)] if detail is not None else []
            self.parts.append((rows, join(*self._prefix(rows, column), shown, message, *tail)))

    def reject_messages(
        self, mask: BoolArray, status: str, column: str, messages: pa.Array
    ) -> None:
        """Reject rows of ``mask`` with per-row messages (``messages`` has one per input row)."""
        rows = self._claim(mask, status)
        if rows.size:
            self.parts.append(
                (rows, join(*self._prefix(rows, column), messages.take(pa.array(rows))))
            )

    def reject_rows(self, mask: BoolArray, status: str, messages: pa.Array) -> None:
        """Reject whole rows of ``mask`` (no column to blame), with per-row messages."""
        rows = self._claim(mask, status)
        if rows.size:
            numbers = pa.array(self.row_numbers[rows] + 1).cast(pa.string())
            self.parts.append((rows, join("row ", numbers, ": ", messages.take(pa.array(rows)))))

    def messages(self) -> pa.Array:
        """One message per row, null for rows that are ok."""
        size = self.status.size
        if not self.parts:
            return pa.nulls(size, type=pa.string())
        rows = np.concatenate([rows for rows, _ in self.parts])
        texts = pa.concat_arrays([text.cast(pa.string()) for _, text in self.parts])
        position = np.full(size, -1, dtype=np.int64)
        position[rows] = np.arange(rows.size)
        return texts.take(pa.array(position, mask=position < 0))


def join(*parts: Any) -> pa.Array:
    """Text pieces (strings and string arrays) joined element-wise into one string array."""
    return pc.binary_join_element_wise(*parts, "")


def _quoted(values: pa.Array) -> pa.Array:
    text = pc.utf8_slice_codeunits(values.fill_null(""), 0, SHOWN_CHARACTERS)
    longer = pc.greater(pc.utf8_length(values.fill_null("")), SHOWN_CHARACTERS)
    text = pc.if_else(longer, join(text, "..."), text)
    return join("'", text, "'")
