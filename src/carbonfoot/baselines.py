"""Baselines: what a trip would have emitted had it not been made by its low-carbon mode.

savings = baseline emissions - actual emissions, for the same passenger distance, and
never below zero. Two kinds of baseline are built in:

* a named mode, ``"car"``: the baseline factor is that mode's factor in the set (the
  set's ``[set].baseline`` is the default, its average private car);
* a weighted modal mix, ``"car:0.6,taxi:0.1,bus:0.3"``: the passenger-km-weighted mean
  of those modes' factors (weights are shares of passenger-km and must sum to 1).

The result is one baseline factor per mode code, so a methodology that gives each mode
its own baseline fits the same arrays.
"""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt
from attrs import frozen

from carbonfoot.errors import FactorError, InputError
from carbonfoot.factors import FactorSet
from carbonfoot.modes import ModeTable

__all__ = ["Baseline", "resolve_baseline"]

_WEIGHT_SEPARATOR = re.compile(r"\s*[:=]\s*")


@frozen
class Baseline:
    """A resolved baseline: its canonical spec text and g per passenger-km for every mode.

    ``per_mode_g_per_pkm[code]`` is the baseline factor applied to trips of that mode
    (the same for every mode in the two built-in kinds); ``components`` lists the
    ``(mode id, weight, g per pkm)`` it was made from.
    """

    spec: str
    description: str
    components: tuple[tuple[str, float, float], ...]
    g_per_pkm: float

    def per_mode(self, modes: ModeTable) -> npt.NDArray[np.float64]:
        """The baseline factor for each mode code (all equal for a mode or a mix)."""
        return np.full(len(modes), self.g_per_pkm, dtype=np.float64)


def resolve_baseline(spec: str | None, factor_set: FactorSet, modes: ModeTable) -> Baseline:
    """Resolve a baseline spec (a mode, a weighted mix, or ``None`` for the set's default)."""
    text = (spec or factor_set.baseline).strip()
    if not text:
        raise InputError("empty baseline; give a mode such as 'car' or a mix 'car:0.6,bus:0.4'")
    if "," in text or ":" in text or "=" in text:
        return _mix(text, factor_set, modes)
    mode_id, g_per_pkm = _mode_factor(text, factor_set, modes)
    return Baseline(
        spec=mode_id,
        description=f"every trip replaces the same distance by {mode_id}",
        components=((mode_id, 1.0, g_per_pkm),),
        g_per_pkm=g_per_pkm,
    )


def _mode_factor(label: str, factor_set: FactorSet, modes: ModeTable) -> tuple[str, float]:
    mode = modes.get(label)
    g_per_pkm = factor_set.g_per_pkm(mode.factor_key)
    if g_per_pkm is None:
        raise FactorError(
            f"baseline mode {mode.id!r} has no factor {mode.factor_key!r} in factor set "
            f"{factor_set.name!r}"
        )
    return mode.id, g_per_pkm


def _mix(text: str, factor_set: FactorSet, modes: ModeTable) -> Baseline:
    components: list[tuple[str, float, float]] = []
    for part in filter(None, (item.strip() for item in text.split(","))):
        pieces = _WEIGHT_SEPARATOR.split(part)
        if len(pieces) != 2:
            raise InputError(f"baseline mix part {part!r} is not 'mode:weight'")
        label, weight_text = pieces
        try:
            weight = float(weight_text)
        except ValueError:
            raise InputError(
                f"baseline weight {weight_text!r} for {label!r} is not a number"
            ) from None
        if not math.isfinite(weight) or weight <= 0:
            raise InputError(
                f"baseline weight for {label!r} must be a positive number, got {weight_text}"
            )
        mode_id, g_per_pkm = _mode_factor(label, factor_set, modes)
        if any(existing == mode_id for existing, _, _ in components):
            raise InputError(f"baseline mix names mode {mode_id!r} twice")
        components.append((mode_id, weight, g_per_pkm))
    total = math.fsum(weight for _, weight, _ in components)
    if not components or abs(total - 1.0) > 1e-9:
        raise InputError(
            f"baseline mix weights sum to {total:g}; they are shares of passenger-km and "
            "must sum to 1"
        )
    g_per_pkm = math.fsum(weight * factor for _, weight, factor in components)
    spec = ",".join(f"{mode_id}:{weight:g}" for mode_id, weight, _ in components)
    return Baseline(
        spec=spec,
        description="every trip replaces the same distance by a mix of modes, weighted by passenger-km",
        components=tuple(components),
        g_per_pkm=g_per_pkm,
    )
