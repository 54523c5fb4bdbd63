"""Credit policies: the protocol a policy plugin implements, and the shared arithmetic.

A policy turns each trip's savings into an award: whole credits, or coins with a fixed
number of decimal places. Awards are exact integers of the policy's smallest unit
(``10 ** -decimals`` of a credit or coin), never binary floats, so a balance built from
them is exact. Savings enter the policy already rounded to whole milligrams (round half
to even), so an award never depends on floating-point noise in the last digit.

Daily caps are applied per user and *local* calendar day (the policy's time zone), in
trip-time order, ties broken by input order: the earliest trips of a day are paid in
full, the trip that crosses the cap is paid up to it, later trips get nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from attrs import field, frozen, validators

from carbonfoot._kernels.sorting import group_time_order
from carbonfoot.errors import PolicyError
from carbonfoot.money import MILLIGRAMS_PER_GRAM, divide_floor
from carbonfoot.parameters import Parameter, resolve_parameters

__all__ = [
    "MILLIGRAMS_PER_GRAM",
    "CreditPolicy",
    "PolicyBatch",
    "PolicySpec",
    "apply_daily_cap",
    "apply_daily_cap_matrix",
    "divide_floor",
    "mode_allowed",
]

Int64Array = npt.NDArray[np.int64]


class PolicyBatch:
    """What a policy sees of a batch: one entry per trip, as numpy arrays.

    ``savings_mg`` is savings in whole milligrams (0 for trips that are not eligible);
    ``eligible`` marks trips that may earn (computed rows); ``user`` is an integer code
    per user; ``local_day`` the trip's calendar day in the policy's time zone (days
    since 1970-01-01); ``started_us`` the start time in UTC microseconds, for ordering.

    ``user`` and ``local_day`` may be given as functions that compute them: they are
    then computed the first time a policy reads them, so a policy without caps never
    pays for encoding user ids or converting times to local days. ``already_issued`` is,
    for each trip, what its user was already awarded on its local day by earlier batches
    (the ledger knows it; a lone batch has zeros): daily caps count it.
    """

    def __init__(
        self,
        savings_mg: Int64Array,
        eligible: npt.NDArray[np.bool_],
        user: Int64Array | Callable[[], Int64Array],
        local_day: Int64Array | Callable[[], Int64Array],
        started_us: Int64Array,
        mode: npt.NDArray[np.int32] | None = None,
        mode_ids: tuple[str, ...] = (),
        mode_categories: tuple[str, ...] = (),
        already_issued: Int64Array | None = None,
    ) -> None:
        self.savings_mg = savings_mg
        self.eligible = eligible
        self.started_us = started_us
        self._user = user
        self._local_day = local_day
        self.mode = mode if mode is not None else np.full(savings_mg.shape, -1, dtype=np.int32)
        self._memo: dict[str, Any] = {}
        self.mode_ids = mode_ids
        self.mode_categories = mode_categories
        self.already_issued = (
            already_issued
            if already_issued is not None
            else np.zeros(savings_mg.shape, dtype=np.int64)
        )

    def of_modes(self, allowed: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Trips whose mode id or category is in ``allowed`` (every trip if it holds ``all``)."""
        if "all" in allowed:
            return np.ones(self.savings_mg.shape, dtype=np.bool_)
        codes = [
            code
            for code, (mode_id, category) in enumerate(
                zip(self.mode_ids, self.mode_categories, strict=True)
            )
            if mode_id in allowed or category in allowed
        ]
        known = len(self.mode_ids)
        if self.mode.size and int(self.mode.min()) >= -1 and int(self.mode.max()) < known:
            # A lookup per trip; its last entry is code -1 (an unknown mode), which never earns.
            table = np.zeros(known + 1, dtype=np.bool_)
            table[codes] = True
            return np.asarray(table[self.mode], dtype=np.bool_)
        return np.isin(self.mode, np.asarray(codes, dtype=np.int32))

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value derived from the batch's fixed arrays, computed once (e.g. a sort order)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def user(self) -> Int64Array:
        """Integer code of each trip's user."""
        if callable(self._user):
            self._user = self._user()
        return self._user

    @property
    def local_day(self) -> Int64Array:
        """Calendar day of each trip in the policy's time zone, in days since 1970-01-01."""
        if callable(self._local_day):
            self._local_day = self._local_day()
        return self._local_day


@runtime_checkable
class CreditPolicy(Protocol):
    """A built policy, ready to award a batch.

    ``unit`` names what it issues (``"credit"``, ``"coin"``); ``decimals`` is the scale
    of its awards (an award of 1234 with ``decimals == 2`` is 12.34); ``timezone`` is
    the IANA zone of its calendar days; ``params`` are the resolved parameters, recorded
    with every result.
    """

    id: str
    unit: str
    decimals: int
    timezone: str
    params: Mapping[str, Any]

    def award(self, batch: PolicyBatch) -> Int64Array:
        """Awards for every trip of ``batch`` in minor units; 0 where not eligible."""
        ...

    def award_one(self, savings_mg: int, mode_id: str, category: str) -> int:
        """The award of one trip of ``mode_id`` (in ``category``), alone in its user's day."""
        ...

    def describe(self) -> str:
        """The award rule in words and numbers, for ``explain``."""
        ...


@frozen
class PolicySpec:
    """What a policy plugin registers: id, unit, parameters, and how to build it."""

    id: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"))
    unit: str = field(validator=validators.min_len(1))
    description: str = field(validator=validators.min_len(1))
    parameters: tuple[Parameter, ...]
    build: Callable[[Mapping[str, Any]], CreditPolicy]

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``given``, each parsed; unknown names are an error."""
        return resolve_parameters(
            self.parameters, given, owner=f"policy {self.id!r}", error=PolicyError
        )

    def create(self, given: Mapping[str, Any]) -> CreditPolicy:
        """Build the policy with ``given`` parameters over the documented defaults."""
        params = self.resolve_params(given)
        try:
            return self.build(params)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise PolicyError(f"policy {self.id!r}: {exc}") from None


def mode_allowed(allowed: frozenset[str], mode_id: str, category: str) -> bool:
    """Whether one mode may earn under an ``eligible`` parameter."""
    return "all" in allowed or mode_id in allowed or category in allowed


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
    day = batch.local_day
    group = batch.user * (int(day.max() - day.min()) + 1) + (day - day.min())
    order = np.lexsort((np.arange(group.size), batch.started_us, group))
    ordered_group = group[order]
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
