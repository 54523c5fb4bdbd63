"""A loaded, validated factor set: provenance, variants, and the vectorized lookup table.

Every factor may have several variants that differ by validity period and district. The
set cuts the time axis at every validity boundary; between two cuts, and in one district,
every factor has a single value. The engine gets one array per mode laid out as
``[district, interval]`` and finds a trip's factor with ``searchsorted`` on the cuts: no
per-trip lookup in Python.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import field, frozen

from carbonfoot._kernels.strings import fold_name
from carbonfoot.errors import FactorError
from carbonfoot.factors.model import Factor, ResolvedFactor, Source, freeze
from carbonfoot.factors.resolve import NotValidError, Resolver
from carbonfoot.times import today
from carbonfoot.units import kind_of, multiply_dims

__all__ = ["FactorSet"]


@frozen
class FactorSet:
    """A validated factor set. Numbers are floats; pint is no longer involved.

    ``factors`` maps each key to its variants. ``cuts`` are the days (since 1970-01-01)
    where some factor's validity starts or ends; ``districts`` are the districts some
    factor is specific to, after ``""`` (everywhere).
    """

    name: str
    title: str
    version: str
    path: str
    content_hash: str
    region: str
    scope: str
    gas: str
    gwp: str
    baseline: str
    description: str
    sources: Mapping[str, Source] = field(converter=freeze)
    factors: Mapping[str, tuple[Factor, ...]] = field(converter=freeze)
    extends: tuple[str, ...] = ()

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash, for display."""
        return self.content_hash[:12]

    @property
    def id(self) -> str:
        """``name@short_hash``: names the exact numbers, not just the set."""
        return f"{self.name}@{self.short_hash}"

    @property
    def cuts(self) -> tuple[int, ...]:
        days = set()
        for variants in self.factors.values():
            for variant in variants:
                for day in (variant.validity.first_day, variant.validity.end_day):
                    if day is not None:
                        days.add(day)
        return tuple(sorted(days))

    @property
    def districts(self) -> tuple[str, ...]:
        """ "" (everywhere else) and each district some variant names, once per folded name
        (``Jiangbei`` and ``jiangbei`` are one district), as first written."""
        named: dict[str, str] = {}
        for variants in self.factors.values():
            for variant in variants:
                if variant.validity.district:
                    named.setdefault(variant.validity.district_key, variant.validity.district)
        return ("", *(named[key] for key in sorted(named)))

    def factor(self, key: str, day: int | None = None, district: str = "") -> Factor:
        """The variant of ``key`` in force on ``day`` (default today) in ``district``."""
        try:
            return Resolver(
                self.factors, today() if day is None else day, district, steps=False
            ).variant(key)
        except NotValidError:
            return self.factors[key][-1]

    def is_emission_factor(self, key: str) -> bool:
        """Whether ``key`` resolves to emissions per km (directly or through electricity)."""
        variants = self.factors.get(key)
        if not variants or not variants[0].per:
            return False
        dims = variants[0].dims
        if kind_of(dims) == "energy_intensity" and variants[0].electricity:
            grid = self.factors.get(variants[0].electricity[0])
            dims = multiply_dims(dims, grid[0].dims) if grid else dims
        return kind_of(dims) == "emission_intensity"

    def resolve(
        self, key: str, day: int | None = None, district: str = ""
    ) -> ResolvedFactor | None:
        """How ``key`` becomes g per passenger-km on ``day`` in ``district``, step by step."""
        if not self.is_emission_factor(key):
            return None
        resolver = Resolver(self.factors, today() if day is None else day, district)
        try:
            value = resolver.emission(key)
        except NotValidError:
            return None
        gases = {factor.gas for factor in resolver.used}
        scopes = {factor.scope for factor in resolver.used if kind_of(factor.dims) != "count"}
        return ResolvedFactor(
            key=key,
            g_per_pkm=float(value),
            steps=tuple(resolver.steps),
            inputs=tuple(dict.fromkeys(factor.key for factor in resolver.used)),
            gas="CO2" if "CO2" in gases else "CO2e",
            scope="+".join(sorted(scopes))
            if len(scopes) > 1
            else (scopes.pop() if scopes else self.scope),
        )

    def g_per_pkm(self, key: str, day: int | None = None, district: str = "") -> float | None:
        """Grams CO2(e) per passenger-km for ``key``, or ``None`` if not provided then and there."""
        resolved = self.resolve(key, day, district)
        return None if resolved is None else resolved.g_per_pkm

    # -- the vectorized table -------------------------------------------------------

    def interval_days(self) -> list[int]:
        """One representative day per interval between cuts (the interval's first day)."""
        cuts = self.cuts
        if not cuts:
            return [today()]
        return [cuts[0] - 1, *cuts]

    def table(
        self, keys: Sequence[str], overrides: Mapping[tuple[str, int], Any] | None = None
    ) -> npt.NDArray[np.float64]:
        """g/pkm of each key, laid out ``[key, district, interval]``; NaN where not provided.

        With ``overrides`` of arrays (Monte Carlo draws), the result gains a trailing draws
        axis.
        """
        days = self.interval_days()
        districts = self.districts
        cells: list[list[list[Any]]] = []
        for key in keys:
            rows = []
            for district in districts:
                row = []
                for day in days:
                    row.append(self._cell(key, day, district, overrides))
                rows.append(row)
            cells.append(rows)
        return np.asarray(_broadcast(cells), dtype=np.float64)

    def _cell(
        self, key: str, day: int, district: str, overrides: Mapping[tuple[str, int], Any] | None
    ) -> Any:
        if not self.is_emission_factor(key):
            return math.nan
        try:
            return Resolver(self.factors, day, district, overrides, steps=False).emission(key)
        except NotValidError:
            return math.nan

    def interval_of(self, days: npt.NDArray[np.int64]) -> npt.NDArray[np.intp]:
        """The interval index of each day (days since 1970-01-01)."""
        return np.searchsorted(np.asarray(self.cuts, dtype=np.int64), days, side="right")

    def district_of(self, districts: pa.Array | None, size: int) -> npt.NDArray[np.intp]:
        """The index in :attr:`districts` of each trip's district (0 when not specific)."""
        known = self.districts
        if districts is None or len(known) == 1:
            return np.zeros(size, dtype=np.intp)
        encoded = districts.cast(pa.string()).dictionary_encode()
        position = {fold_name(name): index for index, name in enumerate(known)}
        codes = np.array(
            [position.get(fold_name(name or ""), 0) for name in encoded.dictionary.to_pylist()]
            + [0],
            dtype=np.intp,
        )
        indices = encoded.indices.fill_null(len(codes) - 1).to_numpy(zero_copy_only=False)
        return np.asarray(codes[indices], dtype=np.intp)

    def uncertain(self) -> list[Factor]:
        """Every literal factor variant that carries an uncertainty distribution."""
        return [
            v
            for vs in self.factors.values()
            for v in vs
            if v.uncertainty is not None and v.is_literal
        ]

    def literal_variants(self) -> Iterable[Factor]:
        """Every literal factor variant (the numbers taken from publications or definitions)."""
        return (v for vs in self.factors.values() for v in vs if v.is_literal)

    def check_resolvable(self) -> None:
        """Resolve every emission factor in every cell once, so broken chains fail at load."""
        for key in self.factors:
            if not self.is_emission_factor(key):
                continue
            for district in self.districts:
                for day in self.interval_days():
                    try:
                        Resolver(self.factors, day, district, steps=False).emission(key)
                    except NotValidError:
                        continue
                    except (FactorError, ZeroDivisionError) as exc:
                        raise FactorError(f"{self.path}: [factors.{key}]: {exc}") from None


def _broadcast(cells: list[list[list[Any]]]) -> Any:
    """Nested cells of floats and equal-length arrays, as one array (draws last)."""
    flat = [value for rows in cells for row in rows for value in row]
    draws = next((np.size(value) for value in flat if np.ndim(value) > 0), None)
    if draws is None:
        return cells
    return [[[np.broadcast_to(value, (draws,)) for value in row] for row in rows] for rows in cells]
