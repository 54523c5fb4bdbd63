"""Totals of one prepared batch under other factor values, vectorized over draws.

A :class:`BatchEvaluator` keeps the computed rows of a batch (mode code, factor cell,
kilometres, and the policy's view of users, days and times). :meth:`BatchEvaluator.totals`
takes replacement values for literal factors, as arrays of draws, rebuilds the factor and
baseline tables with them (same derivations, same code as the point estimate), and returns
total savings and credits by mode for every draw: a trips x draws matrix, one numpy pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import frozen

from carbonfoot.engine import Engine, PreparedBatch
from carbonfoot.policies import MatrixPolicy

__all__ = ["BatchEvaluator", "Totals"]

FloatArray = npt.NDArray[np.float64]
Overrides = Mapping[tuple[str, int], Any]


@frozen
class Totals:
    """Total savings (g) and credits (minor units) by mode, one column per draw."""

    modes: tuple[str, ...]
    savings_g: FloatArray
    awards: npt.NDArray[np.int64]
    decimals: int

    @property
    def total_savings_g(self) -> FloatArray:
        """Savings of all modes, per draw."""
        return np.asarray(self.savings_g.sum(axis=0), dtype=np.float64)

    @property
    def total_credits(self) -> FloatArray:
        """Credits of all modes per draw, in the policy's unit (not minor units)."""
        return np.asarray(self.awards.sum(axis=0) / 10**self.decimals, dtype=np.float64)

    def credits(self) -> FloatArray:
        """Credits by mode and draw, in the policy's unit."""
        return np.asarray(self.awards / 10**self.decimals, dtype=np.float64)


class BatchEvaluator:
    """Re-evaluates one prepared batch of an engine under other factor values."""

    def __init__(self, engine: Engine, prepared: PreparedBatch) -> None:
        self.engine = engine
        self.trips = int(prepared.ok.size)  # every input row, computed or not
        rows = np.flatnonzero(prepared.ok)
        order = np.argsort(prepared.codes[rows], kind="stable")
        self.rows = rows[order]  # computed rows, grouped by mode
        codes = prepared.codes[self.rows]
        self.codes = codes
        self.cell = (codes, prepared.district[self.rows], prepared.interval[self.rows])
        self.km = prepared.distance_km[self.rows]
        present, starts = np.unique(codes, return_index=True)
        self.starts = starts
        self.modes = tuple(engine.modes.ids[code] for code in present)
        self.batch = engine.policy_batch(
            prepared, np.zeros(self.rows.size, dtype=np.int64), self.rows
        )

    def savings_per_trip(self, overrides: Overrides | None = None) -> FloatArray:
        """Savings (g) of each computed trip, one column per draw (one column if none)."""
        engine = self.engine
        table = engine.factor_set.table(engine.factor_keys, overrides)
        if table.ndim == 3:
            table = table[..., np.newaxis]
        baseline = engine.baseline_for(table).per_mode
        pad = np.full((1, *table.shape[1:]), np.nan)
        factor = np.concatenate([table, pad])
        base = np.concatenate([np.where(np.isnan(table), np.nan, baseline), pad])
        delta = np.maximum(base - factor, 0.0)
        return np.asarray(delta[self.cell] * self.km[:, np.newaxis], dtype=np.float64)

    def totals(self, overrides: Overrides | None = None) -> Totals:
        """Total savings and credits by mode for each draw of ``overrides``."""
        savings = self.savings_per_trip(overrides)
        awards = self.awards(savings)
        if self.rows.size == 0:
            draws = savings.shape[1]
            return Totals(
                (),
                np.zeros((0, draws)),
                np.zeros((0, draws), dtype=np.int64),
                self.engine.policy.decimals,
            )
        return Totals(
            modes=self.modes,
            savings_g=np.add.reduceat(savings, self.starts, axis=0),
            awards=np.add.reduceat(awards, self.starts, axis=0),
            decimals=self.engine.policy.decimals,
        )

    def awards(self, savings_g: FloatArray) -> npt.NDArray[np.int64]:
        """The policy's awards for each trip and draw, caps included."""
        milligrams = np.rint(savings_g * 1000.0).astype(np.int64)
        policy = self.engine.policy
        if isinstance(policy, MatrixPolicy):
            return np.asarray(policy.award_matrix(self.batch, milligrams), dtype=np.int64)
        columns = []
        for draw in range(milligrams.shape[1]):
            self.batch.savings_mg = milligrams[:, draw]
            columns.append(np.asarray(policy.award(self.batch), dtype=np.int64))
        return np.stack(columns, axis=1) if columns else np.zeros(milligrams.shape, dtype=np.int64)
