"""Factor sets: published emission factors with their provenance, loaded from TOML.

A factor set is one TOML file (see ``factors/README.md`` for the format). Loading it
checks every quantity with pint (unit known, dimension right, value finite and >= 0),
checks that every number names its source and where in the source it is, resolves
how each mode's factor becomes grams per passenger-km, and keeps the result as plain
floats. A set is identified by its name and the SHA-256 of its parsed content, so a
result can always name the exact numbers that produced it.

Three derivations, chosen by the factor's dimension and fields:

* emission per km, ``per = "passenger"``: used as it is;
* emission per km, ``per = "vehicle"``: divided by the ``occupancy`` factor it names;
* energy per km: times the carbon intensity of the ``electricity`` factor(s) it names
  (summed, e.g. generation plus transmission losses), then as above per vehicle or
  passenger.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from attrs import field, frozen

from carbonfoot.errors import FactorError, UnitMismatchError
from carbonfoot.units import CANONICAL_UNITS, Dimension, parse_factor_quantity

__all__ = [
    "DerivationStep",
    "Factor",
    "FactorSet",
    "ResolvedFactor",
    "Source",
    "load_factor_set",
]

SCHEMA_VERSION: Final = 1
SCOPES: Final = ("tank-to-wheel", "well-to-wheel", "life-cycle")
GASES: Final = ("CO2", "CO2e")
GWP_BASES: Final = ("AR4", "AR5", "AR6")
PER: Final = ("passenger", "vehicle")

_SET_FIELDS: Final = {
    "name",
    "title",
    "version",
    "region",
    "scope",
    "gas",
    "gwp",
    "baseline",
    "description",
}
_SOURCE_FIELDS: Final = {
    "publisher",
    "title",
    "year",
    "edition",
    "url",
    "licence",
    "kind",
    "note",
    "read_in",
}
_FACTOR_FIELDS: Final = {
    "value",
    "per",
    "occupancy",
    "electricity",
    "source",
    "locator",
    "region",
    "scope",
    "gas",
    "gwp",
    "note",
    "label",
}


def _freeze(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
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
class Factor:
    """One number of a factor set, with its unit, provenance and derivation inputs.

    ``value`` is in the canonical unit of its ``dimension`` (g/km, Wh/km, g/Wh, or a
    pure number); ``quantity`` is the text as published, e.g. ``"0.16272 kg / km"``.
    """

    key: str
    value: float
    quantity: str
    dimension: str
    source: Source
    locator: str
    region: str
    scope: str
    gas: str
    gwp: str
    per: str = ""
    occupancy: str = ""
    electricity: tuple[str, ...] = ()
    note: str = ""
    label: str = ""


@frozen
class DerivationStep:
    """One step from published numbers to g per passenger-km, for ``explain``."""

    description: str
    value: float
    unit: str
    factor_key: str = ""


@frozen
class ResolvedFactor:
    """A factor turned into grams per passenger-km, with the steps that got there."""

    key: str
    g_per_pkm: float
    steps: tuple[DerivationStep, ...]
    inputs: tuple[str, ...]
    gas: str
    scope: str


@frozen
class FactorSet:
    """A loaded, validated factor set. Values are floats; pint is no longer involved."""

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
    sources: Mapping[str, Source] = field(converter=_freeze)
    factors: Mapping[str, Factor] = field(converter=_freeze)
    resolved: Mapping[str, ResolvedFactor] = field(converter=_freeze)

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the content hash, for display."""
        return self.content_hash[:12]

    @property
    def id(self) -> str:
        """``name@short_hash``: names the exact numbers, not just the set."""
        return f"{self.name}@{self.short_hash}"

    def g_per_pkm(self, key: str) -> float | None:
        """Grams CO2(e) per passenger-km for factor ``key``, or ``None`` if not provided."""
        resolved = self.resolved.get(key)
        return None if resolved is None else resolved.g_per_pkm


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 over the parsed document in canonical JSON: formatting does not count."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def load_factor_set(path: str | Path, *, expected_name: str | None = None) -> FactorSet:
    """Load and validate the factor set in ``path``.

    Raises :class:`FactorError` (or its :class:`UnitMismatchError`) naming the file and
    the key for every problem found first: unreadable TOML, an unknown field, a missing
    provenance field, a bad quantity, a dangling reference.
    """
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactorError(f"{path}: cannot read factor set ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FactorError(f"{path}: not valid TOML ({exc})") from None
    return _FactorSetReader(path, document).read(expected_name)


class _FactorSetReader:
    """Turns one parsed TOML document into a :class:`FactorSet`, or a precise error."""

    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document

    def fail(self, where: str, message: str) -> FactorError:
        return FactorError(f"{self.path}: {where}: {message}")

    def table(self, parent: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
        value = parent.get(key)
        if not isinstance(value, dict):
            raise self.fail(where, f"missing table [{key}]" if value is None else "must be a table")
        return value

    def text(
        self, table: Mapping[str, Any], key: str, where: str, *, default: str | None = None
    ) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(where, f"missing required field '{key}'")
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.fail(f"{where}.{key}", f"must be non-empty text, got {value!r}")
        return value

    def choice(self, value: str, allowed: tuple[str, ...], where: str) -> str:
        if value not in allowed:
            raise self.fail(where, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def no_unknown_fields(self, table: Mapping[str, Any], allowed: set[str], where: str) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            raise self.fail(
                where,
                f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}",
            )

    def read(self, expected_name: str | None) -> FactorSet:
        schema = self.document.get("schema")
        if schema != SCHEMA_VERSION:
            raise self.fail("schema", f"expected schema = {SCHEMA_VERSION}, got {schema!r}")
        self.no_unknown_fields(self.document, {"schema", "set", "sources", "factors"}, "top level")
        header = self.table(self.document, "set", "[set]")
        self.no_unknown_fields(header, _SET_FIELDS, "[set]")
        name = self.text(header, "name", "[set]")
        if expected_name is not None and name != expected_name:
            raise self.fail(
                "[set].name", f"is {name!r} but the set was registered as {expected_name!r}"
            )
        defaults = {
            "region": self.text(header, "region", "[set]"),
            "scope": self.choice(self.text(header, "scope", "[set]"), SCOPES, "[set].scope"),
            "gas": self.choice(self.text(header, "gas", "[set]"), GASES, "[set].gas"),
            "gwp": self.text(header, "gwp", "[set]", default=""),
        }
        sources = {
            key: self.read_source(key, value)
            for key, value in self.table(self.document, "sources", "[sources]").items()
        }
        raw_factors = self.table(self.document, "factors", "[factors]")
        factors = {
            key: self.read_factor(key, value, sources, defaults)
            for key, value in raw_factors.items()
        }
        resolved = {
            key: self.resolve(factor, factors)
            for key, factor in factors.items()
            if factor.dimension in (Dimension.EMISSION_INTENSITY, Dimension.ENERGY_INTENSITY)
        }
        baseline = self.text(header, "baseline", "[set]")
        return FactorSet(
            name=name,
            title=self.text(header, "title", "[set]"),
            version=str(header.get("version", "")),
            path=str(self.path),
            content_hash=content_hash(self.document),
            region=defaults["region"],
            scope=defaults["scope"],
            gas=defaults["gas"],
            gwp=defaults["gwp"],
            baseline=baseline,
            description=str(header.get("description", "")),
            sources=sources,
            factors=factors,
            resolved=resolved,
        )

    def read_source(self, key: str, raw: Any) -> Source:
        where = f"[sources.{key}]"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table")
        self.no_unknown_fields(raw, _SOURCE_FIELDS, where)
        year = raw.get("year")
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
            raise self.fail(f"{where}.year", f"must be a year such as 2025, got {year!r}")
        kind = self.choice(
            self.text(raw, "kind", where, default="publication"),
            ("publication", "definition", "derivation"),
            f"{where}.kind",
        )
        return Source(
            key=key,
            publisher=self.text(raw, "publisher", where),
            title=self.text(raw, "title", where),
            year=year,
            edition=self.text(raw, "edition", where, default=""),
            url=self.text(raw, "url", where, default=""),
            licence=self.text(raw, "licence", where, default=""),
            kind=kind,
            note=self.text(raw, "note", where, default=""),
            read_in=self.text(raw, "read_in", where, default=""),
        )

    def read_factor(
        self, key: str, raw: Any, sources: Mapping[str, Source], defaults: Mapping[str, str]
    ) -> Factor:
        where = f"[factors.{key}]"
        if not isinstance(raw, dict):
            raise self.fail(where, "must be a table")
        self.no_unknown_fields(raw, _FACTOR_FIELDS, where)
        if "value" not in raw:
            raise self.fail(where, "missing required field 'value'")
        value, _unit_text, dimension = parse_factor_quantity(
            raw["value"], where=f"{self.path}: {where}.value"
        )
        source_key = self.text(raw, "source", where)
        source = sources.get(source_key)
        if source is None:
            raise self.fail(f"{where}.source", f"names {source_key!r}, which is not in [sources]")
        locator = self.text(
            raw, "locator", where, default="" if source.kind != "publication" else None
        )
        electricity = raw.get("electricity", ())
        if isinstance(electricity, str):
            electricity = (electricity,)
        if not isinstance(electricity, list | tuple) or not all(
            isinstance(item, str) for item in electricity
        ):
            raise self.fail(f"{where}.electricity", "must be a factor key or a list of them")
        per = self.text(raw, "per", where, default="")
        occupancy = self.text(raw, "occupancy", where, default="")
        self.check_derivation_fields(where, dimension, per, occupancy, tuple(electricity))
        return Factor(
            key=key,
            value=value,
            quantity=str(raw["value"]),
            dimension=dimension,
            source=source,
            locator=locator,
            region=self.text(raw, "region", where, default=defaults["region"]),
            scope=self.choice(
                self.text(raw, "scope", where, default=defaults["scope"]), SCOPES, f"{where}.scope"
            ),
            gas=self.choice(
                self.text(raw, "gas", where, default=defaults["gas"]), GASES, f"{where}.gas"
            ),
            gwp=self.text(raw, "gwp", where, default=defaults["gwp"]),
            per=per,
            occupancy=occupancy,
            electricity=tuple(electricity),
            note=self.text(raw, "note", where, default=""),
            label=self.text(raw, "label", where, default=""),
        )

    def check_derivation_fields(
        self, where: str, dimension: str, per: str, occupancy: str, electricity: tuple[str, ...]
    ) -> None:
        intensity = dimension in (Dimension.EMISSION_INTENSITY, Dimension.ENERGY_INTENSITY)
        if intensity:
            if not per:
                raise self.fail(where, 'missing required field \'per\' ("passenger" or "vehicle")')
            self.choice(per, PER, f"{where}.per")
            if per == "vehicle" and not occupancy:
                raise self.fail(
                    where,
                    "per = \"vehicle\" needs 'occupancy' (the factor key of passengers per vehicle)",
                )
            if per == "passenger" and occupancy:
                raise self.fail(where, "per = \"passenger\" takes no 'occupancy'")
        elif per or occupancy:
            raise self.fail(where, "'per' and 'occupancy' belong to per-km factors only")
        if dimension == Dimension.ENERGY_INTENSITY and not electricity:
            raise self.fail(
                where, "an energy-per-km factor needs 'electricity' (the grid factor key(s))"
            )
        if dimension != Dimension.ENERGY_INTENSITY and electricity:
            raise self.fail(where, "'electricity' belongs to energy-per-km factors only")

    def referenced(
        self, factors: Mapping[str, Factor], key: str, dimension: str, where: str
    ) -> Factor:
        target = factors.get(key)
        if target is None:
            raise self.fail(where, f"names factor {key!r}, which is not in [factors]")
        if target.dimension != dimension:
            unit = CANONICAL_UNITS[dimension] or "a pure number"
            raise UnitMismatchError(
                f"{self.path}: {where}: factor {key!r} is {target.quantity!r}; expected {unit}"
            )
        return target

    def resolve(self, factor: Factor, factors: Mapping[str, Factor]) -> ResolvedFactor:
        where = f"[factors.{factor.key}]"
        steps: list[DerivationStep] = []
        inputs = [factor.key]
        gases = {factor.gas}
        scopes = {factor.scope}
        if factor.dimension == Dimension.ENERGY_INTENSITY:
            steps.append(
                DerivationStep(
                    "electricity used", factor.value, f"Wh per {factor.per}-km", factor.key
                )
            )
            grid = [
                self.referenced(factors, key, Dimension.CARBON_INTENSITY, f"{where}.electricity")
                for key in factor.electricity
            ]
            intensity = 0.0
            for item in grid:
                intensity += item.value
                steps.append(
                    DerivationStep("grid carbon intensity", item.value, "g per Wh", item.key)
                )
                inputs.append(item.key)
                gases.add(item.gas)
                scopes.add(item.scope)
            value = factor.value * intensity
            steps.append(DerivationStep("emissions", value, f"g per {factor.per}-km", ""))
        else:
            value = factor.value
            steps.append(DerivationStep("emissions", value, f"g per {factor.per}-km", factor.key))
        if factor.per == "vehicle":
            occupancy = self.referenced(
                factors, factor.occupancy, Dimension.COUNT, f"{where}.occupancy"
            )
            if occupancy.value <= 0:
                raise self.fail(f"[factors.{occupancy.key}].value", "an occupancy must be above 0")
            value = value / occupancy.value
            steps.append(
                DerivationStep(
                    "occupancy", occupancy.value, "passengers per vehicle", occupancy.key
                )
            )
            steps.append(DerivationStep("per passenger", value, "g per passenger-km", ""))
            inputs.append(occupancy.key)
        gas = "CO2" if "CO2" in gases else "CO2e"
        scope = "+".join(sorted(scopes)) if len(scopes) > 1 else factor.scope
        return ResolvedFactor(factor.key, value, tuple(steps), tuple(inputs), gas, scope)
