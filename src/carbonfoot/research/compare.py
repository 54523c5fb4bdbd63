"""Compare two runs of the same trips: two factor sets, two baselines, or two policies.

Per mode and in total: savings and credits under A and B and their difference, so a
researcher sees what a factor change does to citizens' credits. The factor content hash
of each run is kept, so the comparison names exactly which numbers were compared.
"""

from __future__ import annotations

from typing import Any

from attrs import frozen

from carbonfoot.engine import Engine

__all__ = ["Comparison", "ModeDifference", "compare"]


@frozen
class ModeDifference:
    """One mode under runs A and B."""

    mode: str
    trips: int
    savings_kg_a: float
    savings_kg_b: float
    credits_a: Any
    credits_b: Any

    @property
    def savings_kg_change(self) -> float:
        return self.savings_kg_b - self.savings_kg_a

    @property
    def credits_change(self) -> Any:
        return self.credits_b - self.credits_a


@frozen
class Comparison:
    """Two runs over the same trips, side by side."""

    label_a: str
    label_b: str
    run_a: dict[str, str]
    run_b: dict[str, str]
    modes: tuple[ModeDifference, ...]
    total: ModeDifference


def _label(engine: Engine) -> str:
    info = engine.run_info
    return f"{info.factor_set}@{info.factor_set_hash[:12]} / {info.baseline} / {info.policy}"


def compare(
    engine_a: Engine, engine_b: Engine, trips: Any, *, distance_unit: str = "km"
) -> Comparison:
    """Compute ``trips`` with both engines and line the totals up by mode."""
    summary_a = engine_a.compute(trips, distance_unit=distance_unit).summary
    summary_b = engine_b.compute(trips, distance_unit=distance_unit).summary
    rows_a = {row.mode: row for row in summary_a.by_mode}
    rows_b = {row.mode: row for row in summary_b.by_mode}
    modes = []
    for mode in dict.fromkeys([*rows_a, *rows_b]):
        a, b = rows_a.get(mode), rows_b.get(mode)
        modes.append(
            ModeDifference(
                mode=mode,
                trips=(a or b).trips if (a or b) else 0,  # type: ignore[union-attr]
                savings_kg_a=a.savings_g / 1000 if a else 0.0,
                savings_kg_b=b.savings_g / 1000 if b else 0.0,
                credits_a=a.credits if a else 0,
                credits_b=b.credits if b else 0,
            )
        )
    total = ModeDifference(
        mode="total",
        trips=summary_a.trips,
        savings_kg_a=summary_a.savings_g / 1000,
        savings_kg_b=summary_b.savings_g / 1000,
        credits_a=summary_a.credits,
        credits_b=summary_b.credits,
    )
    return Comparison(
        label_a=_label(engine_a),
        label_b=_label(engine_b),
        run_a={
            "factor_set": engine_a.run_info.factor_set,
            "factor_set_hash": engine_a.run_info.factor_set_hash,
        },
        run_b={
            "factor_set": engine_b.run_info.factor_set,
            "factor_set_hash": engine_b.run_info.factor_set_hash,
        },
        modes=tuple(modes),
        total=total,
    )
