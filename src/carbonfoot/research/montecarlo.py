"""Monte Carlo propagation of factor uncertainty to total savings and credits.

Every literal factor that carries an uncertainty (``uncertainty = {...}`` in its set) is
drawn ``draws`` times from its own stream of a numpy ``Generator`` seeded from ``seed``
(one child ``SeedSequence`` per factor, in key order), so the same seed gives the same
numbers whatever the chunk size. Draws are evaluated in chunks, so memory stays bounded by
``trips x chunk`` however many draws are asked for.

Distributions (values in the factor's unit): normal (``sd``; truncated at zero, a factor
cannot be negative), lognormal (median = the value, geometric sd ``gsd``), triangular
(``low``, mode = the value, ``high``) and uniform (``low``, ``high``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import frozen

from carbonfoot.factors import Factor
from carbonfoot.research.evaluate import BatchEvaluator, Totals

__all__ = ["Statistic", "UncertaintyReport", "run_monte_carlo", "sample_factor"]

FloatArray = npt.NDArray[np.float64]
#: Upper bound on trips x draws evaluated at once (about 50 MB per float64 matrix).
CELLS_PER_CHUNK = 6_000_000


def sample_factor(factor: Factor, generator: np.random.Generator, draws: int) -> FloatArray:
    """``draws`` values of a literal factor, in registry base units, never above the
    factor's physical limit (``at_most``: an oxidation fraction stays at or below 1)."""
    return np.minimum(_draws(factor, generator, draws), factor.at_most)


def _draws(factor: Factor, generator: np.random.Generator, draws: int) -> FloatArray:
    uncertainty = factor.uncertainty
    value = factor.base
    if uncertainty is None:
        return np.full(draws, value)
    kind = uncertainty.distribution
    if kind == "normal":
        return np.maximum(value + uncertainty.sd * generator.standard_normal(draws), 0.0)
    if kind == "lognormal":
        return np.asarray(
            value * np.exp(np.log(uncertainty.gsd) * generator.standard_normal(draws))
        )
    if kind == "uniform":
        return np.asarray(
            uncertainty.low + (uncertainty.high - uncertainty.low) * generator.random(draws)
        )
    if kind == "triangular":
        return _triangular(uncertainty.low, value, uncertainty.high, generator.random(draws))
    raise ValueError(f"unknown distribution {kind!r}")


def _triangular(low: float, mode: float, high: float, u: FloatArray) -> FloatArray:
    """Inverse CDF of a triangular distribution; exact at zero width."""
    width = high - low
    if width == 0:
        return np.full(u.shape, mode)
    split = (mode - low) / width
    left = low + np.sqrt(u * width * (mode - low))
    right = high - np.sqrt((1 - u) * width * (high - mode))
    return np.where(u < split, left, right)


@frozen
class Statistic:
    """Mean, median and the 2.5 and 97.5 percentiles of a quantity over the draws."""

    point: float
    mean: float
    median: float
    p2_5: float
    p97_5: float

    @classmethod
    def of(cls, point: float, draws: FloatArray) -> Statistic:
        low, median, high = np.percentile(draws, [2.5, 50, 97.5])
        # math.fsum is exact; identical draws give exactly their value back.
        mean = (
            float(draws[0])
            if draws.min() == draws.max()
            else math.fsum(draws.tolist()) / draws.size
        )
        return cls(point, mean, float(median), float(low), float(high))


@frozen
class UncertaintyReport:
    """Monte Carlo results: per mode and in total, for savings (kg) and credits."""

    draws: int
    seed: int
    factors: tuple[str, ...]
    savings_kg: dict[str, Statistic]
    credits: dict[str, Statistic]
    credit_unit: str

    def rows(self) -> list[dict[str, Any]]:
        """One record per mode (and ``total``): the statistics as plain numbers."""
        records = []
        for mode, savings in self.savings_kg.items():
            credits = self.credits[mode]
            record: dict[str, Any] = {"mode": mode}
            for prefix, stat in (("savings_kg", savings), ("credits", credits)):
                for name in ("point", "mean", "median", "p2_5", "p97_5"):
                    record[f"{prefix}_{name}"] = getattr(stat, name)
            records.append(record)
        return records


def run_monte_carlo(
    evaluator: BatchEvaluator,
    *,
    draws: int,
    seed: int,
    cells_per_chunk: int = CELLS_PER_CHUNK,
    factors: Sequence[Factor] | None = None,
) -> UncertaintyReport:
    """Propagate the factor set's uncertainties through one prepared batch."""
    if draws < 1:
        raise ValueError("draws must be at least 1")
    uncertain = sorted(
        factors if factors is not None else evaluator.engine.factor_set.uncertain(),
        key=lambda factor: (factor.key, factor.variant),
    )
    streams = np.random.SeedSequence(seed).spawn(max(1, len(uncertain)))
    samples = {
        (factor.key, factor.variant): sample_factor(factor, np.random.default_rng(stream), draws)
        for factor, stream in zip(uncertain, streams, strict=False)
    }
    point = evaluator.totals()
    chunk = max(1, cells_per_chunk // max(1, evaluator.rows.size))
    parts: list[Totals] = []
    for start in range(0, draws, chunk):
        stop = min(draws, start + chunk)
        overrides = {key: values[start:stop] for key, values in samples.items()}
        if not overrides:
            overrides = {}
        parts.append(evaluator.totals(overrides) if overrides else _repeat(point, stop - start))
    savings = np.concatenate([part.savings_g for part in parts], axis=1)
    awards = np.concatenate([part.awards for part in parts], axis=1)
    scale = 10**point.decimals
    savings_stats = {
        mode: Statistic.of(float(point.savings_g[i, 0]) / 1000, savings[i] / 1000)
        for i, mode in enumerate(point.modes)
    }
    credit_stats = {
        mode: Statistic.of(float(point.awards[i, 0]) / scale, awards[i] / scale)
        for i, mode in enumerate(point.modes)
    }
    savings_stats["total"] = Statistic.of(
        float(point.savings_g.sum()) / 1000, savings.sum(axis=0) / 1000
    )
    credit_stats["total"] = Statistic.of(
        float(point.awards.sum()) / scale, awards.sum(axis=0) / scale
    )
    return UncertaintyReport(
        draws=draws,
        seed=seed,
        factors=tuple(f"{factor.key}#{factor.variant + 1}" for factor in uncertain),
        savings_kg=savings_stats,
        credits=credit_stats,
        credit_unit=evaluator.engine.policy.unit,
    )


def _repeat(point: Totals, draws: int) -> Totals:
    return Totals(
        point.modes,
        np.repeat(point.savings_g, draws, axis=1),
        np.repeat(point.awards, draws, axis=1),
        point.decimals,
    )
