"""Reading factor-set TOML files: layering, validation with file and key, content hash.

The format is documented in ``factors/README.md``. A set may ``extend`` another (by
registered name, or by a path relative to its own file) and override single factors; the
parent's document is merged first, so the result is checked, hashed and used exactly like
a set written out in full.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, cast

from carbonfoot._kernels.strings import fold_name
from carbonfoot.errors import FactorError, UnitMismatchError
from carbonfoot.factors.cache import cached
from carbonfoot.factors.factor_set import FactorSet
from carbonfoot.factors.model import FACTOR_KINDS, Factor, Source, Uncertainty, Validity
from carbonfoot.units import Dims, describe_dims, kind_of, multiply_dims, parse_any_quantity

__all__ = ["ParentFinder", "content_hash", "load_factor_set", "read_document"]

SCHEMA_VERSION: Final = 1
SCOPES: Final = ("tank-to-wheel", "well-to-wheel", "life-cycle")
GASES: Final = ("CO2", "CO2e")
PER: Final = ("passenger", "vehicle")
DISTRIBUTIONS: Final = ("normal", "lognormal", "triangular", "uniform")

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
    "extends",
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
    "product",
    "divide_by",
    "sum",
    "gases",
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
    "valid_from",
    "valid_to",
    "district",
    "uncertainty",
    "kind",
    "at_most",
}
_UNCERTAINTY_FIELDS: Final = {"distribution", "low", "high", "sd", "gsd", "source", "note"}

#: Finds a parent set's file by the name given in ``[set].extends``.
ParentFinder = Callable[[str], Path]


def content_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 over the parsed document in canonical JSON: formatting does not count."""
    canonical = json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def read_document(path: Path) -> dict[str, Any]:
    """The parsed TOML of ``path``; :class:`FactorError` naming the file if unreadable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FactorError(f"{path}: cannot read factor set ({exc.strerror})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FactorError(f"{path}: not valid TOML ({exc})") from None


def load_factor_set(
    path: str | Path, *, expected_name: str | None = None, find_parent: ParentFinder | None = None
) -> FactorSet:
    """Load and validate the factor set in ``path`` (merging the set it extends, if any).

    Raises :class:`FactorError` (or its :class:`UnitMismatchError`) naming the file and
    the key of the first problem: unreadable TOML, an unknown field, missing provenance, a
    bad quantity, a dangling reference, overlapping validity.
    """
    path = Path(path)
    document, chain = _merged(path, find_parent, ())

    def build() -> FactorSet:
        factor_set = _Reader(path, document).read(expected_name, chain)
        factor_set.check_resolvable()
        return factor_set

    return cached(document, (str(path.resolve()), *chain), expected_name, build)


def _merged(
    path: Path, find_parent: ParentFinder | None, seen: tuple[Path, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    document = read_document(path)
    header = document.get("set")
    parent = header.get("extends") if isinstance(header, dict) else None
    if parent is None:
        return document, ()
    if not isinstance(parent, str) or not parent.strip():
        raise FactorError(
            f"{path}: [set].extends: must be a set name or a .toml path, got {parent!r}"
        )
    parent_path = _parent_path(path, parent, find_parent)
    if parent_path.resolve() in {p.resolve() for p in (*seen, path)}:
        raise FactorError(f"{path}: [set].extends: {parent!r} extends itself (a cycle)")
    base, chain = _merged(parent_path, find_parent, (*seen, path))
    base_header = base.get("set", {})
    name = base_header.get("name", parent)
    merged_header = {k: v for k, v in base_header.items() if k != "extends"}
    merged_header.update({k: v for k, v in header.items() if k != "extends"})  # type: ignore[union-attr]
    merged_header["extends"] = parent
    merged: dict[str, Any] = {
        "schema": document.get("schema", base.get("schema")),
        "set": merged_header,
        "sources": {**base.get("sources", {}), **document.get("sources", {})},
        "factors": _merge_factors(base.get("factors", {}), document.get("factors", {}), path),
        "gwp": {**base.get("gwp", {}), **document.get("gwp", {})},
    }
    return merged, (str(name), *chain)


#: Fields that define a factor's number: an override giving one replaces the others.
_DEFINING: Final = ("value", "product", "divide_by", "sum", "gases")
#: Fields that describe the number: not inherited by an override that changes it.
_DESCRIBING: Final = ("source", "locator", "note", "uncertainty", "kind")


def _merge_factors(base: Mapping[str, Any], child: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The parent's factors with the child's laid over them, variant by variant.

    A child variant with the validity (dates and district, as names are matched) of a
    parent variant overrides that one field by field, keeping what it does not restate;
    one with another validity is added beside the parent's (a district's own variant
    leaves the general value in force everywhere else). A variant that changes the
    number must name its own source; the parent's locator, note and uncertainty, which
    describe the old number, are not kept for it.
    """
    merged = dict(base)
    for key, given in child.items():
        if key not in base or not _is_variants(base[key]) or not _is_variants(given):
            merged[key] = given  # new, or malformed: the reader says what is wrong
            continue
        variants = [dict(variant) for variant in _variants(base[key])]
        for override in _variants(given):
            same = [i for i, variant in enumerate(variants) if _same_validity(variant, override)]
            if same:
                variants[same[0]] = _overridden(variants[same[0]], override, key, path)
            else:
                variants.append(dict(override))
        merged[key] = variants[0] if len(variants) == 1 else variants
    return merged


def _is_variants(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and all(isinstance(item, dict) for item in value)
    )


def _variants(value: Any) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else list(value)


def _same_validity(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    def district(variant: Mapping[str, Any]) -> str:
        return fold_name(str(variant.get("district", "")))

    return (
        one.get("valid_from") == other.get("valid_from")
        and one.get("valid_to") == other.get("valid_to")
        and district(one) == district(other)
    )


def _overridden(
    parent: Mapping[str, Any], override: Mapping[str, Any], key: str, path: Path
) -> dict[str, Any]:
    result = dict(parent)
    new_number = any(name in override and override[name] != parent.get(name) for name in _DEFINING)
    if new_number:
        if "source" not in override:
            raise FactorError(
                f"{path}: [factors.{key}]: overrides the number of the factor it inherits, so it "
                "needs its own source (and locator): the parent's source does not publish it"
            )
        for name in (*_DEFINING, *_DESCRIBING):
            result.pop(name, None)
    elif "source" in override and override["source"] != parent.get("source"):
        result.pop("locator", None)  # a locator points into the parent's source
    result.update(override)
    return result


def _parent_path(path: Path, parent: str, find_parent: ParentFinder | None) -> Path:
    if parent.endswith(".toml"):
        candidate = (path.parent / parent).resolve()
        if not candidate.is_file():
            raise FactorError(f"{path}: [set].extends: no file {candidate}")
        return candidate
    if find_parent is None:
        raise FactorError(f"{path}: [set].extends: cannot look up set {parent!r} here")
    try:
        return find_parent(parent)
    except KeyError as exc:
        raise FactorError(f"{path}: [set].extends: {exc}") from None


class _Reader:
    """Turns one (merged) TOML document into a :class:`FactorSet`, or a precise error."""

    def __init__(self, path: Path, document: dict[str, Any]) -> None:
        self.path = path
        self.document = document

    # -- small checks ------------------------------------------------------------

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

    def keys(self, table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, ())
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, list | tuple) or not all(
            isinstance(item, str) and item for item in value
        ):
            raise self.fail(f"{where}.{key}", "must be a factor key or a list of them")
        return tuple(value)

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

    def date(self, table: Mapping[str, Any], key: str, where: str) -> dt.date | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.fail(f"{where}.{key}", f"must be a date like 2024-01-01, got {value!r}")
        return value

    # -- the document --------------------------------------------------------------

    def read(self, expected_name: str | None, chain: tuple[str, ...]) -> FactorSet:
        schema = self.document.get("schema")
        if schema != SCHEMA_VERSION:
            raise self.fail("schema", f"expected schema = {SCHEMA_VERSION}, got {schema!r}")
        self.no_unknown_fields(
            self.document, {"schema", "set", "sources", "factors", "gwp"}, "top level"
        )
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
        self.gwp = self.read_gwp(self.document.get("gwp", {}), sources)
        raw = self.table(self.document, "factors", "[factors]")
        factors = {
            key: self.read_variants(key, value, sources, defaults) for key, value in raw.items()
        }
        factors = _with_derived_dims(factors, self.path)
        self.inputs = {
            name
            for variants in factors.values()
            for v in variants
            for name in (*v.product, *v.divide_by, *v.summed, *v.electricity)
        }
        for key, variants in factors.items():
            self.check_variants(key, variants, factors)
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
            baseline=self.text(header, "baseline", "[set]"),
            description=str(header.get("description", "")),
            sources=sources,
            factors=factors,
            extends=chain,
        )

    def read_gwp(self, raw: Any, sources: Mapping[str, Source]) -> dict[str, dict[str, float]]:
        """``[gwp.AR5]`` tables: 100-year GWP of each gas (CO2 is 1 by definition), with source."""
        if not isinstance(raw, dict):
            raise self.fail("[gwp]", "must be tables such as [gwp.AR5]")
        tables: dict[str, dict[str, float]] = {}
        for basis, table in raw.items():
            where = f"[gwp.{basis}]"
            if not isinstance(table, dict):
                raise self.fail(where, "must be a table of gas = GWP, with source and locator")
            source = self.text(table, "source", where)
            if source not in sources:
                raise self.fail(f"{where}.source", f"names {source!r}, which is not in [sources]")
            self.text(table, "locator", where)
            values = {"CO2": 1.0}
            for gas, value in table.items():
                if gas in ("source", "locator", "note"):
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                    raise self.fail(f"{where}.{gas}", f"must be a positive number, got {value!r}")
                values[gas] = float(value)
            tables[basis] = values
        return tables

    def read_gases(
        self, raw: Any, gwp: str, where: str
    ) -> tuple[float, Dims, tuple[tuple[str, str, float], ...]]:
        """A factor published gas by gas: CO2e = sum of each gas times its GWP."""
        if not isinstance(raw, dict) or not raw:
            raise self.fail(
                where, 'must be a table such as { CO2 = "0.3 kg / mi", CH4 = "0.009 g / mi" }'
            )
        weights = self.gwp.get(gwp)
        if weights is None:
            raise self.fail(where, f"GWP basis {gwp!r} has no [gwp.{gwp}] table in this set")
        total, dims = 0.0, cast(Dims, ())
        parts: list[tuple[str, str, float]] = []
        for gas, text in raw.items():
            if gas not in weights:
                raise self.fail(f"{where}.{gas}", f"[gwp.{gwp}] gives no GWP for {gas}")
            base, gas_dims, _ = parse_any_quantity(text, where=f"{self.path}: {where}.{gas}")
            if parts and gas_dims != dims:
                raise UnitMismatchError(
                    f"{self.path}: {where}.{gas}: {text!r} differs in dimension from the other gases"
                )
            dims = gas_dims
            total += weights[gas] * base
            parts.append((gas, str(text), base))
        return total, dims, tuple(parts)

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

    def read_variants(
        self, key: str, raw: Any, sources: Mapping[str, Source], defaults: Mapping[str, str]
    ) -> tuple[Factor, ...]:
        if isinstance(raw, dict):
            return (self.read_factor(key, 0, raw, sources, defaults, f"[factors.{key}]"),)
        if isinstance(raw, list) and raw and all(isinstance(item, dict) for item in raw):
            return tuple(
                self.read_factor(
                    key, index, item, sources, defaults, f"[[factors.{key}]] #{index + 1}"
                )
                for index, item in enumerate(raw)
            )
        raise self.fail(
            f"[factors.{key}]", "must be a table, or an array of tables (one per validity)"
        )

    def read_factor(
        self,
        key: str,
        variant: int,
        raw: dict[str, Any],
        sources: Mapping[str, Source],
        defaults: Mapping[str, str],
        where: str,
    ) -> Factor:
        self.no_unknown_fields(raw, _FACTOR_FIELDS, where)
        ways = [name for name in ("value", "product", "sum", "gases") if name in raw]
        if len(ways) != 1:
            raise self.fail(
                where,
                "needs exactly one of 'value' (a number with its unit), 'gases' (gas by gas), "
                "'product' or 'sum' (of other factors' keys)",
            )
        has_value = ways[0] in ("value", "gases")
        if "divide_by" in raw and "product" not in raw:
            raise self.fail(where, "'divide_by' goes with 'product'")
        base, dims, quantity, unit = math.nan, cast(Dims, ()), "", ""
        gases: tuple[tuple[str, str, float], ...] = ()
        if "value" in raw:
            base, dims, unit = parse_any_quantity(raw["value"], where=f"{self.path}: {where}.value")
            quantity = str(raw["value"])
        elif "gases" in raw:
            gwp_basis = self.text(raw, "gwp", where, default=defaults["gwp"])
            base, dims, gases = self.read_gases(raw["gases"], gwp_basis, f"{where}.gases")
            weights = self.gwp[gwp_basis]
            quantity = " + ".join(
                (f"{weights[gas]:g} x " if weights[gas] != 1 else "") + f"{gas} {text}"
                for gas, text, _ in gases
            )
        source_key = self.text(raw, "source", where)
        source = sources.get(source_key)
        if source is None:
            raise self.fail(f"{where}.source", f"names {source_key!r}, which is not in [sources]")
        needs_locator = source.kind == "publication" and has_value
        valid_from, valid_to = (
            self.date(raw, "valid_from", where),
            self.date(raw, "valid_to", where),
        )
        if valid_from and valid_to and valid_to < valid_from:
            raise self.fail(where, f"valid_to {valid_to} is before valid_from {valid_from}")
        uncertainty = self.read_uncertainty(
            raw.get("uncertainty"), dims, has_value, f"{where}.uncertainty"
        )
        kind = self.read_kind(raw, source, has_value, uncertainty is not None, where)
        at_most = self.read_at_most(raw, dims, has_value, where)
        if base > at_most:
            raise self.fail(
                f"{where}.value",
                f"{raw.get('value', quantity)!r} is above at_most {raw['at_most']!r}",
            )
        if uncertainty is not None and max(uncertainty.low, uncertainty.high) > at_most:
            raise self.fail(f"{where}.uncertainty", f"reaches above at_most {raw['at_most']!r}")
        return Factor(
            key=key,
            dims=dims,
            source=source,
            locator=self.text(raw, "locator", where, default=None if needs_locator else ""),
            region=self.text(raw, "region", where, default=defaults["region"]),
            scope=self.choice(
                self.text(raw, "scope", where, default=defaults["scope"]), SCOPES, f"{where}.scope"
            ),
            gas=self.choice(
                self.text(raw, "gas", where, default=defaults["gas"]), GASES, f"{where}.gas"
            ),
            gwp=self.text(raw, "gwp", where, default=defaults["gwp"]),
            base=base,
            quantity=quantity,
            unit=unit,
            product=self.keys(raw, "product", where),
            divide_by=self.keys(raw, "divide_by", where),
            summed=self.keys(raw, "sum", where),
            gases=gases,
            per=self.text(raw, "per", where, default=""),
            occupancy=self.text(raw, "occupancy", where, default=""),
            electricity=self.keys(raw, "electricity", where),
            note=self.text(raw, "note", where, default=""),
            label=self.text(raw, "label", where, default=""),
            validity=Validity(
                valid_from, valid_to, self.text(raw, "district", where, default="").strip()
            ),
            uncertainty=uncertainty,
            variant=variant,
            kind=kind,
            at_most=at_most,
        )

    def read_kind(
        self, raw: Mapping[str, Any], source: Source, literal: bool, uncertain: bool, where: str
    ) -> str:
        """What the number is: given as ``kind``, else a definition when its source is one,
        else measured. Only a measured value may carry an uncertainty."""
        if "kind" in raw and not literal:
            raise self.fail(
                f"{where}.kind",
                "applies to a value; a derived factor is as measured as its inputs",
            )
        default = "definition" if source.kind == "definition" else "measured"
        kind = self.choice(
            self.text(raw, "kind", where, default=default), FACTOR_KINDS, f"{where}.kind"
        )
        if kind == "measured" and source.kind == "definition":
            raise self.fail(
                f"{where}.kind",
                f"is measured, but its source {source.key!r} is a definition; "
                "a measurement cites the publication that measured it",
            )
        if kind != "measured" and uncertain:
            raise self.fail(
                f"{where}.uncertainty",
                f"a {kind} is exact: it carries no uncertainty (only measured values do)",
            )
        return kind

    def read_at_most(self, raw: Mapping[str, Any], dims: Dims, literal: bool, where: str) -> float:
        """``at_most``: the physical upper limit of the quantity (``"1"`` for a fraction),
        in base units; infinity when not given."""
        if "at_most" not in raw:
            return math.inf
        if not literal:
            raise self.fail(f"{where}.at_most", "applies to a value; put it on the inputs")
        limit, limit_dims, _ = parse_any_quantity(
            raw["at_most"], where=f"{self.path}: {where}.at_most"
        )
        if limit_dims != dims:
            raise UnitMismatchError(
                f"{self.path}: {where}.at_most: {raw['at_most']!r} is "
                f"{describe_dims(limit_dims)}, but the factor is {describe_dims(dims)}"
            )
        return limit

    def read_uncertainty(
        self, raw: Any, dims: Dims, literal: bool, where: str
    ) -> Uncertainty | None:
        if raw is None:
            return None
        if not literal:
            raise self.fail(
                where, "only a factor with a 'value' carries an uncertainty; put it on the inputs"
            )
        if not isinstance(raw, dict):
            raise self.fail(
                where,
                'must be a table such as { distribution = "uniform", low = "...", high = "..." }',
            )
        self.no_unknown_fields(raw, _UNCERTAINTY_FIELDS, where)
        distribution = self.choice(
            self.text(raw, "distribution", where), DISTRIBUTIONS, f"{where}.distribution"
        )
        needed = {
            "normal": ("sd",),
            "lognormal": ("gsd",),
            "triangular": ("low", "high"),
            "uniform": ("low", "high"),
        }
        fields: dict[str, float] = {}
        for name in needed[distribution]:
            if name not in raw:
                raise self.fail(where, f"a {distribution} distribution needs '{name}'")
            if name == "gsd":
                value = raw[name]
                if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 1:
                    raise self.fail(f"{where}.gsd", f"must be a number >= 1, got {value!r}")
                fields[name] = float(value)
                continue
            base, quantity_dims, _ = parse_any_quantity(
                raw[name], where=f"{self.path}: {where}.{name}"
            )
            if quantity_dims != dims:
                raise UnitMismatchError(
                    f"{self.path}: {where}.{name}: {raw[name]!r} is {describe_dims(quantity_dims)}, "
                    f"but the factor is {describe_dims(dims)}"
                )
            fields[name] = base
        if "low" in fields and fields["low"] > fields["high"]:
            raise self.fail(where, "low is above high")
        for name in ("source",):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise self.fail(where, "needs 'source': where the distribution comes from")
        return Uncertainty(
            distribution=distribution, source=raw["source"], note=str(raw.get("note", "")), **fields
        )

    def check_variants(
        self, key: str, variants: tuple[Factor, ...], factors: Mapping[str, tuple[Factor, ...]]
    ) -> None:
        for index, first in enumerate(variants):
            for second in variants[index + 1 :]:
                if first.validity.overlaps(second.validity):
                    raise self.fail(
                        f"[factors.{key}]",
                        f"variants #{first.variant + 1} and #{second.variant + 1} overlap "
                        f"({first.validity.describe()} / {second.validity.describe()}); validity must not overlap",
                    )
        for factor in variants:
            if factor.is_literal and factor.uncertainty is not None:
                low, high = factor.uncertainty.low, factor.uncertainty.high
                if (
                    factor.uncertainty.distribution in ("triangular", "uniform")
                    and not low <= factor.base <= high
                ):
                    raise self.fail(
                        f"[factors.{key}].uncertainty", "the value must lie between low and high"
                    )
            self.check_derivation(factor, factors)

    def check_derivation(self, factor: Factor, factors: Mapping[str, tuple[Factor, ...]]) -> None:
        where = f"[factors.{factor.key}]"
        kind = kind_of(factor.dims)
        intensity = kind in ("emission_intensity", "energy_intensity")
        if intensity and not factor.per and factor.key in self.inputs:
            pass  # an input of other factors, not a mode's factor itself: no 'per' needed
        elif intensity:
            if not factor.per:
                raise self.fail(where, 'missing required field \'per\' ("passenger" or "vehicle")')
            self.choice(factor.per, PER, f"{where}.per")
            if factor.per == "vehicle" and not factor.occupancy:
                raise self.fail(
                    where,
                    "per = \"vehicle\" needs 'occupancy' (the factor key of passengers per vehicle)",
                )
            if factor.per == "passenger" and factor.occupancy:
                raise self.fail(where, "per = \"passenger\" takes no 'occupancy'")
        elif factor.per or factor.occupancy:
            raise self.fail(where, "'per' and 'occupancy' belong to per-km factors only")
        if kind == "energy_intensity" and not factor.electricity and factor.key not in self.inputs:
            raise self.fail(
                where, "an energy-per-km factor needs 'electricity' (the grid factor key(s))"
            )
        if kind != "energy_intensity" and factor.electricity:
            raise self.fail(where, "'electricity' belongs to energy-per-km factors only")
        for name in factor.electricity:
            self.referenced(factors, name, "carbon_intensity", f"{where}.electricity")
        if factor.occupancy:
            target = self.referenced(factors, factor.occupancy, "count", f"{where}.occupancy")
            for variant in target:
                if variant.is_literal and variant.base <= 0:
                    raise self.fail(
                        f"[factors.{variant.key}].value", "an occupancy must be above 0"
                    )

    def referenced(
        self, factors: Mapping[str, tuple[Factor, ...]], key: str, kind: str, where: str
    ) -> tuple[Factor, ...]:
        target = factors.get(key)
        if target is None:
            raise self.fail(where, f"names factor {key!r}, which is not in [factors]")
        if kind_of(target[0].dims) != kind:
            from carbonfoot.units import CANONICAL_UNITS

            unit = CANONICAL_UNITS[kind] or "a pure number"
            raise UnitMismatchError(
                f"{self.path}: {where}: factor {key!r} is {target[0].shown!r}; expected {unit}"
            )
        return target


def _with_derived_dims(
    factors: dict[str, tuple[Factor, ...]], path: Path
) -> dict[str, tuple[Factor, ...]]:
    """Fill in the dimensions of derived factors from their inputs; every variant of a key agrees."""
    resolved: dict[str, Dims] = {}
    active: set[str] = set()

    def dims_of(key: str, where: str) -> Dims:
        if key in resolved:
            return resolved[key]
        variants = factors.get(key)
        if variants is None:
            raise FactorError(f"{path}: {where}: names factor {key!r}, which is not in [factors]")
        if key in active:
            raise FactorError(f"{path}: [factors.{key}]: is derived from itself")
        active.add(key)
        found: Dims | None = None
        for variant in variants:
            dims = variant.dims
            if variant.summed:
                terms = [dims_of(name, f"[factors.{key}].sum") for name in variant.summed]
                if any(term != terms[0] for term in terms):
                    raise UnitMismatchError(
                        f"{path}: [factors.{key}].sum: its terms differ in dimension"
                    )
                dims = terms[0]
            elif not variant.is_literal:
                dims = ()
                for name in variant.product:
                    dims = multiply_dims(dims, dims_of(name, f"[factors.{key}].product"))
                for name in variant.divide_by:
                    dims = multiply_dims(dims, dims_of(name, f"[factors.{key}].divide_by"), -1)
            if found is not None and dims != found:
                raise UnitMismatchError(
                    f"{path}: [factors.{key}]: its variants differ in dimension "
                    f"({describe_dims(found)} / {describe_dims(dims)})"
                )
            found = dims
        active.discard(key)
        resolved[key] = found or ()
        return resolved[key]

    out = {}
    for key, variants in factors.items():
        dims = dims_of(key, f"[factors.{key}]")
        out[key] = tuple(v if v.is_literal else _with_dims(v, dims) for v in variants)
    return out


def _with_dims(factor: Factor, dims: Dims) -> Factor:
    import attrs

    return attrs.evolve(factor, dims=dims)
