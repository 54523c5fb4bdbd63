"""Trips in order of a group, then of time: the order caps and plausibility checks walk in.

The usual batch (dense group codes, a few days of trips) is ordered by one plain sort of
int64 keys that hold the group, the time (coarsened just enough to fit) and the trip's
position, so the order can be read back from the sorted keys; the rare trips of one group
that share a coarse time step are then put in exact time order among themselves. A plain
sort of numbers is several times faster than an argsort. Batches whose keys cannot fit
fall back to a lexsort. Every path gives the same order: by group, then time, then position.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["fits_packed_key", "group_time_order", "group_time_sort"]

#: Packed keys stay below this, clear of int64 overflow in the additions that form them.
_KEY_LIMIT = 2**62
_KEY_BITS = 62


def fits_packed_key(groups: int, span: int) -> bool:
    """Whether ``groups * span`` distinct keys fit below the packed-key limit."""
    return groups * span < _KEY_LIMIT


def group_time_order(
    group: npt.NDArray[np.integer], times: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp]:
    """Positions sorted by ``group`` (non-negative), then ``times``, then position."""
    return group_time_sort(group, times)[0]


def group_time_sort(
    group: npt.NDArray[np.integer], times: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """:func:`group_time_order`, and the groups in that order (``group[order]``, read
    back from the sorted keys instead of gathered)."""
    size = group.size
    if size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    earliest = int(times.min())
    span_bits = (int(times.max()) - earliest).bit_length()
    group_bits = int(group.max()).bit_length()
    position_bits = (size - 1).bit_length()
    time_bits = _KEY_BITS - group_bits - position_bits
    if time_bits < 1:
        order = np.asarray(np.lexsort((times, group)), dtype=np.intp)
        return order, group[order].astype(np.int64)
    coarsen = max(0, span_bits - time_bits)
    key = group.astype(np.int64) << (time_bits + position_bits)
    key |= ((times - earliest) >> coarsen) << position_bits
    key |= np.arange(size, dtype=np.int64)
    key.sort()
    order = np.asarray(key & ((1 << position_bits) - 1), dtype=np.intp)
    if coarsen:
        # Reordering inside a run of one (group, coarse time) step keeps each slot's group.
        _exact_within_steps(order, key >> position_bits, times)
    key >>= time_bits + position_bits
    return order, key


def _exact_within_steps(
    order: npt.NDArray[np.intp], step: npt.NDArray[np.int64], times: npt.NDArray[np.int64]
) -> None:
    """Reorder, in place, runs of equal (group, coarse time) by exact time, then position."""
    same = step[1:] == step[:-1]
    if not same.any():
        return
    in_run = np.zeros(order.size, dtype=np.bool_)
    in_run[1:] |= same
    in_run[:-1] |= same
    where = np.flatnonzero(in_run)
    members = order[where]
    # Runs are contiguous and already in step order, so sorting by step first keeps each
    # run in its own slots.
    order[where] = members[np.lexsort((members, times[members], step[where]))]
