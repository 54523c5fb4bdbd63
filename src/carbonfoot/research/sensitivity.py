"""One-at-a-time sensitivity: each measured factor swung across its range, the others held.

A factor's range is its uncertainty distribution's 2.5 and 97.5 percentiles (the low and
high of a uniform or triangular), or, with ``percent``, its value plus and minus that
share, never below zero nor above the factor's physical limit (``at_most``: an oxidation
fraction is not swung past 100 %). Only measured numbers are swung: a definition (one
rider on a bicycle) or a physical constant (44/12, a unit conversion) is exact, and the
factor files mark it so (``kind``). Every factor not swung is listed with the reason
(:attr:`SensitivityReport.skipped`); the swings are ranked by the width of their effect on
total savings, then on credits.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from carbonfoot.factors.factor_set import FactorSet
from carbonfoot.factors.model import Factor
from carbonfoot.research.evaluate import BatchEvaluator
from carbonfoot.research.provenance import RunProvenance

__all__ = ["SensitivityReport", "Skipped", "Swing", "run_sensitivity"]


@frozen
class Swing:
    """What moving one factor from its low to its high value does to the totals."""

    factor: str
    low: float
    high: float
    unit: str
    basis: str
    savings_kg_low: float
    savings_kg_high: float
    credits_low: float
    credits_high: float

    @property
    def savings_width(self) -> float:
        return abs(self.savings_kg_high - self.savings_kg_low)

    @property
    def credits_width(self) -> float:
        return abs(self.credits_high - self.credits_low)


@frozen
class Skipped:
    """A factor that was not swung, and why (a definition, a constant, no range, ...)."""

    factor: str
    reason: str


@frozen
class SensitivityReport:
    """The point totals, every swung factor (widest first), and every factor not swung."""

    savings_kg: float
    credits: float
    credit_unit: str
    swings: tuple[Swing, ...]
    skipped: tuple[Skipped, ...] = ()
    basis: str = "each factor's uncertainty range"
    provenance: RunProvenance | None = None


def _name(factor: Factor, factor_set: FactorSet) -> str:
    """``key``, or ``key#n`` for the n-th of several variants (as the tables show it)."""
    if len(factor_set.factors[factor.key]) == 1:
        return factor.key
    return f"{factor.key}#{factor.variant + 1}"


def _range(factor: Factor, percent: float | None) -> tuple[float, float, str] | str:
    """The low and high value of a measured factor and the basis, or why there is none."""
    if percent is not None:
        if factor.base == 0:
            return "zero: a percentage of zero is zero"
        low, high = factor.base * (1 - percent / 100), factor.base * (1 + percent / 100)
        basis = f"+/-{percent:g}%"
    elif factor.uncertainty is not None:
        low, high = factor.uncertainty.bounds(factor.base)
        basis = f"{factor.uncertainty.distribution} ({factor.uncertainty.source})"
    else:
        return "no uncertainty stated in the set (swing it with percent, --percent)"
    if high > factor.at_most:
        high = factor.at_most
        basis += " (high capped at its physical limit)"
    low = max(low, 0.0)
    if low == high:
        return "its range has zero width"
    return low, high, basis


def _skip_reason(factor: Factor) -> str | None:
    """Why a factor is never swung, whatever the range asked for."""
    if not factor.is_literal:
        return f"derived ({factor.shown}): swung through its inputs"
    if factor.kind == "definition":
        return f"a definition ({factor.source.title}): exact, not measured"
    if factor.kind == "constant":
        return "a physical constant or unit conversion: exact, not measured"
    return None


def run_sensitivity(
    evaluator: BatchEvaluator, *, percent: float | None = None
) -> SensitivityReport:
    """Swing every measured factor by ``percent`` (0 < percent < 100: a factor swung to
    zero could be an occupancy divided by), or every measured factor with an uncertainty
    by its range, one at a time; list the rest and why."""
    from carbonfoot.factors.resolve import display_value
    from carbonfoot.units import base_per_unit

    if percent is not None and not 0 < percent < 100:
        raise ValueError(f"percent must be above 0 and below 100, got {percent!r}")
    factor_set = evaluator.engine.factor_set
    point = evaluator.totals()
    scale = 10**point.decimals
    point_savings_kg = float(point.savings_g.sum()) / 1000
    swings, skipped = [], []
    variants = sorted(
        (v for vs in factor_set.factors.values() for v in vs), key=lambda f: (f.key, f.variant)
    )
    for factor in variants:
        name = _name(factor, factor_set)
        reason = _skip_reason(factor)
        found = _range(factor, percent) if reason is None else reason
        if isinstance(found, str):
            skipped.append(Skipped(name, found))
            continue
        low, high, basis = found
        totals = evaluator.totals({(factor.key, factor.variant): np.array([low, high])})
        savings = totals.savings_g.sum(axis=0) / 1000
        credits = totals.awards.sum(axis=0) / scale
        if (
            savings[0] == savings[1]
            and credits[0] == credits[1]
            and np.isclose(savings[0], point_savings_kg)
        ):
            skipped.append(Skipped(name, "no effect on these trips (no ok trip uses it)"))
            continue
        if factor.unit or not factor.dims:
            per_unit = base_per_unit(factor.unit)
            shown_low, shown_high, unit = low / per_unit, high / per_unit, factor.unit
        else:
            shown_low, unit = display_value(low, factor.dims)
            shown_high, _ = display_value(high, factor.dims)
        swings.append(
            Swing(
                factor=name,
                low=shown_low,
                high=shown_high,
                unit=unit,
                basis=basis,
                savings_kg_low=float(savings[0]),
                savings_kg_high=float(savings[1]),
                credits_low=float(credits[0]),
                credits_high=float(credits[1]),
            )
        )
    swings.sort(key=lambda swing: (-swing.savings_width, -swing.credits_width, swing.factor))
    return SensitivityReport(
        savings_kg=point_savings_kg,
        credits=float(point.awards.sum()) / scale,
        credit_unit=evaluator.engine.policy.unit,
        swings=tuple(swings),
        skipped=tuple(skipped),
        basis=f"+/-{percent:g}% of each measured factor"
        if percent is not None
        else "each measured factor's uncertainty range (2.5 to 97.5 percentile)",
        provenance=RunProvenance.of(
            evaluator.engine, trips=evaluator.trips, ok=int(evaluator.rows.size)
        ),
    )
