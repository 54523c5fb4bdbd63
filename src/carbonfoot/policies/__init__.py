"""Credit policies: the protocol a policy plugin implements, and the shared arithmetic.

A policy turns each trip's savings into an award: whole credits, or coins with a fixed
number of decimal places. Awards are exact integers of the policy's smallest unit
(``10 ** -decimals`` of a credit or coin), never binary floats, so a balance built from
them is exact. Savings enter the policy already rounded to whole milligrams (round half
to even), so an award never depends on floating-point noise in the last digit.

Daily caps are applied per user and *local* calendar day (the policy's time zone), in
trip-time order, ties broken by input order: the earliest trips of a day are paid in
full, the trip that crosses the cap is paid up to it, later trips get nothing
(:mod:`carbonfoot.policies.caps`).

What a policy author needs is here: the protocol and the spec, the batch, the cap
arithmetic and exact division (from :mod:`carbonfoot.money`); parameters and their parsers
are in :mod:`carbonfoot.parameters`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
from attrs import field, frozen, validators

from carbonfoot.errors import PolicyError
from carbonfoot.money import MILLIGRAMS_PER_GRAM, divide_floor, to_value
from carbonfoot.parameters import Parameter, resolve_parameters
from carbonfoot.policies.caps import apply_daily_cap, apply_daily_cap_matrix

__all__ = [
    "MILLIGRAMS_PER_GRAM",
    "AwardReason",
    "CreditPolicy",
    "ExplainedPolicy",
    "MatrixPolicy",
    "PolicyBatch",
    "PolicySpec",
    "apply_daily_cap",
    "apply_daily_cap_matrix",
    "divide_floor",
    "mode_allowed",
    "rule_reasons",
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


@runtime_checkable
class MatrixPolicy(CreditPolicy, Protocol):
    """A policy that can also award a trips x draws matrix of savings at once.

    Optional: uncertainty analysis (:mod:`carbonfoot.research`) uses ``award_matrix``
    where a policy has it, and otherwise calls ``award`` once per draw. It must give, for
    each column, what ``award`` gives for that column's savings.
    """

    def award_matrix(self, batch: PolicyBatch, savings_mg: Int64Array) -> Int64Array:
        """Awards for each trip (row) and draw (column) of ``savings_mg``, caps included."""
        ...


def _read_only(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@frozen
class AwardReason:
    """One reason a trip earns what it earns, as data a face renders (text, JSON).

    ``code`` is stable (``not_eligible``, ``no_savings``, ``below_one_unit``,
    ``capped``, ``cap_reached``, ``within_cap``, ``no_cap``, ``rule``, and the statuses
    of trips that earn nothing: ``no_factor``, ``no_baseline``, ``suspect_*``);
    ``message`` says it in one sentence with its figures; ``figures`` holds them as text.
    """

    code: str
    message: str
    figures: Mapping[str, str] = field(factory=dict, converter=_read_only)


@runtime_checkable
class ExplainedPolicy(CreditPolicy, Protocol):
    """A policy that can say why one trip earns what it earns (optional, for ``explain``).

    ``explain_one`` gets a batch of one trip (its mode, savings and what its user was
    already issued that day) and returns the reasons of the award ``award`` gives that
    batch, in the order they apply. :func:`rule_reasons` gives them for the common rule
    (units per gram, eligible modes, a daily cap).
    """

    def explain_one(self, batch: PolicyBatch) -> tuple[AwardReason, ...]:
        """The reasons of ``award(batch)`` for a batch of one trip."""
        ...


def rule_reasons(
    batch: PolicyBatch,
    policy: CreditPolicy,
    *,
    eligible: frozenset[str],
    milligrams_per_unit: int,
    units: int,
    cap: int | None,
) -> tuple[AwardReason, ...]:
    """The reasons of a one-trip award under "so many milligrams per unit, these modes
    earn, at most ``cap`` units per user and day" (``units``: the award before the cap).

    Amounts are in the policy's minor units and shown in its unit with its decimals.
    """

    def shown(amount: int) -> str:
        return f"{to_value(amount, policy.decimals)}"

    plural = f"{policy.unit}s"
    code = int(batch.mode[0])
    mode_id = batch.mode_ids[code] if 0 <= code < len(batch.mode_ids) else "?"
    if not batch.of_modes(eligible)[0]:
        earning = [
            name
            for name, category in zip(batch.mode_ids, batch.mode_categories, strict=True)
            if mode_allowed(eligible, name, category)
        ]
        return (
            AwardReason(
                "not_eligible",
                f"{mode_id} is not eligible under {policy.id} (eligible: {', '.join(earning)})",
                {"mode": mode_id, "eligible": ",".join(earning)},
            ),
        )
    savings_mg = int(batch.savings_mg[0])
    reasons: list[AwardReason] = []
    if savings_mg <= 0:
        reasons.append(AwardReason("no_savings", "the trip saves nothing against the baseline", {}))
    elif units == 0:
        reasons.append(
            AwardReason(
                "below_one_unit",
                f"savings of {savings_mg} mg are less than the smallest award "
                f"({shown(1)} {policy.unit} = {milligrams_per_unit / _scale(policy):g} mg)",
                {"savings_mg": str(savings_mg)},
            )
        )
    if cap is None:
        reasons.append(AwardReason("no_cap", "no daily cap applies", {}))
        return tuple(reasons)
    paid = int(batch.already_issued[0])
    room = max(cap - paid, 0)
    figures = {"cap": shown(cap), "already_paid": shown(paid), "earned": shown(units)}
    if units > 0 and room == 0:
        reasons.append(
            AwardReason(
                "cap_reached",
                f"the daily cap of {shown(cap)} {plural} is reached: {shown(paid)} already "
                f"paid that day, so nothing more ({shown(units)} earned)",
                figures,
            )
        )
    elif units > room:
        reasons.append(
            AwardReason(
                "capped",
                f"capped by the daily cap of {shown(cap)} {plural}: {shown(units)} earned, "
                f"{shown(room)} paid ({shown(paid)} already paid that day)",
                figures,
            )
        )
    else:
        reasons.append(
            AwardReason(
                "within_cap",
                f"within the daily cap of {shown(cap)} {plural} ({shown(paid)} already paid that day)",
                figures,
            )
        )
    return tuple(reasons)


def _scale(policy: CreditPolicy) -> int:
    """Minor units per unit of ``policy`` (100 for coins kept to two places)."""
    return int(10**policy.decimals)


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
