"""The one exception hierarchy of carbonfoot.

Every error the library raises on purpose is a :class:`CarbonfootError`. Where an
error refines a builtin (a missing key, a wrong type, a bad value) it is also that
builtin, so callers may catch either: ``UnknownModeError`` is a ``KeyError``,
``UnitMismatchError`` a ``TypeError``. Messages say what is wrong, where (file and
key, row and column, plugin name) and, where it helps, what would fix it.

Bad rows inside a batch are not exceptions: they come back as data, with a status.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "BaselineError",
    "CarbonfootError",
    "FactorError",
    "InputError",
    "InsufficientBalanceError",
    "LedgerError",
    "PluginError",
    "PolicyError",
    "RequestConflictError",
    "TripConflictError",
    "UnitMismatchError",
    "UnknownFactorSetError",
    "UnknownModeError",
    "UnknownPolicyError",
    "UnknownTripError",
    "did_you_mean",
    "unknown_message",
]


class CarbonfootError(Exception):
    """Base class of every error carbonfoot raises on purpose.

    Errors cross process boundaries (Dask workers, a service's worker processes), so each
    pickles with its fields (``status``, ``plugin``, ``conflicts``...): :meth:`__reduce__`
    rebuilds it from its message and its attributes, without calling ``__init__``, whose
    keyword-only fields a plain exception pickle would lose.
    """

    def __str__(self) -> str:
        # KeyError would otherwise print the repr of its argument, quotes and all.
        return str(self.args[0]) if self.args else ""

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(
    kind: type[CarbonfootError], args: tuple[Any, ...], fields: dict[str, Any]
) -> CarbonfootError:
    """An error of ``kind`` with these ``args`` and fields (the inverse of ``__reduce__``)."""
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    error.__dict__.update(fields)
    return error


def did_you_mean(
    name: str, known: Iterable[str], aliases: Mapping[str, str] | None = None
) -> list[str]:
    """The known names closest to ``name`` (at most three, closest first), compared
    case-insensitively with :func:`difflib.get_close_matches` at its default cutoff (0.6),
    keeping those within 0.1 of the closest one's similarity.

    ``aliases`` maps other spellings to the name they stand for (``"bicycle"`` to
    ``"bike"``): a label close to an alias suggests the name it stands for.
    """
    targets: dict[str, str] = {str(choice).casefold(): str(choice) for choice in known}
    for alias, target in (aliases or {}).items():
        targets.setdefault(str(alias).casefold(), str(target))
    wanted = str(name).casefold()
    closest = difflib.get_close_matches(wanted, list(targets), n=6)
    if not closest:
        return []
    # Guesses about as close as the closest only: 'policy.param' names 'policy.params',
    # not also 'policy.id'.
    best = difflib.SequenceMatcher(None, wanted, closest[0]).ratio()
    found: list[str] = []
    for close in closest:
        near = difflib.SequenceMatcher(None, wanted, close).ratio() >= best - 0.1
        if near and targets[close] not in found:
            found.append(targets[close])
    return found[:3]


def unknown_message(
    kind: str,
    name: str,
    known: Iterable[str],
    *,
    known_as: str = "installed",
    aliases: Mapping[str, str] | None = None,
) -> str:
    """The one shape of "no such thing" messages: ``unknown mode 'metor' (did you mean
    'metro'?); installed: bus, metro, walk`` (the guesses only where some are close; an
    alias close to ``name`` suggests the name it stands for)."""
    choices = list(known)
    close = did_you_mean(name, choices, aliases)
    guess = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
    return f"unknown {kind} {name!r}{guess}; {known_as}: {', '.join(choices) or 'none'}"


class FactorError(CarbonfootError, ValueError):
    """A factor set is invalid: bad unit, wrong dimension, bad value, missing provenance."""


class UnitMismatchError(FactorError, TypeError):
    """A quantity has the wrong physical dimension for where it is used."""


class UnknownFactorSetError(CarbonfootError, KeyError):
    """No installed plugin provides a factor set by that name."""


class InputError(CarbonfootError, ValueError):
    """Trip input that cannot be processed: a missing column, an unreadable file, a bad trip.

    ``status`` is the batch status code the same problem gives a row (``bad_unit``...),
    where there is one.
    """

    def __init__(self, message: str, *, status: str = "") -> None:
        super().__init__(message)
        self.status = status


class UnknownModeError(CarbonfootError, KeyError):
    """A mode id or alias that no installed plugin registers."""


class PluginError(CarbonfootError):
    """A plugin failed to import, broke its hook specification, or registered something invalid."""

    def __init__(self, message: str, *, plugin: str = "", distribution: str = "") -> None:
        super().__init__(message)
        self.plugin = plugin
        self.distribution = distribution


class PolicyError(CarbonfootError, ValueError):
    """A credit policy is unknown or was given invalid parameters."""


class UnknownPolicyError(PolicyError, KeyError):
    """No installed plugin provides a credit policy by that name."""


class BaselineError(CarbonfootError, ValueError):
    """A baseline methodology was given invalid parameters or cannot be built."""


class LedgerError(CarbonfootError):
    """The credit ledger refused an operation."""


class TripConflictError(LedgerError):
    """A trip id already credited with other content (mode, distance, time, factors...).

    ``conflicts`` lists ``(trip_id, fields)`` for every conflicting trip; nothing of the
    conflicting chunk was written.
    """

    def __init__(self, message: str, conflicts: list[tuple[str, tuple[str, ...]]]) -> None:
        super().__init__(message)
        self.conflicts = conflicts


class UnknownTripError(LedgerError, KeyError):
    """A trip the ledger holds no credit for (e.g. asked to reverse it)."""


class InsufficientBalanceError(LedgerError):
    """A redemption (or reversal) larger than the user's balance; nothing was written."""


class RequestConflictError(LedgerError):
    """A redemption request id reused with another user, amount or item."""
