"""Fraud across batches: a new trip checked against what the ledger already holds.

Within a batch, the engine quarantines near-duplicates (the same user and mode starting
within ``duplicate_window_s``: one ride reported by two sources) and overlaps (a trip that
starts before an earlier one of the same user has ended). A ride sent again in another
batch, by another partner app or another process, would escape those checks, so the
ledger runs the same two rules between each chunk's new trips and the trips it already
holds for their users (credited or held for review), inside the write transaction that
credits them: concurrent writers are serialized, so they cannot slip past each other.
Trips that arrived before the ledger kept end times count as instants.

The daily distance limit is a sum, so a user's day split over two batches would escape
it as well: :func:`held_daily_distance` adds the distance the ledger already holds for each
user, local day and mode (every trip credited or held, once, whatever became of it in
review: a claim counts) to the batch's own, and quarantines the new trips of a day that
together pass the mode's ``max_daily_km``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.sorting import fits_packed_key, group_time_order
from carbonfoot.intake.plausibility import PlausibilityRules
from carbonfoot.ledger.positions import in_parts
from carbonfoot.modes import ModeTable

__all__ = ["held_daily_distance", "held_suspects"]

#: How far before a new trip's start the ledger looks for one it could overlap: longer
#: trips than a day are not plausible for any mode a programme pays.
LOOK_BACK_US: Final = 24 * 3600 * 1_000_000

BoolArray = npt.NDArray[np.bool_]


def held_suspects(
    cursor: Any,
    store: Any,
    rules: PlausibilityRules,
    *,
    users: Sequence[str],
    modes: Sequence[str],
    started_us: npt.NDArray[np.int64],
    ended_us: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """For each new trip, ``suspect_duplicate`` or ``suspect_overlap`` (else None) against
    the trips the ledger holds, and a message naming the held trip (object arrays)."""
    size = len(users)
    statuses = np.full(size, None, dtype=object)
    messages = np.full(size, None, dtype=object)
    if size == 0:
        return statuses, messages
    window_us = int(rules.duplicate_window_s * 1e6)
    low = int(started_us.min()) - window_us - LOOK_BACK_US
    high = int(max(int(ended_us.max()), int(started_us.max()))) + window_us
    held = _held_trips(cursor, store, sorted(set(users)), low, high)
    if not held:
        return statuses, messages
    held_users, held_trips, held_modes, held_start, held_end = zip(*held, strict=True)
    all_users = pa.array([*users, *held_users], type=pa.string()).dictionary_encode()
    user_code = np.asarray(all_users.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    all_modes = pa.array([*modes, *held_modes], type=pa.string()).dictionary_encode()
    mode_code = np.asarray(all_modes.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    start = np.concatenate([started_us, np.asarray(held_start, dtype=np.int64)])
    end = np.concatenate([np.maximum(ended_us, started_us), np.asarray(held_end, dtype=np.int64)])
    is_held = np.zeros(start.size, dtype=np.bool_)
    is_held[size:] = True
    names = np.asarray([None] * size + list(held_trips), dtype=object)
    duplicate_of = _nearest_held_within(
        user_code * (int(mode_code.max()) + 1) + mode_code, start, is_held, window_us
    )
    overlap_of = (
        _overlapping_held(user_code, start, end, is_held)
        if rules.check_overlap
        else np.full(start.size, -1)
    )
    window = f"{rules.duplicate_window_s:g}"
    mode_names = pa.array(list(modes), type=pa.string())
    for status, other, text in (
        (
            "suspect_overlap",
            overlap_of[:size],
            (
                "this ",
                None,
                " trip overlaps trip '",
                "', of the same user, which the ledger already holds",
            ),
        ),
        (
            "suspect_duplicate",
            duplicate_of[:size],
            (
                f"starts within {window} s of ",
                None,
                " trip '",
                "' of the same user, which the ledger already holds",
            ),
        ),
    ):
        rows = np.flatnonzero(other >= 0)
        if rows.size == 0:
            continue
        held_names = pa.array(names[other[rows]].tolist(), type=pa.string())
        joined: pa.Array = pc.binary_join_element_wise(
            text[0], mode_names.take(pa.array(rows)), text[2], held_names, text[3], ""
        )
        statuses[rows] = status
        messages[rows] = np.asarray(joined.to_pylist(), dtype=object)
    return statuses, messages


def _held_trips(
    cursor: Any, store: Any, users: list[str], low: int, high: int
) -> list[tuple[str, str, str, int, int]]:
    held: list[tuple[str, str, str, int, int]] = []
    for part in in_parts(users):
        condition, params = store.in_list("user_id", part)
        held.extend(
            (user, trip, mode, int(start), int(end if end is not None else start))
            for user, trip, mode, start, end in cursor.execute(
                "SELECT user_id, trip_id, mode, started_us, ended_us FROM entries "
                f"WHERE kind IN ('credit', 'quarantine') AND {condition} "
                "AND started_us BETWEEN ? AND ?",
                [*params, low, high],
            )
        )
    return held


def _nearest_held_within(
    group: npt.NDArray[np.int64], start: npt.NDArray[np.int64], is_held: BoolArray, window: int
) -> npt.NDArray[np.intp]:
    """For each trip, a held trip of its group starting at most ``window`` away, or -1."""
    order = group_time_order(group, start)
    ordered_group, ordered_start, ordered_held = group[order], start[order], is_held[order]
    positions = np.arange(order.size)
    before = np.maximum.accumulate(np.where(ordered_held, positions, -1))
    after = np.minimum.accumulate(np.where(ordered_held, positions, order.size)[::-1])[::-1]
    found = np.full(order.size, -1, dtype=np.intp)
    for neighbour in (before, after):
        usable = (neighbour >= 0) & (neighbour < order.size)
        index = np.where(usable, neighbour, 0)
        close = (
            usable
            & (ordered_group[index] == ordered_group)
            & (np.abs(ordered_start[index] - ordered_start) <= window)
            & (found < 0)
        )
        found[close] = order[index[close]]
    result = np.full(order.size, -1, dtype=np.intp)
    result[order] = np.where(ordered_held, -1, found)
    return result


def _overlapping_held(
    user: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    is_held: BoolArray,
) -> npt.NDArray[np.intp]:
    """For each trip, a held trip of its user whose time it shares (touching is fine), or -1.

    In user-then-start order: a held trip that started earlier and has not ended (the
    latest-ending one so far, by a running maximum that a per-user offset keeps from
    crossing users), else the next held trip, if it starts before this one ends.
    """
    order = group_time_order(user, start)
    ordered_user = user[order]
    ordered_start, ordered_end, ordered_held = start[order], end[order], is_held[order]
    size = order.size
    positions = np.arange(size)
    base = int(min(ordered_start.min(), ordered_end.min()))
    span = int(max(ordered_start.max(), ordered_end.max())) - base + 1
    rank = np.cumsum(np.r_[True, ordered_user[1:] != ordered_user[:-1]]) - 1
    if int(rank[-1] + 1) * span < 2**62:
        offset = rank * span - base
        start_key, end_key = ordered_start + offset, ordered_end + offset
    else:  # times too far apart to share one key with the user: rank them first
        _, ranks = np.unique(np.concatenate([ordered_start, ordered_end]), return_inverse=True)
        offset = rank * (2 * size + 1)
        start_key, end_key = ranks[:size] + offset, ranks[size:] + offset
    floor = np.iinfo(np.int64).min
    held_end = np.where(ordered_held, end_key, floor)
    running = np.maximum.accumulate(held_end)
    marker = np.where(ordered_held & (held_end == running), positions, -1)
    argmax = np.maximum.accumulate(marker)
    before = np.r_[-1, argmax[:-1]]  # the latest-ending held trip strictly before each one
    usable = before >= 0
    index = np.where(usable, before, 0)
    found = np.where(usable & (end_key[index] > start_key) & (rank[index] == rank), index, -1)
    after = np.minimum.accumulate(np.where(ordered_held, positions, size)[::-1])[::-1]
    later_usable = (after < size) & (found < 0)
    later_index = np.where(later_usable, after, 0)
    later = (
        later_usable
        & (rank[later_index] == rank)
        & (start_key[later_index] < end_key)
        & (later_index != positions)
    )
    found = np.where(later, later_index, found)
    result = np.full(size, -1, dtype=np.intp)
    mapped = np.where(found >= 0, order[np.maximum(found, 0)], -1)
    result[order] = np.where(ordered_held, -1, mapped)
    return result


def held_daily_distance(
    cursor: Any,
    store: Any,
    rules: PlausibilityRules,
    modes: ModeTable,
    *,
    account: str,
    users: Sequence[str],
    codes: npt.NDArray[np.int32],
    local_day: npt.NDArray[np.int64],
    distance_km: npt.NDArray[np.float64],
    candidates: BoolArray,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """For each new trip, the km the ledger already holds for its user, local day and mode,
    and that day's total with the new trips (NaN where no held trip adds to it).

    ``users``, ``codes``, ``local_day`` and ``distance_km`` are the new trips of one chunk
    (whole user-days: the chunking never splits one), all of them, so the day's new
    distance is the batch's; ``candidates`` marks those that may still be paid. A
    candidate is over the limit where the total passes ``max_daily_km`` of its mode.
    """
    size = len(users)
    held_km = np.full(size, np.nan)
    total_km = np.full(size, np.nan)
    if size == 0 or not candidates.any():
        return held_km, total_km
    max_daily = np.array([limit.max_daily_km for limit in rules.limits] or [np.inf])
    limited = candidates & np.isfinite(max_daily[codes])
    if not limited.any():
        return held_km, total_km
    asked = np.flatnonzero(limited)
    days = local_day[asked]
    held = _held_distances(
        cursor,
        store,
        account,
        sorted({users[i] for i in asked.tolist()}),
        int(days.min()),
        int(days.max()),
    )
    if held.num_rows == 0:
        return held_km, total_km
    held_codes = modes.codes(held.column("mode")).astype(np.int64)
    known = held_codes >= 0
    held_user = held.column("user_id").to_numpy(zero_copy_only=False)[known]
    held_day = held.column("local_day").to_numpy().astype(np.int64)[known]
    held_distance = held.column("distance_km").to_numpy(zero_copy_only=False)[known]
    held_codes = held_codes[known]
    all_users = pa.array([*users, *held_user.tolist()], type=pa.string()).dictionary_encode()
    user_code = np.asarray(all_users.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    day = np.concatenate([local_day.astype(np.int64), held_day])
    mode = np.concatenate([codes.astype(np.int64), held_codes])
    first_day = int(day.min())
    day_count = int(day.max()) - first_day + 1
    mode_count = int(mode.max()) + 1
    if fits_packed_key(int(user_code.max()) + 1, day_count * mode_count):
        key = (user_code * day_count + (day - first_day)) * mode_count + mode
        _, group = np.unique(key, return_inverse=True)
    else:
        _, group = np.unique(np.stack([user_code, day, mode]), axis=1, return_inverse=True)
    group = group.ravel()
    is_held = np.zeros(group.size, dtype=np.bool_)
    is_held[size:] = True
    weights = np.concatenate([np.nan_to_num(distance_km, nan=0.0), held_distance])
    groups = int(group.max()) + 1
    held_sum = np.bincount(group[is_held], weights=weights[is_held], minlength=groups)
    held_count = np.bincount(group[is_held], minlength=groups)
    new_sum = np.bincount(group[:size], weights=weights[:size], minlength=groups)
    mine = group[:size]
    some = limited & (held_count[mine] > 0)
    held_km[some] = held_sum[mine][some]
    total_km[some] = (held_sum + new_sum)[mine][some]
    return held_km, total_km


def _held_distances(
    cursor: Any, store: Any, account: str, users: list[str], low: int, high: int
) -> pa.Table:
    """Each trip of ``users`` on local days ``low`` to ``high`` the ledger holds (credited
    or quarantined; an approved trip has both entries and counts once): user, day, mode, km."""
    found: list[tuple[str, str, int, str | None, float | None]] = []
    for part in in_parts(users):
        condition, params = store.in_list("user_id", part)
        found.extend(
            cursor.execute(
                "SELECT trip_id, user_id, local_day, mode, distance_km FROM entries "
                f"WHERE kind IN ('credit', 'quarantine') AND account = ? AND {condition} "
                "AND local_day BETWEEN ? AND ? AND mode IS NOT NULL AND distance_km IS NOT NULL",
                [account, *params, low, high],
            )
        )
    trip_ids, user_ids, days, mode_ids, kms = zip(*found, strict=True) if found else [()] * 5
    # An approved trip has a quarantine and a credit entry: keep its first.
    trips = pa.array(trip_ids, type=pa.string()).dictionary_encode().indices.to_numpy()
    _, first = np.unique(trips, return_index=True)
    first = pa.array(np.sort(first))
    return pa.table(
        {
            "user_id": pa.array(user_ids, type=pa.string()),
            "local_day": pa.array(days, type=pa.int64()),
            "mode": pa.array(mode_ids, type=pa.string()),
            "distance_km": pa.array(kms, type=pa.float64()),
        }
    ).take(first)
