"""Trips in order of a group, then of time: the order caps and plausibility checks walk in.

One stable sort of a packed ``group * span + time`` int64 key when it fits (the usual
case: dense group codes and a batch of a few days), else a lexsort of the two keys. Both
keep trips with equal group and time in their input order.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["fits_packed_key", "group_time_order"]

#: Packed keys stay below this, clear of int64 overflow in the additions that form them.
_KEY_LIMIT = 2**62


def fits_packed_key(groups: int, span: int) -> bool:
    """Whether ``groups * span`` distinct keys fit below the packed-key limit."""
    return groups * span < _KEY_LIMIT


def group_time_order(
    group: npt.NDArray[np.integer], times: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Positions sorted by ``group`` (non-negative), then ``times``, then position."""
    if group.size == 0:
        return np.zeros(0, dtype=np.intp)
    earliest = int(times.min())
    span = int(times.max()) - earliest + 1
    if fits_packed_key(int(group.max()) + 1, span):
        key = group.astype(np.int64) * span + (times - earliest)
        return np.asarray(np.argsort(key, kind="stable"), dtype=np.intp)
    return np.asarray(np.lexsort((times, group)), dtype=np.intp)
