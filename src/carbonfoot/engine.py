"""The engine: built once from a factor set, a baseline and a policy; computes batches.

Building resolves every mode's factor to grams per passenger-km and lays the numbers
out as arrays indexed by mode code (plus one trailing NaN slot, which code -1, an
unknown mode, lands on). A batch is then a handful of numpy operations::

    emissions_g = factor[code] * distance_km
    baseline_g  = baseline[code] * distance_km
    savings_g   = max(0, baseline - factor)[code] * distance_km

followed by the policy's vectorized award. :meth:`Engine.trip` computes one trip with
the same numbers and the same floating-point operations, for services.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import field, frozen

from carbonfoot._kernels.strings import fold_name
from carbonfoot.baselines import Baseline, BaselineContext, resolve_baseline
from carbonfoot.distances import resolve_options
from carbonfoot.errors import FactorError, InputError, PolicyError, unknown_message
from carbonfoot.factors import FactorSet
from carbonfoot.factors.model import freeze
from carbonfoot.intake import TripColumns, read_trips, to_arrow_table
from carbonfoot.intake.distance import trip_distance_km
from carbonfoot.intake.ids import KnownDuplicates
from carbonfoot.intake.plausibility import PlausibilityRules, quarantine
from carbonfoot.modes import Mode, ModeTable
from carbonfoot.money import whole_milligrams
from carbonfoot.parameters import ModeSelection, format_param
from carbonfoot.plugins import Catalog, default_catalog
from carbonfoot.policies import AwardReason, CreditPolicy, ExplainedPolicy, PolicyBatch
from carbonfoot.results import Results, RunInfo, build_results
from carbonfoot.times import day_number, local_days, today

__all__ = ["AssessedBatch", "Engine", "EngineSettings", "PreparedBatch", "TripResult"]

FloatArray = npt.NDArray[np.float64]


@frozen
class PreparedBatch:
    """A checked batch: statuses, each trip's mode code and factor cell, distances in km.

    ``computed`` marks rows whose numbers are computed (ok, or quarantined as suspect);
    ``ok`` the rows that may earn. ``users`` gives integer user codes, computed once.
    """

    columns: TripColumns
    codes: npt.NDArray[np.int32]
    district: npt.NDArray[np.intp]
    interval: npt.NDArray[np.intp]
    local_day: npt.NDArray[np.int64]
    ok: npt.NDArray[np.bool_]
    computed: npt.NDArray[np.bool_]
    distance_km: FloatArray
    users: Callable[[], npt.NDArray[np.int64]]


@frozen
class EngineSettings:
    """How an engine computes and pays, as text: what the ledger records for each run, and
    enough to build the same engine again (with the same plugins and factor content).

    ``baseline`` and ``baseline_params`` are the baseline as asked for (a mode, a mix, or a
    methodology id with its parameters); ``policy_params`` the policy's resolved
    parameters, as text.
    """

    factor_set: str
    factor_set_hash: str
    baseline: str
    baseline_params: Mapping[str, str] = field(converter=freeze)
    policy: str
    policy_params: Mapping[str, str] = field(converter=freeze)

    def differences(self, other: EngineSettings) -> list[str]:
        """What differs from ``other``, one phrase each, named as the ledger names the
        setting: ``policy_params.daily_cap (200, not none)``."""
        found = []
        if self.factor_set != other.factor_set:
            found.append(f"factor_set ({self.factor_set}, not {other.factor_set})")
        if self.factor_set_hash != other.factor_set_hash:
            found.append(
                f"factor_set_hash ({self.factor_set_hash[:12]}, not {other.factor_set_hash[:12]})"
            )
        if self.baseline != other.baseline:
            found.append(f"baseline ({self.baseline}, not {other.baseline})")
        found += _parameter_differences(
            "baseline_params", self.baseline_params, other.baseline_params
        )
        if self.policy != other.policy:
            found.append(f"policy ({self.policy}, not {other.policy})")
        else:
            found += _parameter_differences(
                "policy_params", self.policy_params, other.policy_params
            )
        return found

    def describe(self) -> str:
        """One line: factor set and hash, baseline, policy and its parameters."""
        baseline = self.baseline + (
            f" ({', '.join(f'{k}={v}' for k, v in self.baseline_params.items())})"
            if self.baseline_params
            else ""
        )
        params = ", ".join(f"{k}={v}" for k, v in self.policy_params.items())
        return (
            f"factor set {self.factor_set}@{self.factor_set_hash[:12]}, baseline {baseline}, "
            f"policy {self.policy} ({params})"
        )


def _parameter_differences(
    what: str, mine: Mapping[str, str], theirs: Mapping[str, str]
) -> list[str]:
    return [
        f"{what}.{name} ({mine.get(name, 'unset')}, not {theirs.get(name, 'unset')})"
        for name in sorted(set(mine) | set(theirs))
        if mine.get(name) != theirs.get(name)
    ]


@frozen
class AssessedBatch:
    """A prepared batch with its numbers, before the award.

    ``emissions_g``, ``baseline_g`` and ``savings_g`` have one entry per row (NaN where not
    computed); ``savings_mg`` is savings in whole milligrams for the rows that may earn
    and 0 elsewhere: what the policy is given.
    """

    prepared: PreparedBatch
    emissions_g: FloatArray
    baseline_g: FloatArray
    savings_g: FloatArray
    savings_mg: npt.NDArray[np.int64]


@frozen
class TripResult:
    """One trip computed by :meth:`Engine.trip`: the same numbers a batch row would have."""

    mode: str
    distance_km: float
    emissions_g: float
    baseline_g: float
    savings_g: float
    credits: int | Decimal
    factor_set: str
    factor_set_hash: str
    baseline: str
    policy: str


class Engine:
    """Computes CO2 savings and credits for trips, with one factor set, baseline and policy.

    ``factors`` is a factor-set name (default: the set the installed plugins mark as
    default), the path of a TOML file (e.g. a researcher's overrides that ``extends`` a
    shipped set), or a loaded :class:`FactorSet`; ``baseline`` a mode id, a weighted mix
    such as ``"car:0.6,taxi:0.1,bus:0.3"``, or a methodology id with ``baseline_params``
    (default: the set's own baseline); ``policy`` a credit-policy id (default: the
    installed default) with ``policy_params``; ``catalog`` the plugins (default: installed).
    ``fold_id_case`` compares trip and user ids case-insensitively (default: case kept).
    """

    def __init__(
        self,
        factors: str | Path | FactorSet | None = None,
        *,
        baseline: str | None = None,
        baseline_params: Mapping[str, Any] | None = None,
        policy: str | None = None,
        policy_params: Mapping[str, Any] | None = None,
        catalog: Catalog | None = None,
        distance_options: Mapping[str, Any] | None = None,
        plausibility: Mapping[str, Any] | None = None,
        fold_id_case: bool = False,
    ) -> None:
        self.catalog = catalog if catalog is not None else default_catalog()
        self.fold_id_case = fold_id_case
        self.modes: ModeTable = self.catalog.modes
        if isinstance(factors, FactorSet):
            self.factor_set = factors
        else:
            self.factor_set = self.catalog.factor_set(factors or self.catalog.default_factor_set())
        self.factor_keys = [mode.factor_key for mode in self.modes.modes]
        self._baseline_request = (baseline, dict(baseline_params or {}))
        factor_table = self.factor_set.table(self.factor_keys)
        self.baseline: Baseline = self.baseline_for(factor_table)
        self.plausibility = PlausibilityRules.from_modes(self.modes, plausibility)
        self.distance_providers = self.catalog.distance_providers
        self.distance_options = resolve_options(self.distance_providers, distance_options or {})
        self.policy_spec = self.catalog.policy(policy or self.catalog.default_policy())
        self.policy: CreditPolicy = self.policy_spec.create(policy_params or {})
        self._check_mode_selections()
        self._lay_out(factor_table, self.baseline.per_mode)
        self._categories = tuple(mode.category for mode in self.modes.modes)
        self.run_info = RunInfo(
            factor_set=self.factor_set.name,
            factor_set_hash=self.factor_set.content_hash,
            factor_set_version=self.factor_set.version,
            gas=self.factor_set.gas,
            baseline=self.baseline.spec,
            baseline_g_per_pkm=self.baseline.g_per_pkm,
            policy=self.policy.id,
            policy_params={name: format_param(value) for name, value in self.policy.params.items()},
            credit_unit=self.policy.unit,
            credit_decimals=self.policy.decimals,
            timezone=self.policy.timezone,
        )

    @property
    def provider_columns(self) -> tuple[str, ...]:
        """The input columns the distance providers read, beside carbonfoot's own."""
        return tuple(
            dict.fromkeys(name for provider in self.distance_providers for name in provider.columns)
        )

    @property
    def settings(self) -> EngineSettings:
        """How this engine computes and pays, as text (see :class:`EngineSettings`)."""
        spec, params = self._baseline_request
        return EngineSettings(
            factor_set=self.factor_set.name,
            factor_set_hash=self.factor_set.content_hash,
            baseline=(spec or self.factor_set.baseline).strip(),
            baseline_params={name: format_param(value) for name, value in sorted(params.items())},
            policy=self.policy.id,
            policy_params=dict(self.run_info.policy_params),
        )

    @classmethod
    def from_settings(
        cls,
        settings: EngineSettings,
        *,
        catalog: Catalog | None = None,
        factors: str | Path | FactorSet | None = None,
        baseline: str | None = None,
        baseline_params: Mapping[str, Any] | None = None,
        policy_params: Mapping[str, Any] | None = None,
        distance_options: Mapping[str, Any] | None = None,
        plausibility: Mapping[str, Any] | None = None,
    ) -> Engine:
        """The engine ``settings`` describe, with some of them overridden.

        Without ``factors``, the installed set of that name must still have the recorded
        content (its hash), or a :class:`FactorError` says so. ``policy_params`` are laid
        over the recorded ones; a new ``baseline`` replaces the recorded one with its own
        ``baseline_params``.
        """
        given_baseline = baseline is not None
        engine = cls(
            factors if factors is not None else settings.factor_set,
            baseline=baseline if given_baseline else settings.baseline,
            baseline_params=(baseline_params or {})
            if given_baseline
            else {**settings.baseline_params, **(baseline_params or {})},
            policy=settings.policy,
            policy_params={**settings.policy_params, **(policy_params or {})},
            catalog=catalog,
            distance_options=distance_options,
            plausibility=plausibility,
        )
        if factors is None and engine.factor_set.content_hash != settings.factor_set_hash:
            raise FactorError(
                f"factor set {settings.factor_set!r} installed here has content "
                f"{engine.factor_set.short_hash}, not the recorded {settings.factor_set_hash[:12]}: "
                "name the factors to use explicitly (--factors)"
            )
        return engine

    def _check_mode_selections(self) -> None:
        """Every policy parameter that selects modes names installed modes or categories."""
        known_ids = set(self.modes.ids)
        categories = {mode.category for mode in self.modes.modes}
        for name, value in self.policy.params.items():
            if not isinstance(value, ModeSelection):
                continue
            unknown = sorted(set(value) - known_ids - categories - {"all"})
            if unknown:
                choices = sorted(known_ids | categories | {"all"})
                raise PolicyError(
                    f"policy {self.policy.id!r}, parameter {name!r}: "
                    + "; ".join(
                        unknown_message("mode or category", label, choices, known_as="known")
                        for label in unknown
                    )
                )

    def baseline_for(self, factor_table: FloatArray) -> Baseline:
        """This engine's baseline, resolved against a factor table (possibly of draws)."""
        spec, params = self._baseline_request
        context = BaselineContext(self.factor_set, self.modes, factor_table)
        return resolve_baseline(spec, context, self.catalog.baselines, params)

    def _lay_out(self, factors: FloatArray, baseline: FloatArray) -> None:
        """Arrays ``[code, district, interval]`` with one extra code row of NaN for code -1."""
        pad = np.full((1, *factors.shape[1:]), np.nan)
        factor = np.concatenate([factors, pad])
        base = np.concatenate([np.where(np.isnan(factors), np.nan, baseline), pad])
        self.factor_table: FloatArray = factor
        self.baseline_table: FloatArray = base
        self.savings_table: FloatArray = np.maximum(base - factor, 0.0)
        self.single_cell = factor.shape[1:] == (1, 1)
        # The single-cell views (every set without validity periods or districts).
        self.factor_g_per_pkm: FloatArray = factor[:, 0, -1]
        self.baseline_g_per_pkm: FloatArray = base[:, 0, -1]
        self.savings_g_per_pkm: FloatArray = self.savings_table[:, 0, -1]
        self._cells = (factor.tolist(), base.tolist(), self.savings_table.tolist())
        # For single trips: the set's validity cuts and districts, read once, not per call.
        self._cuts = self.factor_set.cuts
        self._district_index = {
            fold_name(name): i for i, name in enumerate(self.factor_set.districts)
        }

    # -- the batch path -----------------------------------------------------------

    def savings_g(
        self, mode_codes: npt.NDArray[np.integer[Any]], distance_km: FloatArray
    ) -> FloatArray:
        """Savings in grams for mode codes and distances in km: the bare vectorized kernel.

        Uses the factors in force today everywhere; :meth:`compute` picks each trip's own.
        """
        if self.single_cell:
            return np.asarray(self.savings_g_per_pkm[mode_codes] * distance_km, dtype=np.float64)
        interval = int(self.factor_set.interval_of(np.array([today()]))[0])
        # One column of the table first: a 1-d lookup per trip, not a 3-d one.
        per_mode = np.ascontiguousarray(self.savings_table[:, 0, interval])
        return np.asarray(per_mode[mode_codes] * distance_km, dtype=np.float64)

    def mode_codes(self, labels: Any) -> npt.NDArray[np.int32]:
        """Mode codes (index into :attr:`modes`, -1 if unknown) for an array of labels."""
        if not isinstance(labels, pa.Array | pa.ChunkedArray):
            labels = pa.array(labels, type=pa.string())
        return self.modes.codes(labels)

    def prepare(
        self,
        trips: Any,
        *,
        distance_unit: str = "km",
        row_offset: int = 0,
        row_numbers: npt.NDArray[np.int64] | None = None,
        known_duplicates: KnownDuplicates | None = None,
        check_plausibility: bool = True,
    ) -> PreparedBatch:
        """Check ``trips`` and find each trip's factor cell: everything but the arithmetic.

        Research tools (uncertainty, sensitivity) prepare a batch once and then compute it
        many times with other factor values. ``check_plausibility=False`` skips the
        quarantine checks: for trips checked before (the ledger recomputing what it
        credited, or paying a trip a reviewer approved).
        """
        table = to_arrow_table(trips)
        columns = read_trips(
            table,
            self.modes,
            default_unit=distance_unit,
            timezone=self.policy.timezone,
            row_offset=row_offset,
            providers=self.distance_providers,
            options=self.distance_options,
            row_numbers=row_numbers,
            known_duplicates=known_duplicates,
            fold_id_case=self.fold_id_case,
        )
        codes = columns.mode_code
        started_us = columns.started_us
        if not columns.started_valid.all():
            started_us = np.where(columns.started_valid, started_us, 0)
        local_day = local_days(started_us, self.policy.timezone)
        if self.single_cell:
            district = np.zeros(columns.size, dtype=np.intp)
            interval = np.zeros(columns.size, dtype=np.intp)
            # A mode without a factor is known from the per-mode table: no per-trip lookup.
            no_factor = _of_codes(np.isnan(self.factor_g_per_pkm), codes)
            no_base = _of_codes(np.isnan(self.baseline_g_per_pkm), codes)
        else:
            district = self.factor_set.district_of(columns.district, columns.size)
            interval = self.factor_set.interval_of(local_day)
            no_factor = np.isnan(self.factor_table[codes, district, interval])
            no_base = np.isnan(self.baseline_table[codes, district, interval])
        rejections = columns.rejections
        where = "" if self.single_cell else " on that date in that district"
        rejections.reject_value(
            rejections.ok & no_factor,
            "no_factor",
            "mode",
            columns.mode_label,
            f" has no factor in factor set {self.factor_set.name!r}{where}",
        )
        rejections.reject_value(
            rejections.ok & no_base,
            "no_baseline",
            "mode",
            columns.mode_label,
            f" has no baseline in methodology {self.baseline.spec!r}{where}",
        )
        computed = rejections.ok.copy()
        distance_km = (
            columns.distance_km
            if computed.all()
            else np.where(computed, columns.distance_km, np.nan)
        )
        users = columns.user_codes
        if check_plausibility:
            verdict = self.plausibility.check(
                computed=computed,
                codes=codes,
                distance_km=distance_km,
                started_us=columns.started_us,
                ended_us=columns.ended_us,
                local_day=local_day,
                users=users,
            )
            quarantine(
                rejections,
                verdict,
                codes=codes,
                distance_km=distance_km,
                started_us=columns.started_us,
                ended_us=columns.ended_us,
                rules=self.plausibility,
                modes=self.modes,
            )
        return PreparedBatch(
            columns=columns,
            codes=codes,
            district=district,
            interval=interval,
            local_day=local_day,
            ok=rejections.ok,
            computed=computed,
            distance_km=distance_km,
            users=users,
        )

    def policy_batch(
        self,
        prepared: PreparedBatch,
        savings_mg: npt.NDArray[np.int64],
        rows: npt.NDArray[np.intp] | None = None,
        already_issued: npt.NDArray[np.int64] | None = None,
        order: npt.NDArray[np.int64] | None = None,
    ) -> PolicyBatch:
        """The policy's view of a prepared batch (or of some ``rows`` of it, as if they were
        the batch) with the given savings.

        ``savings_mg`` has one entry per chosen row; ``already_issued``, if given, too: what
        its user already earned that local day (the ledger's day totals). ``order`` (one per
        chosen row) is the order a user's day is paid in, instead of the start times: the
        ledger recomputing pays in the order it first credited. For the whole batch, user
        codes stay lazy: a policy without caps never computes them.
        """
        columns = prepared.columns
        if rows is None:
            return PolicyBatch(
                savings_mg,
                prepared.ok,
                prepared.users,
                prepared.local_day,
                columns.started_us if order is None else order,
                mode=prepared.codes,
                mode_ids=self.modes.ids,
                mode_categories=self._categories,
                already_issued=already_issued,
            )
        return PolicyBatch(
            savings_mg,
            prepared.ok[rows],
            prepared.users()[rows],
            prepared.local_day[rows],
            columns.started_us[rows] if order is None else order,
            mode=prepared.codes[rows],
            mode_ids=self.modes.ids,
            mode_categories=self._categories,
            already_issued=already_issued,
        )

    def savings(self, prepared: PreparedBatch) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Emissions, baseline and savings in grams for every row (NaN where not computed)."""
        codes, distance_km = prepared.codes, prepared.distance_km
        if self.single_cell:
            return (
                self.factor_g_per_pkm[codes] * distance_km,
                self.baseline_g_per_pkm[codes] * distance_km,
                self.savings_g_per_pkm[codes] * distance_km,
            )
        cell = (codes, prepared.district, prepared.interval)
        return (
            self.factor_table[cell] * distance_km,
            self.baseline_table[cell] * distance_km,
            self.savings_table[cell] * distance_km,
        )

    def assess(
        self,
        trips: Any,
        *,
        distance_unit: str = "km",
        row_offset: int = 0,
        row_numbers: npt.NDArray[np.int64] | None = None,
        known_duplicates: KnownDuplicates | None = None,
        check_plausibility: bool = True,
    ) -> AssessedBatch:
        """Check ``trips`` and compute their savings: everything before the award.

        :meth:`compute` awards the whole batch at once; the ledger awards it chunk by
        chunk with what each user was already issued (:meth:`awards`).
        """
        prepared = self.prepare(
            trips,
            distance_unit=distance_unit,
            row_offset=row_offset,
            row_numbers=row_numbers,
            known_duplicates=known_duplicates,
            check_plausibility=check_plausibility,
        )
        emissions_g, baseline_g, savings_g = self.savings(prepared)
        savings_mg = whole_milligrams(np.where(prepared.ok, savings_g, 0.0))
        return AssessedBatch(prepared, emissions_g, baseline_g, savings_g, savings_mg)

    def awards(
        self,
        assessed: AssessedBatch,
        rows: npt.NDArray[np.intp] | None = None,
        already_issued: npt.NDArray[np.int64] | None = None,
        order: npt.NDArray[np.int64] | None = None,
    ) -> npt.NDArray[np.int64]:
        """The policy's awards, in minor units, for the batch or for some ``rows`` of it as
        if they were the batch; ``already_issued`` and ``order`` as in :meth:`policy_batch`."""
        savings_mg = assessed.savings_mg if rows is None else assessed.savings_mg[rows]
        batch = self.policy_batch(assessed.prepared, savings_mg, rows, already_issued, order)
        return self._checked_awards(self.policy.award(batch), batch)

    def compute(
        self,
        trips: Any,
        *,
        distance_unit: str = "km",
        row_offset: int = 0,
        row_numbers: npt.NDArray[np.int64] | None = None,
        known_duplicates: KnownDuplicates | None = None,
    ) -> Results:
        """Compute every row of ``trips``: one result row per input row, in input order.

        ``trips`` is a pyarrow Table or RecordBatch, a pandas or polars DataFrame, a polars
        LazyFrame (collected), any object with ``__arrow_c_stream__`` (the Arrow PyCapsule
        interface: a DuckDB relation, ...), or a mapping of column name to array, with columns ``trip_id, user_id, mode, distance,
        started_at`` and optionally ``distance_unit, ended_at, district``. Rows that
        cannot be computed come back with a status and a message, not an exception.
        Each trip is computed with the factors valid on its local date, in its district.
        """
        table = to_arrow_table(trips)
        assessed = self.assess(
            table,
            distance_unit=distance_unit,
            row_offset=row_offset,
            row_numbers=row_numbers,
            known_duplicates=known_duplicates,
        )
        prepared = assessed.prepared
        return build_results(
            columns=prepared.columns,
            modes=self.modes,
            ok=prepared.ok,
            computed=prepared.computed,
            distance_km=prepared.distance_km,  # NaN where not computed
            emissions_g=assessed.emissions_g,
            baseline_g=assessed.baseline_g,
            savings_g=assessed.savings_g,
            awards=self.awards(assessed),
            local_day=prepared.local_day,
            info=self.run_info,
            trips=table,
        )

    def _checked_awards(self, awards: Any, batch: PolicyBatch) -> npt.NDArray[np.int64]:
        """The policy's awards, refused if they are not one non-negative int per trip."""
        array = np.asarray(awards)
        if array.shape != batch.savings_mg.shape or not np.issubdtype(array.dtype, np.integer):
            raise PolicyError(
                f"policy {self.policy.id!r} returned {array.dtype} awards of shape {array.shape}; "
                f"expected one int64 per trip ({batch.savings_mg.shape[0]})"
            )
        array = array.astype(np.int64, copy=False)
        if (array < 0).any():
            raise PolicyError(f"policy {self.policy.id!r} returned a negative award")
        return np.where(batch.eligible, array, 0)

    # -- the single-trip path -------------------------------------------------------

    def trip(
        self,
        mode: str,
        distance: float | str,
        unit: str = "km",
        *,
        on: dt.date | None = None,
        district: str = "",
    ) -> TripResult:
        """Compute one trip, e.g. ``engine.trip("bus", 5.2)`` or ``engine.trip("地铁", "3.1 mi")``.

        Gives the numbers a batch row would have for the same trip (its credits as if it
        were its user's only trip that day), with the factors valid on the local date
        ``on`` (default: today) in ``district``. Raises :class:`UnknownModeError` or
        :class:`InputError` (with ``status``) instead of returning a rejected row.
        """
        code = self.modes.code_of(mode) if isinstance(mode, str) else -1
        if code < 0:
            self.modes.get(str(mode))  # raises UnknownModeError listing the modes
        km = trip_distance_km(distance, unit)
        cell_d, cell_k = self.cell_of(on, district)
        factors, baselines, savings = self._cells
        factor = factors[code][cell_d][cell_k]
        if math.isnan(factor):
            raise InputError(
                f"mode {self.modes.modes[code].id!r} has no factor in factor set {self.factor_set.name!r}",
                status="no_factor",
            )
        baseline = baselines[code][cell_d][cell_k]
        if math.isnan(baseline):
            raise InputError(
                f"mode {self.modes.modes[code].id!r} has no baseline in {self.baseline.spec!r}",
                status="no_baseline",
            )
        savings_g = savings[code][cell_d][cell_k] * km
        mode_value = self.modes.modes[code]
        award = self.policy.award_one(round(savings_g * 1000.0), mode_value.id, mode_value.category)
        info = self.run_info
        return TripResult(
            mode=self.modes.modes[code].id,
            distance_km=km,
            emissions_g=factor * km,
            baseline_g=baseline * km,
            savings_g=savings_g,
            credits=info.credit_value(award),
            factor_set=info.factor_set,
            factor_set_hash=info.factor_set_hash,
            baseline=info.baseline,
            policy=info.policy,
        )

    def trip_award(
        self,
        mode: str,
        savings_mg: int,
        *,
        on: dt.date | None = None,
        already_issued: int = 0,
    ) -> tuple[int, tuple[AwardReason, ...]]:
        """The award (minor units) of one trip of ``mode`` saving ``savings_mg``, paid as
        the batch path pays it when its user was already issued ``already_issued`` that
        local day (``on``, default today), and the policy's reasons for it.

        A policy that cannot say why (no ``explain_one``) gives its rule as the reason.
        """
        code = self.modes.code_of(self.mode(mode).id)
        batch = PolicyBatch(
            np.array([max(int(savings_mg), 0)], dtype=np.int64),
            np.ones(1, dtype=np.bool_),
            np.zeros(1, dtype=np.int64),
            np.array([today() if on is None else day_number(on)], dtype=np.int64),
            np.zeros(1, dtype=np.int64),
            mode=np.array([code], dtype=np.int32),
            mode_ids=self.modes.ids,
            mode_categories=self._categories,
            already_issued=np.array([int(already_issued)], dtype=np.int64),
        )
        award = int(self._checked_awards(self.policy.award(batch), batch)[0])
        if isinstance(self.policy, ExplainedPolicy):
            return award, tuple(self.policy.explain_one(batch))
        return award, (AwardReason("rule", f"the policy's rule: {self.policy.describe()}"),)

    def cell_of(self, on: dt.date | None, district: str) -> tuple[int, int]:
        """The (district, interval) cell of the factor tables for a trip on the local date
        ``on`` (default: today) in ``district`` (an unknown district: the general value)."""
        if self.single_cell:
            return 0, 0
        day = today() if on is None else day_number(on)
        # As FactorSet.interval_of (a right-side search of the sorted cuts), for one day.
        interval = bisect.bisect_right(self._cuts, day)
        return self._district_index.get(fold_name(district), 0), interval

    def mode(self, label: str) -> Mode:
        """The installed mode a label names (id or alias)."""
        return self.modes.get(label)


def _of_codes(
    flag_of_code: npt.NDArray[np.bool_], codes: npt.NDArray[np.int32]
) -> npt.NDArray[np.bool_]:
    """Each trip's flag, from its mode code (no per-trip work when no mode is flagged)."""
    if not flag_of_code.any():
        return np.zeros(codes.size, dtype=np.bool_)
    return np.asarray(flag_of_code[codes], dtype=np.bool_)
