"""Documented parameters of plugins: one type, one resolver, one set of parsers.

Credit policies, baseline methodologies and distance providers all take settings from a
command line or a config file (``--policy-param daily_cap=200``). Each declares them as
:class:`Parameter` values (name, meaning, parser, default); :func:`resolve_parameters`
overlays what was given on the defaults, parses each value, and refuses unknown names, so
a mistyped setting is an error, never silently ignored. The parsers below are the ones
the built-in plugins use; a plugin author may use them or write their own (a parser takes
the raw value, text or a TOML value, and returns the parsed one or raises ``ValueError``).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from attrs import field, frozen, validators

from carbonfoot.errors import CarbonfootError, did_you_mean

T = TypeVar("T")

__all__ = [
    "UNLIMITED",
    "ModeSelection",
    "Parameter",
    "Unlimited",
    "format_param",
    "parse_cap",
    "parse_decimal",
    "parse_int",
    "parse_modes",
    "parse_timezone",
    "resolve_parameters",
]


@frozen
class Parameter:
    """One documented parameter: name, meaning, parser, and default."""

    name: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9_]*$"))
    description: str = field(validator=validators.min_len(1))
    parse: Callable[[Any], Any]
    default: Any = None


def resolve_parameters(
    parameters: Iterable[Parameter],
    given: Mapping[str, Any],
    *,
    owner: str,
    error: type[CarbonfootError],
    noun: str = "parameter",
) -> dict[str, Any]:
    """Every parameter's value: defaults overlaid with ``given``, each parsed.

    An unknown name or a value its parser refuses raises ``error`` naming ``owner`` (e.g.
    ``"policy 'green-credit'"``) and the parameter. Options pooled from several plugins
    (the distance providers') have no single owner: pass ``owner=""``.
    """
    known = {parameter.name: parameter for parameter in parameters}
    unknown = sorted(set(given) - set(known))
    if unknown:
        names = ", ".join(map(repr, unknown))
        listed = ", ".join(sorted(known) if not owner else known) or "none"
        guesses = [guess for name in unknown for guess in did_you_mean(name, known)]
        guess = f" (did you mean {', '.join(map(repr, guesses))}?)" if guesses else ""
        if owner:
            raise error(f"{owner} has no {noun} {names}{guess}; its {noun}s: {listed}")
        raise error(f"unknown {noun}(s) {names}{guess}; known: {listed}")
    resolved: dict[str, Any] = {}
    for name, parameter in known.items():
        raw = given.get(name, parameter.default)
        try:
            resolved[name] = None if raw is None else parameter.parse(raw)
        except (ValueError, TypeError, ArithmeticError) as exc:
            where = f"{owner}, {noun} {name!r}" if owner else f"{noun} {name!r}"
            raise error(f"{where}: {exc}") from None
    return resolved


def parse_decimal(
    raw: Any, *, minimum: Decimal | None = None, places: int | None = None
) -> Decimal:
    """An exact decimal from text or a number; floats go through their shortest repr."""
    if isinstance(raw, bool):
        raise ValueError(f"expected a number, got {raw!r}")
    try:
        value = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{raw!r} is not finite")
    if minimum is not None and value < minimum:
        raise ValueError(f"{value} is below the minimum {minimum}")
    exponent = value.as_tuple().exponent
    if places is not None and isinstance(exponent, int) and -exponent > places:
        raise ValueError(f"{value} has more than {places} decimal places")
    return value


def parse_int(raw: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number from text or an int, within bounds."""
    if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
        raise ValueError(f"expected a whole number, got {raw!r}")
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int | float) else int(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a whole number") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{value} must be {bound}")
    return value


class ModeSelection(frozenset[str]):
    """Mode ids and categories (or ``all``) a parameter selects, e.g. which trips earn.

    The engine checks every such parameter of its policy against the installed modes and
    their categories, so a typo (``eligible=publik``) is an error, not a programme that
    pays nobody.
    """


def parse_modes(raw: Any) -> ModeSelection:
    """``"all"`` or a comma list of mode ids and categories."""
    names = ModeSelection(part.strip() for part in str(raw).split(",") if part.strip())
    if not names:
        raise ValueError(
            "give 'all' or a comma list of mode ids and categories, e.g. 'active,public'"
        )
    return names


class Unlimited:
    """The value of a cap that was explicitly lifted (``daily_cap = "unlimited"``).

    Distinct from an unset cap (``None``): a ledger issues credits without a cap only when
    the settings say ``unlimited``, never because a cap was left out.
    """

    _instance: Unlimited | None = None

    def __new__(cls) -> Unlimited:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNLIMITED"

    def __str__(self) -> str:
        return "unlimited"

    def __reduce__(self) -> str:
        return "UNLIMITED"


#: The one :class:`Unlimited` value.
UNLIMITED: Final = Unlimited()


def parse_cap(parse_value: Callable[[Any], T]) -> Callable[[Any], T | Unlimited | None]:
    """A cap's parser: ``parse_value`` for a number, ``"unlimited"`` for
    :data:`UNLIMITED`, empty or ``"none"`` for an unset cap (``None``)."""

    def parse(raw: Any) -> T | Unlimited | None:
        text = str(raw).strip().lower()
        if text in ("", "none"):
            return None
        if text == "unlimited":
            return UNLIMITED
        return parse_value(raw)

    return parse


def parse_timezone(raw: Any) -> str:
    """An IANA time-zone name that this machine's tz database knows."""
    name = str(raw).strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like 'Asia/Shanghai'"
        ) from None
    return name


def format_param(value: Any) -> str:
    """A parameter value as text for results and summaries: none, a list, a number."""
    if value is None:
        return "none"
    if isinstance(value, frozenset | set | tuple | list):
        return ",".join(sorted(str(item) for item in value))
    return str(value)
