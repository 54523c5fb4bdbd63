"""Plausibility checks: trips that are possible on paper but not in life are quarantined.

A quarantined trip keeps its computed savings (for review) but earns nothing; its status
says why. Checks, in this order (a trip gets the first that applies):

* ``suspect_speed``: average speed outside the mode's plausible range (needs ``ended_at``);
  a speed exactly on a bound is accepted;
* ``suspect_distance``: longer than the mode's maximum trip distance;
* ``suspect_daily_distance``: the user's distance by that mode on that local day exceeds
  the mode's maximum daily distance (every such trip of that day is quarantined);
* ``suspect_duplicate``: the same user and mode started another trip at most
  ``duplicate_window_s`` seconds before (the same ride reported by two sources, under
  another trip id); the default window, 0 s, catches a ride reported at the same instant;
* ``suspect_overlap``: the trip starts before an earlier trip of the same user has ended.

Limits start from what each mode plugin declares and are overridden by configuration
(``[plausibility]`` in a config file): thresholds are data, not code. Every check is a
handful of array operations over the batch.
"""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot._kernels import threads
from carbonfoot._kernels.sorting import fits_packed_key, group_time_order, group_time_sort
from carbonfoot._kernels.threads import Deferred
from carbonfoot.errors import InputError
from carbonfoot.intake.rejections import Rejections, join
from carbonfoot.modes import ModeTable
from carbonfoot.statuses import QUARANTINED

__all__ = ["Limits", "PlausibilityRules", "quarantine"]

_MICROS_PER_HOUR = 3.6e9
_BLOCK_ROWS = 1 << 16
_MODE_LIMITS = ("min_kmh", "max_kmh", "max_trip_km", "max_daily_km")
#: Up to this many (user, day, mode) keys, daily totals use a dense array (8 MiB).
_DENSE_KEYS = 1 << 20


@frozen
class Limits:
    """One mode's envelope: speed range (km/h), longest trip and longest day (km)."""

    min_kmh: float
    max_kmh: float
    max_trip_km: float
    max_daily_km: float


@frozen
class PlausibilityRules:
    """Limits per mode code, and the batch-wide checks."""

    limits: tuple[Limits, ...]
    duplicate_window_s: float = 0.0
    check_overlap: bool = True

    @classmethod
    def from_modes(
        cls, modes: ModeTable, config: Mapping[str, Any] | None = None
    ) -> PlausibilityRules:
        """The modes' declared limits, overridden by ``config`` (a ``[plausibility]`` table)."""
        config = dict(config or {})
        unknown = sorted(set(config) - {"duplicate_window_s", "overlap", "modes"})
        if unknown:
            raise InputError(f"[plausibility]: unknown setting(s) {', '.join(unknown)}")
        per_mode = config.get("modes", {})
        if not isinstance(per_mode, dict):
            raise InputError("[plausibility.modes] must be tables of mode limits")
        limits = []
        known = set()
        for mode in modes.modes:
            values = {
                "min_kmh": mode.speed.min_kmh,
                "max_kmh": mode.speed.max_kmh,
                "max_trip_km": mode.max_trip_km if mode.max_trip_km is not None else math.inf,
                "max_daily_km": mode.max_daily_km if mode.max_daily_km is not None else math.inf,
            }
            override = per_mode.get(mode.id, {})
            if override:
                known.add(mode.id)
                if not isinstance(override, dict) or set(override) - set(_MODE_LIMITS):
                    raise InputError(
                        f"[plausibility.modes.{mode.id}]: settings are {', '.join(_MODE_LIMITS)}"
                    )
                for name, value in override.items():
                    values[name] = _positive(value, f"[plausibility.modes.{mode.id}].{name}")
            if values["max_kmh"] <= values["min_kmh"]:
                raise InputError(f"[plausibility.modes.{mode.id}]: max_kmh must be above min_kmh")
            limits.append(Limits(**values))
        strangers = sorted(set(per_mode) - known - set(modes.ids))
        if strangers:
            raise InputError(f"[plausibility.modes]: unknown mode(s) {', '.join(strangers)}")
        window = _positive(
            config.get("duplicate_window_s", 0), "[plausibility].duplicate_window_s", zero=True
        )
        overlap = config.get("overlap", True)
        if not isinstance(overlap, bool):
            raise InputError("[plausibility].overlap must be true or false")
        return cls(tuple(limits), window, overlap)

    def check(
        self,
        *,
        computed: npt.NDArray[np.bool_],
        codes: npt.NDArray[np.int32],
        distance_km: npt.NDArray[np.float64],
        started_us: npt.NDArray[np.int64],
        ended_us: npt.NDArray[np.int64] | None,
        local_day: npt.NDArray[np.int64],
        users: Callable[[], npt.NDArray[np.int64]],
    ) -> npt.NDArray[np.int8]:
        """For each trip, 0 or 1 + the index of its suspect status in :data:`~carbonfoot.statuses.QUARANTINED`."""
        size = codes.size
        verdict = np.zeros(size, dtype=np.int8)
        if not computed.any():
            return verdict
        every = bool(computed.all())
        code = codes if every else np.where(computed, codes, 0)
        table = np.array(
            [[getattr(limit, name) for name in _MODE_LIMITS] for limit in self.limits]
            or [[0, 1, 1, 1]]
        )
        min_kmh, max_kmh, max_trip, max_daily = (
            np.ascontiguousarray(table[:, i]) for i in range(4)
        )

        def flag(mask: npt.NDArray[np.bool_], status: str) -> None:
            chosen = mask & computed & (verdict == 0)
            verdict[chosen] = QUARANTINED.index(status) + 1

        end = started_us if ended_us is None else np.maximum(ended_us, started_us)
        some = None if every else np.flatnonzero(computed)  # None: every row
        overlapping = (
            _OverlapCheck(some, size, users, started_us, end)
            if self.check_overlap and ended_us is not None
            else None
        )
        if ended_us is not None:
            flag(
                _outside_speed(distance_km, started_us, ended_us, code, min_kmh, max_kmh),
                "suspect_speed",
            )
        if np.isfinite(max_trip).any():
            flag(distance_km > max_trip[code], "suspect_distance")
        if np.isfinite(max_daily).any():
            rows = np.arange(size) if some is None else some
            limited = rows[np.isfinite(max_daily[code[rows]])]
            if limited.size:
                flag(
                    _over_daily_distance(
                        limited, users(), local_day, code, distance_km, max_daily, size
                    ),
                    "suspect_daily_distance",
                )
        # At a window of 0 too: the same user and mode starting at the same instant.
        flag(
            _near_duplicates(
                np.arange(size) if some is None else some,
                users(),
                code,
                started_us,
                self.duplicate_window_s,
                size,
            ),
            "suspect_duplicate",
        )
        if overlapping is not None:
            flag(overlapping.result(), "suspect_overlap")
        return verdict


class _OverlapCheck:
    """The overlap check, started at once; on a large batch split by ranges of user codes.

    It is the costliest check (a sort by user and time). Users are independent, so on a
    batch of :data:`~carbonfoot._kernels.threads.BACKGROUND_FROM_ROWS` rows or more the users are
    cut into :data:`PARTS` ranges that a background thread starts on now and the calling
    thread joins in on when it asks for the result: each thread takes the next range not
    yet taken, so neither waits while there is work left.
    """

    PARTS = 4

    def __init__(
        self,
        rows: npt.NDArray[np.intp] | None,
        size: int,
        users: Callable[[], npt.NDArray[np.int64]],
        start: npt.NDArray[np.int64],
        end: npt.NDArray[np.int64],
    ) -> None:
        """Check ``rows`` (None: all ``size`` trips)."""
        self._work = partial(_overlapping_users, rows=rows, users=users, start=start, end=end)
        checked = size if rows is None else rows.size
        self._parts = self.PARTS if checked >= threads.BACKGROUND_FROM_ROWS else 1
        self._next_part = itertools.count()
        self._taking = threading.Lock()  # each part taken once, with or without a GIL
        self._found: list[npt.NDArray[np.bool_]] = []
        self._helper = Deferred(self._take_parts, checked)

    def _take_parts(self) -> None:
        while True:
            with self._taking:
                part = next(self._next_part)
            if part >= self._parts:
                return
            self._found.append(self._work(part=part, parts=self._parts))

    def result(self) -> npt.NDArray[np.bool_]:
        """Trips that start before an earlier trip of the same user has ended."""
        self._take_parts()
        self._helper()  # the part the background thread may still be working on
        flagged = self._found[0]
        for found in self._found[1:]:
            flagged |= found
        return flagged


def _outside_speed(
    distance_km: npt.NDArray[np.float64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    code: npt.NDArray[np.int32],
    min_kmh: npt.NDArray[np.float64],
    max_kmh: npt.NDArray[np.float64],
) -> npt.NDArray[np.bool_]:
    """Trips whose average speed is outside their mode's range (a bound itself is inside).

    A zero duration with a distance is infinitely fast; an end before the start is the
    intake's rejection, not this check's. Worked through in blocks whose scratch arrays
    stay in the processor's cache: on ten million trips, whole-column temporaries would
    each be fresh memory the system must provide.
    """
    size = code.size
    outside = np.zeros(size, dtype=np.bool_)
    block = min(size, _BLOCK_ROWS)
    micros = np.empty(block, dtype=np.int64)
    hours, speed, limit = np.empty(block), np.empty(block), np.empty(block)
    below, forward = np.empty(block, dtype=np.bool_), np.empty(block, dtype=np.bool_)
    with np.errstate(divide="ignore", invalid="ignore"):
        for low in range(0, size, block):
            high = min(low + block, size)
            rows, n = slice(low, high), high - low
            # The duration in whole microseconds first (exact), then in hours.
            np.subtract(end[rows], start[rows], out=micros[:n])
            np.greater_equal(micros[:n], 0, out=forward[:n])
            np.divide(micros[:n], _MICROS_PER_HOUR, out=hours[:n])
            speed[:n] = np.inf  # where the trip took no time
            np.divide(distance_km[rows], hours[:n], out=speed[:n], where=hours[:n] > 0)
            np.take(max_kmh, code[rows], out=limit[:n])
            np.greater(speed[:n], limit[:n], out=outside[rows])
            np.take(min_kmh, code[rows], out=limit[:n])
            np.less(speed[:n], limit[:n], out=below[:n])
            outside[rows] |= below[:n]
            outside[rows] &= forward[:n]
    return outside


def _over_daily_distance(
    rows: npt.NDArray[np.intp],
    user: npt.NDArray[np.int64],
    local_day: npt.NDArray[np.int64],
    code: npt.NDArray[np.int32],
    distance_km: npt.NDArray[np.float64],
    max_daily: npt.NDArray[np.float64],
    size: int,
) -> npt.NDArray[np.bool_]:
    """Trips whose user's distance by that mode on that local day is over the mode's limit.

    Where the (user, day, mode) keys span little more than the trips (user codes are dense,
    a batch covers a few days), the totals are one ``bincount`` over the packed key, with no
    sort; otherwise the keys are ranked first."""
    users, days, modes = user[rows], local_day[rows], code[rows].astype(np.int64)
    first_day = int(days.min())
    day_count = int(days.max()) - first_day + 1
    mode_count = int(modes.max()) + 1
    user_count = int(users.max()) + 1
    over = np.zeros(size, dtype=bool)
    if user_count * day_count * mode_count <= max(4 * rows.size, _DENSE_KEYS):
        key = (users * day_count + (days - first_day)) * mode_count + modes
        totals = np.bincount(key, weights=distance_km[rows])
        over[rows] = totals[key] > max_daily[modes]
        return over
    if fits_packed_key(user_count, day_count * mode_count):
        key = (users * day_count + (days - first_day)) * mode_count + modes
        _, group = np.unique(key, return_inverse=True)
    else:
        _, group = np.unique(np.stack([users, days, modes]), axis=1, return_inverse=True)
    group = group.ravel()
    totals = np.bincount(group, weights=distance_km[rows])
    over[rows] = totals[group] > max_daily[modes]
    return over


def _overlapping_users(
    part: int,
    parts: int,
    rows: npt.NDArray[np.intp] | None,
    users: Callable[[], npt.NDArray[np.int64]],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """:func:`_overlapping` for the trips of one of ``parts`` equal ranges of user codes."""
    user = users()
    if parts > 1 and (rows is None or rows.size):
        of_user = user if rows is None else user[rows]
        codes = int(of_user.max()) + 1
        low, high = codes * part // parts, codes * (part + 1) // parts
        mine = (of_user >= low) & (of_user < high)
        rows = np.flatnonzero(mine) if rows is None else rows[mine]
    return _overlapping(rows, user, start, end)


def _overlapping(
    rows: npt.NDArray[np.intp] | None,
    user: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Trips that start before an earlier trip of the same user has ended (touching is
    fine), among ``rows`` (None: every trip)."""
    flagged = np.zeros(user.size, dtype=bool)
    if rows is not None and rows.size == 0:
        return flagged
    if rows is None:
        positions, users = group_time_sort(user, start)
        order = positions
    else:
        positions, users = group_time_sort(user[rows], start[rows])
        order = rows[positions]
    start_of, end_of = start[order], end[order]
    base = int(min(start_of.min(), end_of.min()))
    span = int(max(start_of.max(), end_of.max())) - base + 1
    if fits_packed_key(int(users[-1]) + 1, span):
        # Times shifted per user, user-major: a user's keys all lie above the previous
        # user's, so a running maximum of end keys never crosses from one user to the next.
        offset = users
        offset *= span
        offset -= base
        start_of += offset
        end_of += offset
    else:  # times too far apart to share one key: rank them first
        _, ranks = np.unique(np.concatenate([start_of, end_of]), return_inverse=True)
        new_user = np.r_[True, users[1:] != users[:-1]]
        offset = np.cumsum(new_user) * (2 * order.size + 1)
        start_of = ranks[: order.size] + offset
        end_of = ranks[order.size :] + offset
    latest_end = np.maximum.accumulate(end_of, out=end_of)
    later = np.flatnonzero(start_of[1:] < latest_end[:-1]) + 1
    flagged[order[later]] = True
    return flagged


def _near_duplicates(
    rows: npt.NDArray[np.intp],
    user: npt.NDArray[np.int64],
    code: npt.NDArray[np.int32],
    start: npt.NDArray[np.int64],
    window_s: float,
    size: int,
) -> npt.NDArray[np.bool_]:
    """Trips of the same user and mode started within ``window_s`` after the previous one."""
    modes = int(code[rows].max()) + 1
    group = user[rows] * modes + code[rows]
    positions = group_time_order(group, start[rows])
    order = rows[positions]
    group = group[positions]
    same = group[1:] == group[:-1]
    close = (start[order][1:] - start[order][:-1]) <= window_s * 1e6
    flagged = np.zeros(size, dtype=bool)
    flagged[order[1:][same & close]] = True
    return flagged


def quarantine(
    rejections: Rejections,
    verdict: npt.NDArray[np.int8],
    *,
    codes: npt.NDArray[np.int32],
    distance_km: npt.NDArray[np.float64],
    started_us: npt.NDArray[np.int64],
    ended_us: npt.NDArray[np.int64] | None,
    rules: PlausibilityRules,
    modes: ModeTable,
) -> None:
    """Give the suspect trips of a :meth:`PlausibilityRules.check` verdict their status
    and a message saying which limit they broke; their numbers stay computed."""
    for index, status in enumerate(QUARANTINED, start=1):
        mask = verdict == index
        if not mask.any():
            continue
        rows = np.flatnonzero(mask)
        mode_names = pa.array(np.asarray(modes.ids, dtype=object)[codes[rows]], type=pa.string())
        limits = rules.limits
        if status == "suspect_speed":
            assert ended_us is not None
            hours = (ended_us[rows] - started_us[rows]) / _MICROS_PER_HOUR
            with np.errstate(divide="ignore", invalid="ignore"):
                speed = np.where(hours > 0, distance_km[rows] / hours, np.inf)
            bounds = [f"{limits[c].min_kmh:g}-{limits[c].max_kmh:g}" for c in codes[rows]]
            bound = pa.array(bounds, type=pa.string())
            timed = join(
                "average speed ",
                _text(np.round(np.where(hours > 0, speed, 0.0), 2)),
                " km/h is outside ",
                mode_names,
                "'s plausible ",
                bound,
                " km/h",
            )
            # A trip that ends when it starts has no average speed ("inf km/h" says
            # nothing): say what it is instead.
            instant = join(
                "the trip ends when it starts (no time between started_at and ended_at), so its ",
                _text(np.round(distance_km[rows], 3)),
                " km cannot be a ",
                mode_names,
                " trip at a plausible ",
                bound,
                " km/h",
            )
            parts = [pc.if_else(pa.array(hours <= 0), instant, timed)]
            column = "ended_at"
        elif status == "suspect_distance":
            bounds = [f"{limits[c].max_trip_km:g}" for c in codes[rows]]
            parts = [
                _text(np.round(distance_km[rows], 3)),
                " km is longer than ",
                mode_names,
                "'s maximum trip of ",
                pa.array(bounds, type=pa.string()),
                " km",
            ]
            column = "distance"
        elif status == "suspect_daily_distance":
            bounds = [f"{limits[c].max_daily_km:g}" for c in codes[rows]]
            parts = [
                "this user's ",
                mode_names,
                " distance that day is over the daily maximum of ",
                pa.array(bounds, type=pa.string()),
                " km",
            ]
            column = "distance"
        elif status == "suspect_overlap":
            parts = [
                "this ",
                mode_names,
                " trip starts before an earlier trip of the same user has ended",
            ]
            column = "started_at"
        else:
            parts = [
                f"starts within {rules.duplicate_window_s:g} s of another ",
                mode_names,
                " trip of the same user",
            ]
            column = "started_at"
        messages = pa.nulls(codes.size, pa.string()).to_numpy(zero_copy_only=False).astype(object)
        messages[rows] = join(*parts).to_numpy(zero_copy_only=False)
        rejections.reject_messages(mask, status, column, pa.array(messages, type=pa.string()))


def _text(values: npt.NDArray[Any]) -> pa.Array:
    return pa.array(values).cast(pa.string())


def _positive(value: Any, where: str, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{where} must be a number, got {value!r}")
    if value < 0 or (value == 0 and not zero):
        raise InputError(f"{where} must be above 0, got {value!r}")
    return float(value)
