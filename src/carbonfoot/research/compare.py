"""Compare two runs of the same trips: two factor sets, baselines, policies or settings.

Like is compared with like. Both runs compute the same rows (one result row per input
row), so a change is measured trip by trip over the trips ok (computed, free to earn) in
**both** runs: a mode the other run has no baseline for is shown as such
(:attr:`ModeSide.state`), never as zero savings, and its trips are left out of the change
rather than counted as a loss.
Credits are subtracted only when both runs pay in the same unit; a policy that pays in
another unit (credits under A, coins under B) is shown in each unit, with its rate per kg
saved, and no difference. Each run's provenance (factor set and content hash, baseline,
policy and parameters, trips) is kept, so the comparison names exactly what was compared.
Everything is whole-array arithmetic over the two result tables.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import frozen

from carbonfoot.engine import Engine
from carbonfoot.money import minor_units, to_value
from carbonfoot.research.provenance import RunProvenance
from carbonfoot.statuses import STATUS_CODE

__all__ = ["Comparison", "ModeDifference", "ModeSide", "compare"]

#: The name of the row of trips whose mode label matched no mode.
UNKNOWN = "(unknown)"


@frozen
class ModeSide:
    """One mode under one run: its ok trips, and why the rest are not ok.

    ``savings_kg`` and ``credits`` are totals over the run's ok trips of the mode, or
    None when none is ok (see :attr:`state`); ``credits`` in ``credit_unit``.
    """

    ok: int
    no_baseline: int
    other: int
    savings_kg: float | None
    credits: int | Decimal | None
    credit_unit: str

    @property
    def state(self) -> str:
        """``ok`` (some trips are), ``no_baseline`` (the run has no baseline for any of
        them) or ``none ok`` (rejected or quarantined for other reasons)."""
        if self.ok:
            return "ok"
        return "no_baseline" if self.no_baseline else "none ok"

    @property
    def credits_per_kg(self) -> float | None:
        """Credits paid per kg saved: how two policies with different units compare."""
        if self.credits is None or not self.savings_kg:
            return None
        return float(self.credits) / self.savings_kg


@frozen
class ModeDifference:
    """One mode under runs A and B, and the change over the trips ok in both.

    ``savings_kg_change`` and ``credits_change`` are B minus A over the ``compared``
    trips (ok in both runs); None when no trip is, and ``credits_change`` also None when
    the runs pay in different units.
    """

    mode: str
    trips: int
    a: ModeSide
    b: ModeSide
    compared: int
    savings_kg_change: float | None
    credits_change: int | Decimal | None

    @property
    def savings_kg_a(self) -> float | None:
        return self.a.savings_kg

    @property
    def savings_kg_b(self) -> float | None:
        return self.b.savings_kg

    @property
    def credits_a(self) -> int | Decimal | None:
        return self.a.credits

    @property
    def credits_b(self) -> int | Decimal | None:
        return self.b.credits

    @property
    def only_one_run(self) -> int:
        """Trips ok in one run but not the other: outside the change."""
        return self.a.ok + self.b.ok - 2 * self.compared


@frozen
class Comparison:
    """Two runs over the same trips, side by side, with each run's provenance."""

    run_a: RunProvenance
    run_b: RunProvenance
    modes: tuple[ModeDifference, ...]
    total: ModeDifference

    @property
    def same_unit(self) -> bool:
        """Whether both runs pay in one unit, so that credits may be subtracted."""
        return self.run_a.credit_unit == self.run_b.credit_unit

    @property
    def same_factor_content(self) -> bool:
        return self.run_a.factor_set_hash == self.run_b.factor_set_hash

    @property
    def label_a(self) -> str:
        return _label(self.run_a)

    @property
    def label_b(self) -> str:
        return _label(self.run_b)


def _label(run: RunProvenance) -> str:
    return f"{run.factor_set}@{run.short_hash} / {run.baseline_text()} / {run.policy_text()}"


class _Run:
    """The row arrays of one run's result table that a comparison needs."""

    def __init__(self, engine: Engine, table: pa.Table) -> None:
        status = table.column("status").combine_chunks()
        codes = np.asarray(status.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
        self.ok = codes == STATUS_CODE["ok"]
        self.no_baseline = codes == STATUS_CODE["no_baseline"]
        savings = table.column("savings_g").combine_chunks()
        self.savings_g = np.asarray(savings.fill_null(0.0).to_numpy(zero_copy_only=False))
        self.minor = minor_units(table.column("credits").combine_chunks())
        self.decimals = engine.policy.decimals
        self.unit = engine.policy.unit


def _slots(table: pa.Table, modes: int) -> npt.NDArray[np.int64]:
    """Each row's mode code, or ``modes`` for a label that matched no mode."""
    column = table.column("mode").combine_chunks()
    indices = column.indices.fill_null(modes).to_numpy(zero_copy_only=False)
    return np.minimum(np.asarray(indices, dtype=np.int64), modes)


def _sums(slot: npt.NDArray[np.int64], values: npt.NDArray[Any], bins: int) -> list[int]:
    """Exact integer sums per slot (awards in minor units)."""
    totals = np.zeros(bins, dtype=np.int64)
    np.add.at(totals, slot, values.astype(np.int64))
    return [int(value) for value in totals]


def compare(
    engine_a: Engine,
    engine_b: Engine,
    trips: Any,
    *,
    distance_unit: str = "km",
    trips_b: Any = None,
) -> Comparison:
    """Compute ``trips`` with both engines and line them up by mode.

    ``trips_b`` is the same batch read for B, where B needs its own reading (a column
    mapping, a distance provider); it must have the same rows, in the same order.
    """
    table_a = engine_a.compute(trips, distance_unit=distance_unit).table
    table_b = engine_b.compute(
        trips if trips_b is None else trips_b, distance_unit=distance_unit
    ).table
    if table_a.num_rows != table_b.num_rows:
        raise ValueError(
            f"the two runs have {table_a.num_rows} and {table_b.num_rows} rows; "
            "a comparison needs the same trips"
        )
    mode_ids = engine_a.modes.ids
    if tuple(engine_b.modes.ids) != tuple(mode_ids):
        raise ValueError("the two engines know different modes; build both from one catalog")
    bins = len(mode_ids) + 1
    slot = _slots(table_a, len(mode_ids))
    a, b = _Run(engine_a, table_a), _Run(engine_b, table_b)
    both = a.ok & b.ok
    same_unit = a.unit == b.unit

    def count(mask: npt.NDArray[np.bool_]) -> list[int]:
        return [int(n) for n in np.bincount(slot[mask], minlength=bins)]

    def grams(mask: npt.NDArray[np.bool_], values: npt.NDArray[np.float64]) -> list[float]:
        return [
            float(g) for g in np.bincount(slot, weights=np.where(mask, values, 0.0), minlength=bins)
        ]

    columns: dict[str, list[Any]] = {
        "trips": np.bincount(slot, minlength=bins).tolist(),
        "ok_a": count(a.ok),
        "ok_b": count(b.ok),
        "nb_a": count(a.no_baseline),
        "nb_b": count(b.no_baseline),
        "both": count(both),
        "savings_a": grams(a.ok, a.savings_g),
        "savings_b": grams(b.ok, b.savings_g),
        "change": grams(both, b.savings_g - a.savings_g),
        "credits_a": _sums(slot, np.where(a.ok, a.minor, 0), bins),
        "credits_b": _sums(slot, np.where(b.ok, b.minor, 0), bins),
        "both_a": _sums(slot, np.where(both, a.minor, 0), bins),
        "both_b": _sums(slot, np.where(both, b.minor, 0), bins),
    }

    def side(
        run: _Run, ok: int, no_baseline: int, trips: int, grams: float, minor: int
    ) -> ModeSide:
        return ModeSide(
            ok=ok,
            no_baseline=no_baseline,
            other=trips - ok - no_baseline,
            savings_kg=grams / 1000 if ok else None,
            credits=to_value(minor, run.decimals) if ok else None,
            credit_unit=run.unit,
        )

    def difference(mode: str, code: int | None) -> ModeDifference:
        """The row of one mode code, or of all modes (``code`` None)."""
        v = {
            name: values[code] if code is not None else sum(values)
            for name, values in columns.items()
        }
        compared = v["both"]
        return ModeDifference(
            mode=mode,
            trips=v["trips"],
            a=side(a, v["ok_a"], v["nb_a"], v["trips"], v["savings_a"], v["credits_a"]),
            b=side(b, v["ok_b"], v["nb_b"], v["trips"], v["savings_b"], v["credits_b"]),
            compared=compared,
            savings_kg_change=v["change"] / 1000 if compared else None,
            credits_change=to_value(v["both_b"], b.decimals) - to_value(v["both_a"], a.decimals)
            if compared and same_unit
            else None,
        )

    names = [*mode_ids, UNKNOWN]
    present = [code for code, trips_of in enumerate(columns["trips"]) if trips_of]
    modes = tuple(difference(names[code], code) for code in present)
    return Comparison(
        run_a=RunProvenance.of(engine_a, trips=table_a.num_rows, ok=int(a.ok.sum())),
        run_b=RunProvenance.of(engine_b, trips=table_b.num_rows, ok=int(b.ok.sum())),
        modes=modes,
        total=difference("total", None),
    )
