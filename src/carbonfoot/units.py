"""Units at the boundary: the one pint registry, the unit allowlist, canonical floats.

carbonfoot uses pint only where numbers enter: when a factor file is loaded and when
a trip column names its distance unit. Inside the engine everything is a plain float
in a canonical unit (kilometres, grams, watt-hours), so pint never runs per trip.

Two rules keep untrusted text away from pint's expression parser, which evaluates
arithmetic (``9**9**9 km`` would hang it):

* trip distance units are looked up in :data:`DISTANCE_UNITS`, a fixed table; the
  string is never handed to pint;
* factor-file quantities must match a strict grammar (a number, then unit names joined
  by ``*`` and ``/`` with single-digit powers) before pint sees the unit part.

The registry itself is built from ``units.txt`` beside this module, which defines only
the units carbonfoot accepts, each with the source of its conversion.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from carbonfoot._kernels.strings import NUMBER_PATTERN
from carbonfoot.errors import FactorError, InputError, UnitMismatchError

if TYPE_CHECKING:
    import pint

__all__ = [
    "CANONICAL_UNITS",
    "DISTANCE_UNITS",
    "Dimension",
    "distance_unit_to_km",
    "km_per_unit",
    "parse_factor_quantity",
    "registry",
]

#: Canonical unit for each kind of quantity the engine stores as a float.
CANONICAL_UNITS: Final = {
    "emission_intensity": "gram / kilometer",  # g CO2(e) per km (passenger or vehicle)
    "energy_intensity": "watt_hour / kilometer",  # Wh per km (passenger or vehicle)
    "carbon_intensity": "gram / watt_hour",  # g CO2(e) per Wh of electricity
    "count": "",  # occupancy, a pure number
}


#: How canonical units are written for people.
SHORT_UNITS: Final = {
    "emission_intensity": "g/km",
    "energy_intensity": "Wh/km",
    "carbon_intensity": "g/Wh",
    "count": "",
}


@functools.cache
def base_per_unit(unit_text: str) -> float:
    """Registry base-unit magnitude of one ``unit_text`` (already validated at load)."""
    ureg = registry()
    unit = ureg.parse_units(unit_text) if unit_text else ureg.dimensionless
    return float(ureg.Quantity(1.0, unit).to_base_units().magnitude)


class Dimension:
    """Names of the quantity kinds a factor can be, keyed by pint dimensionality."""

    EMISSION_INTENSITY = "emission_intensity"
    ENERGY_INTENSITY = "energy_intensity"
    CARBON_INTENSITY = "carbon_intensity"
    COUNT = "count"


#: Accepted distance units in trip data: spelling (case-insensitive) -> registry unit.
DISTANCE_UNITS: Final[dict[str, str]] = {
    "km": "kilometer",
    "kilometer": "kilometer",
    "kilometers": "kilometer",
    "kilometre": "kilometer",
    "kilometres": "kilometer",
    "公里": "kilometer",
    "千米": "kilometer",
    "m": "meter",
    "meter": "meter",
    "meters": "meter",
    "metre": "meter",
    "metres": "meter",
    "米": "meter",
    "mi": "mile",
    "mile": "mile",
    "miles": "mile",
    "英里": "mile",
    "yd": "yard",
    "yard": "yard",
    "yards": "yard",
    "ft": "foot",
    "foot": "foot",
    "feet": "foot",
    "nmi": "nautical_mile",
    "nautical_mile": "nautical_mile",
    "nautical miles": "nautical_mile",
}

_NUMBER = NUMBER_PATTERN.removeprefix("^").removesuffix("$")
_UNIT_NAME = r"[A-Za-zµ_]+"
_POWER = r"(?:\s*\*\*\s*-?[1-9]|\^-?[1-9])?"
_UNIT_EXPR = rf"{_UNIT_NAME}{_POWER}(?:\s*[*/]\s*{_UNIT_NAME}{_POWER})*"
_QUANTITY_RE: Final = re.compile(rf"^\s*(?P<number>{_NUMBER})\s*(?P<unit>{_UNIT_EXPR})?\s*$")


#: Libraries pint looks for at import to support their arrays (``pint.compat``); carbonfoot
#: hands pint plain floats only, and importing Dask alone takes longer than all of NumPy.
_PINT_INTEGRATIONS: Final = ("dask", "scipy", "xarray", "uncertainties", "babel", "mip")


def _import_pint() -> Any:
    """pint, imported without its optional array integrations (see :data:`_PINT_INTEGRATIONS`).

    A name mapped to None in ``sys.modules`` reads as "not installed" to ``import`` and to
    ``importlib.util.find_spec``; the entries are removed again at once, so the libraries
    import normally for whoever wants them later.
    """
    if "pint" in sys.modules:
        return sys.modules["pint"]
    hidden = [name for name in _PINT_INTEGRATIONS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        import pint
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
    return pint


@functools.cache
def registry() -> pint.UnitRegistry[Any]:
    """The one pint registry of carbonfoot, built on first use from ``units.txt``."""
    library = _import_pint()
    definitions = resources.files("carbonfoot").joinpath("units.txt")
    with resources.as_file(definitions) as path:
        built: pint.UnitRegistry[Any] = library.UnitRegistry(
            str(path), autoconvert_offset_to_baseunit=False
        )
    return built


Dims = tuple[tuple[str, int], ...]


def dims_of(unit: Any) -> Dims:
    """A hashable form of a pint dimensionality: sorted (dimension, exponent) pairs."""
    return tuple(
        sorted((str(name), int(power)) for name, power in dict(unit.dimensionality).items())
    )


def multiply_dims(first: Dims, second: Dims, sign: int = 1) -> Dims:
    """The dimensions of ``first * second`` (``sign=-1``: of ``first / second``)."""
    powers = dict(first)
    for name, power in second:
        powers[name] = powers.get(name, 0) + sign * power
    return tuple(sorted((name, power) for name, power in powers.items() if power))


def kind_of(dims: Dims) -> str | None:
    """The canonical kind of a dimensionality, or None if carbonfoot has no canonical unit."""
    return _KINDS.get(dims)


_KINDS: Final[dict[Dims, str]] = {
    (): "count",
    (("[length]", -1), ("[mass]", 1)): "emission_intensity",
    (("[length]", 1), ("[mass]", 1), ("[time]", -2)): "energy_intensity",
    (("[length]", -2), ("[time]", 2)): "carbon_intensity",
}


#: The registry base-unit magnitude of one canonical unit of each kind, as ``units.txt``
#: defines them (base units gram, meter, second; a joule is 1000 g m^2/s^2): g/km is
#: 1e-3 g/m; Wh/km is 3600 J per 1000 m, 3600 g m/s^2; g/Wh is 1/3.6e6 s^2/m^2. Known
#: here so that building a factor table from a cached set does not build pint's
#: registry; a test checks each against pint.
BASE_PER_CANONICAL: Final[dict[str, float]] = {
    "emission_intensity": 1e-3,
    "energy_intensity": 3600.0,
    "carbon_intensity": 1 / 3.6e6,
    "count": 1.0,
}


def base_per_canonical(kind: str) -> float:
    """The registry base-unit magnitude of one canonical unit of ``kind``."""
    return BASE_PER_CANONICAL[kind]


def describe_dims(dims: Dims) -> str:
    """Human text for a dimensionality, e.g. '[mass] / [length]'."""
    if not dims:
        return "a pure number"
    top = " * ".join(f"{n}" + (f"**{p}" if p != 1 else "") for n, p in dims if p > 0) or "1"
    bottom = " * ".join(f"{n}" + (f"**{-p}" if p != -1 else "") for n, p in dims if p < 0)
    return f"{top} / {bottom}" if bottom else top


def parse_any_quantity(text: object, *, where: str) -> tuple[float, Dims, str]:
    """Parse a factor-file quantity of any dimension the registry can express.

    Returns ``(magnitude in registry base units, dimensionality, unit text)``; errors as
    :func:`parse_factor_quantity` (grammar, unknown unit, non-finite, negative).
    """
    magnitude, unit_text = _parse_number_and_unit(text, where=where)
    metres = _METRES_PER_UNIT.get(DISTANCE_UNITS.get(normalise_unit_spelling(unit_text), ""))
    if metres is not None:  # a length in metres or kilometres: pint's answer, without pint
        return magnitude * metres, (("[length]", 1),), unit_text
    unit = _parse_unit(unit_text, where=where)
    base = registry().Quantity(magnitude, unit).to_base_units().magnitude
    return float(base), dims_of(unit), unit_text


#: Base units (metres) per metre and per kilometre, for the quantities settings give most
#: often (a step length, a walking distance); a test checks them against pint.
_METRES_PER_UNIT: Final[dict[str, float]] = {"meter": 1.0, "kilometer": 1000.0}


def _parse_number_and_unit(text: object, *, where: str) -> tuple[float, str]:
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise FactorError(f"{where}: expected a quantity string like '0.16 kg / km', got {text!r}")
    match = _QUANTITY_RE.match(str(text))
    if match is None:
        raise FactorError(
            f"{where}: {text!r} is not '<number> <unit>' (units joined by '*' and '/', "
            "powers of one digit); write e.g. '0.16272 kg / km'"
        )
    magnitude = float(match["number"])
    if not math.isfinite(magnitude):
        raise FactorError(f"{where}: value {match['number']} is not finite")
    if magnitude < 0:
        raise FactorError(f"{where}: value {magnitude} is negative; factors are >= 0")
    return magnitude, (match["unit"] or "").strip()


def _parse_unit(unit_text: str, *, where: str) -> Any:
    pint = _import_pint()
    ureg = registry()
    try:
        return ureg.parse_units(unit_text) if unit_text else ureg.dimensionless
    except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, ValueError) as exc:
        raise FactorError(
            f"{where}: unknown unit {unit_text!r} ({exc}); carbonfoot knows the units in "
            "carbonfoot/units.txt (g, kg, t, lb, m, km, mi, L, Wh, kWh, MWh, J, MJ, GJ, ...)"
        ) from None


def _dimension_of(unit: pint.Unit) -> str | None:
    dims = dict(unit.dimensionality)
    if not dims:
        return Dimension.COUNT
    if dims == {"[mass]": 1, "[length]": -1}:
        return Dimension.EMISSION_INTENSITY
    if dims == {"[mass]": 1, "[length]": 1, "[time]": -2}:
        return Dimension.ENERGY_INTENSITY
    if dims == {"[length]": -2, "[time]": 2}:
        return Dimension.CARBON_INTENSITY
    return None


def parse_factor_quantity(
    text: object, *, where: str, expected: tuple[str, ...] | None = None
) -> tuple[float, str, str]:
    """Parse a factor-file quantity such as ``"0.16272 kg / km"``.

    Returns ``(value_in_canonical_unit, original_unit_text, dimension)``. Raises
    :class:`FactorError` naming ``where`` for text outside the grammar, an unknown
    unit, a non-finite or negative value, and :class:`UnitMismatchError` when the
    dimension is none of ``expected`` (default: any kind carbonfoot knows).
    """
    magnitude, unit_text = _parse_number_and_unit(text, where=where)
    unit = _parse_unit(unit_text, where=where)
    ureg = registry()
    dimension = _dimension_of(unit)
    allowed = expected or tuple(CANONICAL_UNITS)
    if dimension not in allowed:
        wanted = " or ".join(CANONICAL_UNITS[d] or "a pure number" for d in allowed)
        raise UnitMismatchError(
            f"{where}: {text!r} has dimension {unit.dimensionality}; expected {wanted}"
        )
    assert dimension is not None
    canonical = CANONICAL_UNITS[dimension]
    value = ureg.Quantity(magnitude, unit).to(canonical).magnitude if canonical else magnitude
    return float(value), unit_text, dimension


#: Kilometres in one of each registry unit of :data:`DISTANCE_UNITS`, as ``units.txt``
#: defines them (its sources: SI; the international yard and pound agreement, 1959; the
#: International Hydrographic Conference, 1929). Known here so that reading a distance
#: does not build pint's registry; a test checks each against pint.
KM_PER_UNIT: Final[dict[str, float]] = {
    "kilometer": 1.0,
    "meter": 0.001,
    "mile": 1.609344,
    "yard": 0.0009144,
    "foot": 0.0003048,
    "nautical_mile": 1.852,
}


@functools.cache
def km_per_unit(registry_unit: str) -> float:
    """Kilometres in one ``registry_unit`` (a value of :data:`DISTANCE_UNITS`)."""
    known = KM_PER_UNIT.get(registry_unit)
    if known is not None:
        return known
    ureg = registry()
    return float(ureg.Quantity(1.0, registry_unit).to("kilometer").magnitude)


def normalise_unit_spelling(text: str) -> str:
    """The lookup form of a distance-unit spelling: trimmed and case-folded."""
    return " ".join(text.split()).casefold()


def distance_unit_to_km(text: Any) -> float:
    """Kilometres per one of the distance unit ``text`` names, from the allowlist.

    Raises :class:`InputError` for anything else, saying whether pint would know the
    unit but it is not a length (``"kg"``) or the spelling is simply not accepted.
    """
    if not isinstance(text, str):
        raise InputError(
            f"distance unit must be text such as 'km', got {text!r}", status="bad_unit"
        )
    registry_unit = DISTANCE_UNITS.get(normalise_unit_spelling(text))
    if registry_unit is None:
        raise InputError(describe_bad_distance_unit(text), status="bad_unit")
    return km_per_unit(registry_unit)


def describe_bad_distance_unit(text: str) -> str:
    """A one-line reason why ``text`` is not an accepted distance unit."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    accepted = "km, m, mi, yd, ft, nmi (or 公里, 千米, 米)"
    if re.fullmatch(_UNIT_NAME, text.strip() or "-"):
        try:
            unit = registry().parse_units(text.strip())
        except Exception:  # any pint failure means "not a unit we know"
            unit = None
        if unit is not None and dict(unit.dimensionality) != {"[length]": 1}:
            return f"unit {shown!r} is not a length (it is {unit.dimensionality}); use {accepted}"
    return f"unknown distance unit {shown!r}; use {accepted}"
