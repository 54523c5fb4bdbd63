"""Resolution: from the factors valid on one day in one district to g per passenger-km.

Arithmetic is written once and works on floats and on numpy arrays alike, so the same
code gives the point estimate, one-at-a-time sensitivity (a factor replaced by its low or
high value) and Monte Carlo draws (factors replaced by arrays of samples).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from carbonfoot._kernels.strings import fold_name
from carbonfoot.errors import FactorError
from carbonfoot.factors.model import DerivationStep, Factor
from carbonfoot.units import (
    SHORT_UNITS,
    Dims,
    base_per_canonical,
    describe_dims,
    kind_of,
    multiply_dims,
)

__all__ = ["NotValidError", "Resolver", "display_value"]

Value = Any  # a float, or a numpy array of draws


class NotValidError(LookupError):
    """No variant of a factor is valid on the day and in the district asked for."""


_BASE_UNIT_TEXT = {"[mass]": "g", "[length]": "m", "[time]": "s"}


def display_value(base: float, dims: Dims) -> tuple[float, str]:
    """A base-unit magnitude in its canonical unit if it has one, else in base units."""
    kind = kind_of(dims)
    if kind is not None:
        return base / base_per_canonical(kind), SHORT_UNITS[kind]
    top = (
        " * ".join(_BASE_UNIT_TEXT[n] + (f"**{p}" if p != 1 else "") for n, p in dims if p > 0)
        or "1"
    )
    bottom = " * ".join(
        _BASE_UNIT_TEXT[n] + (f"**{-p}" if p != -1 else "") for n, p in dims if p < 0
    )
    return base, f"{top} / {bottom}" if bottom else top


class Resolver:
    """Values of a factor set's factors on one day, in one district.

    ``overrides`` maps ``(key, variant)`` to a replacement base-unit value (a float or an
    array of draws) for literal factors. ``steps`` records each step for ``explain``.
    """

    def __init__(
        self,
        factors: Mapping[str, tuple[Factor, ...]],
        day: int,
        district: str = "",
        overrides: Mapping[tuple[str, int], Value] | None = None,
        *,
        steps: bool = True,
    ) -> None:
        self.factors = factors
        self.day = day
        self.district = district
        self.overrides = overrides or {}
        self.record = steps
        self._values: dict[str, Value] = {}
        self._active: set[str] = set()
        self.steps: list[DerivationStep] = []
        self.used: list[Factor] = []

    def variant(self, key: str) -> Factor:
        """The variant of ``key`` in force: this district's own before the general one."""
        variants = self.factors.get(key)
        if not variants:
            raise NotValidError(f"no factor {key!r}")
        own = fold_name(self.district)
        valid = [
            v
            for v in variants
            if v.validity.covers(self.day) and v.validity.district_key in ("", own)
        ]
        if not valid:
            raise NotValidError(
                f"factor {key!r} is not valid on day {self.day} in {self.district or 'any district'}"
            )
        valid.sort(key=lambda v: v.validity.district_key != own)
        return valid[0]

    def value(self, key: str) -> Value:
        """The base-unit value of ``key``: literal, overridden, or computed from its inputs."""
        if key in self._values:
            return self._values[key]
        if key in self._active:
            raise FactorError(f"factor {key!r} is derived from itself")
        self._active.add(key)
        try:
            factor = self.variant(key)
            self.used.append(factor)
            if factor.is_literal:
                value = self.overrides.get((key, factor.variant), factor.base)
                self._step(factor.label or key, value, factor.dims, key, factor.variant)
            elif factor.summed:
                value = 0.0
                for name in factor.summed:
                    value = value + self.value(name)
                self._step(f"{key} = {factor.shown}", value, factor.dims, "", factor.variant)
            else:
                value = 1.0
                for name in factor.product:
                    value = value * self.value(name)
                for name in factor.divide_by:
                    value = value / self.value(name)
                self._step(f"{key} = {factor.shown}", value, factor.dims, "", factor.variant)
        finally:
            self._active.discard(key)
        self._values[key] = value
        return value

    def emission(self, key: str) -> Value:
        """Grams CO2(e) per passenger-km of the per-km factor ``key``."""
        factor = self.variant(key)
        value = self.value(key)
        dims = factor.dims
        if kind_of(dims) == "energy_intensity":
            intensity: Value = 0.0
            for name in factor.electricity:
                intensity = intensity + self.value(name)
            value = value * intensity
            dims = multiply_dims(dims, self.variant(factor.electricity[0]).dims)
            self._step(f"emissions per {factor.per}-km", value, dims, "", 0)
        if kind_of(dims) != "emission_intensity":
            raise FactorError(f"factor {key!r} is {describe_dims(dims)}, not emissions per km")
        if factor.per == "vehicle":
            value = value / self.value(factor.occupancy)
            self._step("per passenger", value, dims, "", 0)
        return value / base_per_canonical("emission_intensity")

    def _step(self, description: str, value: Value, dims: Dims, key: str, variant: int) -> None:
        if self.record:
            shown, unit = display_value(float(value), dims)
            self.steps.append(DerivationStep(description, shown, unit, key, variant))
