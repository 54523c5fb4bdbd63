"""Baselines: what a trip would have emitted had it not been made by its low-carbon mode.

savings = baseline emissions - actual emissions, for the same passenger distance, never
below zero. A baseline is resolved to one g-per-passenger-km figure per mode, district and
validity interval of the factor set (an array ``[mode, district, interval]``), so every
methodology feeds the same vectorized arithmetic. Two kinds are built in:

* a named mode, ``"car"``: that mode's factor (default: the set's ``[set].baseline``);
* a weighted modal mix, ``"car:0.6,taxi:0.1,bus:0.3"``: the passenger-km-weighted mean of
  those modes' factors (weights are shares of passenger-km and must sum to 1).

Methodologies with their own rules (a city's average, published savings factors, a
standard's formula) are plugins registering a :class:`BaselineSpec`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from attrs import field, frozen, validators

from carbonfoot.errors import (
    BaselineError,
    FactorError,
    InputError,
    UnknownModeError,
    unknown_message,
)
from carbonfoot.factors import FactorSet
from carbonfoot.modes import ModeTable
from carbonfoot.parameters import Parameter, resolve_parameters

__all__ = ["Baseline", "BaselineContext", "BaselineSpec", "mix_weights", "resolve_baseline"]

_WEIGHT_SEPARATOR = re.compile(r"\s*[:=]\s*")
FloatArray = npt.NDArray[np.float64]


@frozen
class BaselineContext:
    """What a methodology builds from: the factor set, the modes, and their factor table.

    ``factors[code, district, interval]`` is each mode's g per passenger-km (NaN where
    the set gives none); :meth:`mode_factor` is the column of one mode, by label.
    """

    factor_set: FactorSet
    modes: ModeTable
    factors: FloatArray

    def mode_factor(self, label: str) -> tuple[str, FloatArray]:
        """``(mode id, g/pkm [district, interval])`` of a mode named by id or alias."""
        mode = self.modes.get(label)
        column = self.factors[self.modes.code_of(mode.id)]
        if np.isnan(column).all():
            raise FactorError(
                f"baseline mode {mode.id!r} has no factor {mode.factor_key!r} in factor set {self.factor_set.name!r}"
            )
        return mode.id, column


@frozen
class Baseline:
    """A resolved baseline: the text recorded on every result row, and its factors.

    ``per_mode[code, district, interval]`` is the baseline factor applied to trips of each
    mode (NaN: the methodology gives no baseline for that mode). ``components`` lists
    ``(mode id, weight)`` for mode and mix baselines; ``citation`` names a methodology's
    source.
    """

    spec: str
    description: str
    per_mode: FloatArray
    components: tuple[tuple[str, float], ...] = ()
    citation: str = ""
    params: Mapping[str, str] = field(factory=dict)

    @property
    def g_per_pkm(self) -> float:
        """The baseline factor where it is the same for every mode and cell, else NaN."""
        values = self.per_mode[~np.isnan(self.per_mode)]
        if values.size and np.all(values == values[0]):
            return float(values[0])
        return math.nan


@frozen
class BaselineSpec:
    """What a baseline-methodology plugin registers: id, citation, parameters, build."""

    id: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"))
    description: str = field(validator=validators.min_len(1))
    citation: str = field(validator=validators.min_len(1))
    parameters: tuple[Parameter, ...]
    build: Callable[[BaselineContext, Mapping[str, Any]], Baseline]

    def create(self, context: BaselineContext, given: Mapping[str, Any]) -> Baseline:
        """Build this methodology's baseline with ``given`` parameters over the defaults."""
        params = resolve_parameters(
            self.parameters, given, owner=f"baseline {self.id!r}", error=BaselineError
        )
        return self.build(context, params)


def resolve_baseline(
    spec: str | None,
    context: BaselineContext,
    methods: Mapping[str, BaselineSpec] | None = None,
    params: Mapping[str, Any] | None = None,
) -> Baseline:
    """Resolve a baseline: a registered methodology id, a mode, a mix, or ``None`` (the set's)."""
    text = (spec or context.factor_set.baseline).strip()
    if not text:
        raise InputError("empty baseline; give a mode such as 'car' or a mix 'car:0.6,bus:0.4'")
    if methods and text in methods:
        return methods[text].create(context, params or {})
    if params:
        raise InputError(f"baseline {text!r} takes no parameters (only methodologies do)")
    if "," in text or ":" in text or "=" in text:
        return mix_baseline(mix_weights(text), context)
    if context.modes.code_of(text) < 0:
        names = [*(methods or {}), *context.modes.ids]
        raise UnknownModeError(
            unknown_message(
                "baseline",
                text,
                names,
                known_as="a baseline is a mode, a mix 'car:0.6,bus:0.4' or one of",
                aliases=context.modes.aliases,
            )
        )
    mode_id, column = context.mode_factor(text)
    return Baseline(
        spec=mode_id,
        description=f"every trip replaces the same distance by {mode_id}",
        per_mode=np.broadcast_to(column, context.factors.shape).copy(),
        components=((mode_id, 1.0),),
    )


def mix_weights(text: str) -> list[tuple[str, float]]:
    """Parse ``"car:0.6, bus=0.4"`` into ``[("car", 0.6), ("bus", 0.4)]``; weights sum to 1."""
    weights: list[tuple[str, float]] = []
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
        weights.append((label, weight))
    total = math.fsum(weight for _, weight in weights)
    if not weights or abs(total - 1.0) > 1e-9:
        raise InputError(
            f"baseline mix weights sum to {total:g}; they are shares of passenger-km and must sum to 1"
        )
    return weights


def mix_baseline(
    weights: list[tuple[str, float]],
    context: BaselineContext,
    *,
    description: str = "",
    spec: str = "",
) -> Baseline:
    """The passenger-km-weighted mean of the modes' factors, cell by cell."""
    total = np.zeros(context.factors.shape[1:])
    components: list[tuple[str, float]] = []
    for label, weight in weights:
        mode_id, column = context.mode_factor(label)
        if any(existing == mode_id for existing, _ in components):
            raise InputError(f"baseline mix names mode {mode_id!r} twice")
        total = total + weight * column
        components.append((mode_id, weight))
    text = ",".join(f"{mode_id}:{weight:g}" for mode_id, weight in components)
    return Baseline(
        spec=spec or text,
        description=description
        or "every trip replaces the same distance by a mix of modes, weighted by passenger-km",
        per_mode=np.broadcast_to(total, context.factors.shape).copy(),
        components=tuple(components),
    )
