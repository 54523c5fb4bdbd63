"""What a research figure was computed with, so a chart pasted into a report keeps it.

A :class:`RunProvenance` names the factor set and its content hash, the baseline and its
parameters, the policy and its parameters, the credit unit and how many trips went in and
were ok (computed and free to earn). The research reports carry one per run; the charts
print it in a footer and write it into the file's metadata.
"""

from __future__ import annotations

from collections.abc import Mapping

from attrs import field, frozen

from carbonfoot.engine import Engine
from carbonfoot.factors.model import freeze

__all__ = ["RunProvenance"]


def _pairs(params: Mapping[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in sorted(params.items()))


@frozen
class RunProvenance:
    """One run's settings and trip counts, as text (see :meth:`describe`)."""

    factor_set: str
    factor_set_hash: str
    baseline: str
    baseline_params: Mapping[str, str] = field(converter=freeze)
    policy: str
    policy_params: Mapping[str, str] = field(converter=freeze)
    credit_unit: str
    trips: int
    ok: int

    @classmethod
    def of(cls, engine: Engine, *, trips: int, ok: int) -> RunProvenance:
        """The provenance of ``engine``'s run over ``trips`` rows, ``ok`` of them ok."""
        settings = engine.settings
        return cls(
            factor_set=settings.factor_set,
            factor_set_hash=settings.factor_set_hash,
            baseline=engine.run_info.baseline,
            baseline_params=settings.baseline_params,
            policy=settings.policy,
            policy_params=settings.policy_params,
            credit_unit=engine.policy.unit,
            trips=trips,
            ok=ok,
        )

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the factor content hash, as the CLI shows it."""
        return self.factor_set_hash[:12]

    def baseline_text(self) -> str:
        """The baseline with its parameters, if any: ``published-savings (table=...)``."""
        params = _pairs(self.baseline_params)
        return f"{self.baseline} ({params})" if params else self.baseline

    def policy_text(self) -> str:
        """The policy with its parameters: ``green-credit (daily_cap=200, ...)``."""
        params = _pairs(self.policy_params)
        return f"{self.policy} ({params})" if params else self.policy

    def describe(self) -> str:
        """One line: factor set@hash, baseline, policy, trips in and ok."""
        return (
            f"factor set {self.factor_set}@{self.short_hash}; baseline {self.baseline_text()}; "
            f"policy {self.policy_text()}, paid in {self.credit_unit}s; "
            f"{self.trips:,} trips, {self.ok:,} ok"
        )
