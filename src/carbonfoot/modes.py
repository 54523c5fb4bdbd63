"""Transport modes: the values plugins register, and the table that resolves labels to codes.

A :class:`Mode` says what a trip *is* (walk, metro, water bus...). It names the factor
a factor set must provide for it; how that factor becomes grams per passenger-km
(directly, per vehicle-km divided by occupancy, or energy per km times the grid's
carbon intensity) is stated by the factor set, next to the published numbers it uses,
because the same mode is published differently by different publishers (DESNZ gives
bus per passenger-km; a Nanjing set derives it from electricity use).

Inside the engine a mode is an integer code: its position in :class:`ModeTable`.
Trip labels (ids and aliases, in any case, ``_`` or space for ``-``) resolve to codes
once per distinct label, never once per trip.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import field, frozen, validators

from carbonfoot._kernels.lookup import TextLookup
from carbonfoot._kernels.strings import fold_name
from carbonfoot.errors import UnknownModeError, did_you_mean, unknown_message

__all__ = ["CATEGORIES", "UNKNOWN_MODE", "Mode", "ModeTable", "SpeedRange", "normalise_label"]

#: The categories a mode belongs to, which summaries group by and policies select by
#: (``eligible=active,public``): walking and cycling, shared micromobility (e-bikes and
#: e-scooters), public transport, shared rides (carpools, taxis), private vehicles, and
#: anything else.
CATEGORIES: Final = ("active", "micromobility", "public", "shared", "private", "other")

#: The code given to a label that resolves to no mode.
UNKNOWN_MODE: Final = -1

_MODE_ID = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def normalise_label(label: str) -> str:
    """The lookup form of a mode label (:func:`carbonfoot._kernels.strings.fold_name`):
    width-folded, trimmed, case-folded, ``_`` and spaces as ``-``."""
    return fold_name(label)


def _check_mode_id(_instance: object, _attribute: object, value: str) -> None:
    if not _MODE_ID.match(value):
        raise ValueError(
            f"mode id {value!r} must be lowercase letters and digits joined by '-', "
            "e.g. 'water-bus'"
        )


def _check_category(_instance: object, _attribute: object, value: str) -> None:
    if value not in CATEGORIES:
        raise ValueError(unknown_message("mode category", value, CATEGORIES, known_as="categories"))


def _check_aliases(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    for alias in value:
        if not isinstance(alias, str) or not normalise_label(alias):
            raise ValueError(f"alias {alias!r} must be non-empty text")


@frozen
class SpeedRange:
    """The plausible door-to-door speed of a mode, in km/h, and why these bounds.

    Used by plausibility checks to flag trips that are too fast or too slow for their
    mode. ``basis`` says where the bounds come from (a regulation, a study, or an
    operator's threshold), because a bound is a number like any other.
    """

    min_kmh: float = field(validator=validators.ge(0.0))
    max_kmh: float = field()
    basis: str = field(validator=validators.min_len(1))

    @max_kmh.validator
    def _check_max(self, _attribute: object, value: float) -> None:
        if not (math.isfinite(value) and value > self.min_kmh):
            raise ValueError(f"max_kmh {value} must be finite and above min_kmh {self.min_kmh}")


def _to_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@frozen
class Mode:
    """A way of travelling that trips can be recorded as.

    ``id`` is the stable name in data and results (``"metro"``); ``aliases`` are other
    labels trip data may use for it, such as the Chinese ``"地铁"``; ``factor`` is the
    key of the factor a factor set provides for it (default: the id); ``category`` groups
    modes in summaries (``active``, ``micromobility``, ``public``, ``shared``,
    ``private``); ``speed`` is its plausible speed range; ``max_trip_km`` and
    ``max_daily_km`` (optional) bound one trip, and one user's day, by this mode.
    """

    id: str = field(validator=_check_mode_id)
    label: str = field(validator=validators.min_len(1))
    speed: SpeedRange = field(validator=validators.instance_of(SpeedRange))
    aliases: tuple[str, ...] = field(default=(), converter=_to_tuple, validator=_check_aliases)
    factor: str = field(default="")
    category: str = field(default="other", validator=_check_category)
    description: str = ""
    max_trip_km: float | None = field(
        default=None, validator=validators.optional(validators.gt(0.0))
    )
    max_daily_km: float | None = field(
        default=None, validator=validators.optional(validators.gt(0.0))
    )

    @property
    def factor_key(self) -> str:
        """The factor-set key this mode's emission factor is found under."""
        return self.factor or self.id


class ModeTable:
    """All registered modes in a fixed order; a mode's code is its index here.

    Built once from the plugins' registrations. Resolving labels is a dictionary
    lookup per distinct label.
    """

    def __init__(self, modes: Iterable[Mode], owners: Mapping[str, str] | None = None) -> None:
        self.modes: tuple[Mode, ...] = tuple(modes)
        self.owners: dict[str, str] = dict(owners or {})
        self._code_by_label: dict[str, int] = {}
        for code, mode in enumerate(self.modes):
            for label in (mode.id, *mode.aliases):
                key = normalise_label(label)
                other = self._code_by_label.get(key)
                if other is not None and other != code:
                    raise ValueError(
                        f"label {label!r} of mode {mode.id!r} already names mode "
                        f"{self.modes[other].id!r}"
                    )
                self._code_by_label[key] = code
        self.ids: tuple[str, ...] = tuple(mode.id for mode in self.modes)
        self._lookup: TextLookup | None = None

    def __len__(self) -> int:
        return len(self.modes)

    def __iter__(self) -> Iterator[Mode]:
        return iter(self.modes)

    def code_of(self, label: str) -> int:
        """The code of a mode id or alias, or :data:`UNKNOWN_MODE`."""
        return self._code_by_label.get(normalise_label(label), UNKNOWN_MODE)

    def get(self, label: str) -> Mode:
        """The mode a label names; :class:`UnknownModeError` listing the known ids if none."""
        code = self.code_of(label)
        if code == UNKNOWN_MODE:
            raise UnknownModeError(
                unknown_message(
                    "mode", label, self.ids, known_as="installed modes", aliases=self.aliases
                )
            )
        return self.modes[code]

    def suggest(self, label: str) -> list[str]:
        """Mode ids a mistyped ``label`` may have meant (closest first; none if none is close)."""
        return did_you_mean(label, self.ids, self.aliases)

    @property
    def aliases(self) -> dict[str, str]:
        """Every alias and its mode id (for suggestions)."""
        return {alias: mode.id for mode in self.modes for alias in mode.aliases}

    def codes(self, labels: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int32]:
        """The code of each label of a text column (:data:`UNKNOWN_MODE` if none or null).

        Labels already in lookup form (``walk``, ``地铁``) are found by one hash probe per
        row; only the others are normalised, once per distinct label.
        """
        if self._lookup is None:
            self._lookup = TextLookup(self._code_by_label, self.code_of, UNKNOWN_MODE)
        return self._lookup(labels)

    def codes_of(self, labels: Iterable[str | None]) -> list[int]:
        """Codes for a sequence of distinct labels (``None`` gives :data:`UNKNOWN_MODE`)."""
        return [UNKNOWN_MODE if label is None else self.code_of(label) for label in labels]
