"""One-at-a-time sensitivity: each factor swung across its range, the others held.

A factor's range is its uncertainty distribution's 2.5 and 97.5 percentiles (the low and
high of a uniform or triangular), or, with ``percent``, its value plus and minus that
share. Factors whose swing changes neither total savings nor total credits are left out;
the rest are ranked by the width of their effect on total savings, then on credits.
"""

from __future__ import annotations

import numpy as np
from attrs import frozen

from carbonfoot.research.evaluate import BatchEvaluator

__all__ = ["SensitivityReport", "Swing", "run_sensitivity"]


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
class SensitivityReport:
    """The point totals and every factor's swing, widest first."""

    savings_kg: float
    credits: float
    credit_unit: str
    swings: tuple[Swing, ...]


def run_sensitivity(
    evaluator: BatchEvaluator, *, percent: float | None = None
) -> SensitivityReport:
    """Swing every literal factor (with ``percent``) or every uncertain one, one at a time."""
    from carbonfoot.factors.resolve import display_value
    from carbonfoot.units import base_per_unit

    factor_set = evaluator.engine.factor_set
    point = evaluator.totals()
    scale = 10**point.decimals
    swings = []
    for factor in sorted(factor_set.literal_variants(), key=lambda f: (f.key, f.variant)):
        if percent is not None:
            low, high = factor.base * (1 - percent / 100), factor.base * (1 + percent / 100)
            basis = f"+/-{percent:g}%"
        elif factor.uncertainty is not None:
            low, high = factor.uncertainty.bounds(factor.base)
            basis = f"{factor.uncertainty.distribution} ({factor.uncertainty.source})"
        else:
            continue
        if low == high or (factor.base == 0 and percent is not None):
            continue
        totals = evaluator.totals({(factor.key, factor.variant): np.array([low, high])})
        savings = totals.savings_g.sum(axis=0) / 1000
        credits = totals.awards.sum(axis=0) / scale
        if (
            savings[0] == savings[1]
            and credits[0] == credits[1]
            and np.isclose(savings[0], point.savings_g.sum() / 1000)
        ):
            continue
        if factor.unit or not factor.dims:
            per_unit = base_per_unit(factor.unit)
            shown_low, shown_high, unit = low / per_unit, high / per_unit, factor.unit
        else:
            shown_low, unit = display_value(low, factor.dims)
            shown_high, _ = display_value(high, factor.dims)
        swings.append(
            Swing(
                factor=factor.key
                if len(factor_set.factors[factor.key]) == 1
                else f"{factor.key}#{factor.variant + 1}",
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
        savings_kg=float(point.savings_g.sum()) / 1000,
        credits=float(point.awards.sum()) / scale,
        credit_unit=evaluator.engine.policy.unit,
        swings=tuple(swings),
    )
