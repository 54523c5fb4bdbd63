"""Daily caps: at most so much per user and local day, paid in trip-time order.

The earliest trips of a user's day are paid in full, the trip that crosses the cap is
paid up to it, later trips get nothing; ties in time are broken by input order. What the
user was already issued that day by earlier batches (the ledger's day totals, in
``batch.already_issued``) counts. Only user-days whose uncapped total exceeds the cap
are ordered; the others are paid as they are. Every step is whole-array arithmetic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from carbonfoot._kernels.sorting import group_time_order

if TYPE_CHECKING:
    from carbonfoot.policies import PolicyBatch

__all__ = ["apply_daily_cap", "apply_daily_cap_matrix"]

Int64Array = npt.NDArray[np.int64]


def apply_daily_cap_matrix(
    awards: npt.NDArray[np.int64], batch: PolicyBatch, cap: int
) -> npt.NDArray[np.int64]:
    """:func:`apply_daily_cap` for a trips x draws matrix of awards, every draw at once.

    Users, days and times do not change between draws, so trips are ordered once per
    batch (by user-day, then start time, then input position); only the user-days that
    exceed the cap in some draw are summed up in order, as in :func:`apply_daily_cap`.
    """
    size = awards.shape[0]
    if size == 0:
        return awards.copy()
    order, starts = batch.memo("cap-order", lambda: _user_day_order(batch))
    ordered = awards[order]
    prior = batch.already_issued[order][starts]
    totals = np.add.reduceat(ordered, starts, axis=0) + prior[:, np.newaxis]
    over = (totals > cap).any(axis=1)
    if not over.any():
        return awards.copy()
    lengths = np.diff(np.r_[starts, size])
    chosen = np.repeat(over, lengths)
    paid = ordered[chosen]
    running = np.cumsum(paid, axis=0)
    chosen_lengths = lengths[over]
    chosen_starts = np.r_[0, np.cumsum(chosen_lengths)[:-1]]
    before_group = np.where(
        chosen_starts[:, np.newaxis] > 0, running[np.maximum(chosen_starts - 1, 0)], 0
    )
    already = (
        running
        - paid
        - np.repeat(before_group, chosen_lengths, axis=0)
        + np.repeat(prior[over], chosen_lengths)[:, np.newaxis]
    )
    np.subtract(cap, already, out=already)
    np.clip(already, 0, paid, out=already)
    ordered[chosen] = already
    capped = np.empty_like(awards)
    capped[order] = ordered
    return capped


def _user_day_order(batch: PolicyBatch) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Trips by user-day, then start time, then position; and where each user-day starts."""
    day = batch.local_day
    group = batch.user * (int(day.max() - day.min()) + 1) + (day - day.min())
    codes, _ = _group_codes(group.astype(np.int64))
    order = group_time_order(codes, batch.started_us)
    ordered_group = codes[order]
    starts = np.flatnonzero(np.r_[True, ordered_group[1:] != ordered_group[:-1]])
    return order, starts


def apply_daily_cap(
    awards: Int64Array, batch: PolicyBatch, cap: int, *, in_place: bool = False
) -> Int64Array:
    """Awards after a per-user, per-local-day cap, paid in trip-time order.

    Only user-days whose uncapped total exceeds the cap are sorted: for the others the
    awards stand as they are. Within a capped day, trips are ordered by start time, then
    by input position. ``in_place`` caps ``awards`` itself (a policy's own array) and
    returns it, instead of a capped copy.
    """
    capped = awards if in_place else awards.copy()
    earning = np.flatnonzero(awards > 0)
    if earning.size == 0:
        return capped
    # One integer per (user, local day) among earning trips (arrays of 10 million trips:
    # worked on in place, as each temporary is fresh memory the system has to provide).
    day = batch.local_day[earning]
    first_day = int(day.min())
    day_span = int(day.max()) - first_day + 1
    group = batch.user[earning].astype(np.int64, copy=False)
    group *= day_span
    day -= first_day
    group += day
    del day
    group_index, groups = _group_codes(group)
    weights = awards[earning].astype(np.float64)
    totals = np.asarray(np.bincount(group_index, weights, minlength=groups), dtype=np.float64)
    del weights
    if batch.already_issued.any():
        prior = np.zeros(groups)
        prior[group_index] = batch.already_issued[earning]
        totals += prior
    # float64 sums are exact below 2**53 minor units; the margin keeps larger sums on the
    # exact path too (sorting a day that is under the cap pays it in full anyway).
    over = totals * (1.0 + 2.0**-40) + 1.0 > cap
    if not over.any():
        return capped
    chosen = over[group_index]
    rows = earning[chosen]
    rows_group = group_index[chosen]
    order = group_time_order(rows_group, batch.started_us[rows])
    rows = rows[order]
    rows_group = rows_group[order]
    paid = awards[rows]
    running = np.cumsum(paid)
    starts = np.flatnonzero(np.r_[True, rows_group[1:] != rows_group[:-1]])
    before_group = np.repeat(running[starts] - paid[starts], np.diff(np.r_[starts, rows.size]))
    already = running - paid - before_group + batch.already_issued[rows]
    capped[rows] = np.clip(cap - already, 0, paid)
    return capped


def _group_codes(group: Int64Array) -> tuple[npt.NDArray[np.intp], int]:
    """A code per distinct value of ``group`` (0 .. n-1), and n; empty codes are allowed.

    Dense values (user codes from the intake are 0 .. users-1) are their own codes, less
    the smallest (``group`` is reused for them): no sort. Sparse ones (user ids given as
    arbitrary integers) are ranked.
    """
    low, high = int(group.min()), int(group.max())
    if high - low < max(2 * group.size, 1 << 16):
        group -= low
        return np.asarray(group, dtype=np.intp), high - low + 1
    _, inverse = np.unique(group, return_inverse=True)
    return np.asarray(inverse, dtype=np.intp), int(inverse.max()) + 1
