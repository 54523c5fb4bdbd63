"""The values a factor set is made of: sources, factors, validity, uncertainty.

All are frozen: a loaded factor set cannot change. Numbers are stored in the unit
registry's base units (``base``) together with their dimensionality, so factors of any
dimension (a fuel density, a heating value) can enter a derivation; the kinds the engine
computes with have canonical units (g/km, Wh/km, g/Wh, a pure number).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from attrs import field, frozen

from carbonfoot._kernels.strings import fold_name
from carbonfoot.times import day_number
from carbonfoot.units import Dims

__all__ = [
    "FACTOR_KINDS",
    "DerivationStep",
    "Factor",
    "ResolvedFactor",
    "Source",
    "Uncertainty",
    "Validity",
    "freeze",
]


#: What a literal factor's number is, and so whether the research tools may vary it:
#: ``measured`` (the default: read from a publication, and uncertain like any
#: measurement), ``definition`` (fixed by what the mode is: no fuel burnt, one rider)
#: and ``constant`` (a physical constant or a unit conversion: 44/12, kWh per MJ). Only
#: measured factors carry an uncertainty and are swung by ``sensitivity``.
FACTOR_KINDS = ("measured", "definition", "constant")


def freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    """A read-only view of a copy, so a frozen value cannot be changed through it."""
    return MappingProxyType(dict(mapping))


@frozen
class Source:
    """A publication numbers are taken from (or, with ``kind = "definition"``, a definition)."""

    key: str
    publisher: str
    title: str
    year: int
    edition: str = ""
    url: str = ""
    licence: str = ""
    kind: str = "publication"
    note: str = ""
    read_in: str = ""

    def citation(self) -> str:
        """A one-line human citation: publisher, title, edition, year, URL."""
        parts = [self.publisher, self.title]
        if self.edition:
            parts.append(self.edition)
        parts.append(str(self.year))
        if self.url:
            parts.append(self.url)
        return ", ".join(parts)


@frozen
class Validity:
    """When and where a factor applies: dates inclusive; an empty district means everywhere."""

    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    district: str = ""

    @property
    def first_day(self) -> int | None:
        """``valid_from`` as days since 1970-01-01."""
        return None if self.valid_from is None else day_number(self.valid_from)

    @property
    def end_day(self) -> int | None:
        """The first day after ``valid_to``, as days since 1970-01-01 (exclusive end)."""
        return None if self.valid_to is None else day_number(self.valid_to) + 1

    def covers(self, day: int) -> bool:
        """Whether the factor is valid on ``day`` (days since 1970-01-01)."""
        first, end = self.first_day, self.end_day
        return (first is None or day >= first) and (end is None or day < end)

    @property
    def district_key(self) -> str:
        """The district as names are matched: case and width folded, trimmed."""
        return fold_name(self.district)

    def overlaps(self, other: Validity) -> bool:
        """Whether two validities share a day and a district."""
        if self.district_key != other.district_key:
            return False
        start = max(self.first_day or -(10**9), other.first_day or -(10**9))
        end = min(self.end_day or 10**9, other.end_day or 10**9)
        return start < end

    def describe(self) -> str:
        """Human text: 'from 2024-01-01 to 2024-12-31 in Jiangbei', or 'always'."""
        parts = []
        if self.valid_from:
            parts.append(f"from {self.valid_from.isoformat()}")
        if self.valid_to:
            parts.append(f"to {self.valid_to.isoformat()}")
        if self.district:
            parts.append(f"in {self.district}")
        return " ".join(parts) or "always"


@frozen
class Uncertainty:
    """How uncertain a literal factor is: a distribution around its value, with its source.

    ``low``, ``high`` and ``sd`` are in registry base units, like :attr:`Factor.base`.
    normal: ``sd``; lognormal: median = the value, geometric sd ``gsd``; triangular:
    ``low``, mode = the value, ``high``; uniform: ``low``, ``high``. The value stays the
    point estimate used by every ordinary calculation.
    """

    distribution: str
    low: float = 0.0
    high: float = 0.0
    sd: float = 0.0
    gsd: float = 1.0
    source: str = ""
    note: str = ""

    def bounds(self, value: float) -> tuple[float, float]:
        """A low and a high value for one-at-a-time sensitivity (2.5 and 97.5 percentiles)."""
        if self.distribution in ("uniform", "triangular"):
            return self.low, self.high
        if self.distribution == "normal":
            return max(0.0, value - 1.959964 * self.sd), value + 1.959964 * self.sd
        return value / self.gsd**1.959964, value * self.gsd**1.959964


@frozen
class Factor:
    """One variant of one factor: its number, unit, derivation inputs and provenance.

    A factor is either literal (``base`` from ``quantity``) or derived (``product`` of
    other factors, divided by ``divide_by``). A per-km factor also says whether it is
    per passenger or per vehicle (then ``occupancy`` names the pure-number factor to
    divide by); an energy-per-km factor names the carbon-intensity factors of its
    ``electricity`` (summed). Several variants of one key differ by :class:`Validity`.

    ``kind`` says what a literal number is (one of :data:`FACTOR_KINDS`); ``at_most``
    is the largest value the quantity can physically take, in base units (1 for a
    fraction such as an oxidation rate; infinity when unbounded), which no research
    swing or draw goes past.
    """

    key: str
    dims: Dims
    source: Source
    locator: str
    region: str
    scope: str
    gas: str
    gwp: str
    base: float = float("nan")
    quantity: str = ""
    unit: str = ""
    product: tuple[str, ...] = ()
    divide_by: tuple[str, ...] = ()
    summed: tuple[str, ...] = ()
    gases: tuple[tuple[str, str, float], ...] = ()
    per: str = ""
    occupancy: str = ""
    electricity: tuple[str, ...] = ()
    note: str = ""
    label: str = ""
    validity: Validity = field(factory=Validity)
    uncertainty: Uncertainty | None = None
    variant: int = 0
    kind: str = "measured"
    at_most: float = float("inf")

    @property
    def is_measured(self) -> bool:
        """Whether the number is a measurement (literal, not a definition or a constant):
        the only kind of factor an uncertainty analysis may vary."""
        return self.is_literal and self.kind == "measured"

    @property
    def is_literal(self) -> bool:
        """Whether the number is given (not computed from other factors)."""
        return not (self.product or self.summed)

    @property
    def shown(self) -> str:
        """The value as written in the file, or the formula that derives it."""
        if self.summed:
            return " + ".join(self.summed)
        if self.product:
            formula = " x ".join(self.product)
            return formula + "".join(f" / {key}" for key in self.divide_by)
        return self.quantity


@frozen
class DerivationStep:
    """One step from published numbers to g per passenger-km, for ``explain``."""

    description: str
    value: float
    unit: str
    factor_key: str = ""
    variant: int = 0


@frozen
class ResolvedFactor:
    """A factor turned into grams per passenger-km on one day in one district, with its steps."""

    key: str
    g_per_pkm: float
    steps: tuple[DerivationStep, ...]
    inputs: tuple[str, ...]
    gas: str
    scope: str
