"""Distance providers: distances for trips that arrive without one.

A provider is contributed by a plugin (``register_distance_providers``) and derives
kilometres from other columns of the trip: a step count, start and end coordinates, a
polyline, a pair of transit stops. Providers are tried in ``priority`` order on the rows
whose ``distance`` is empty and that carry the provider's columns; each returns a whole
array (no per-trip call), NaN where it cannot derive a distance, with a reason. The
output column ``distance_source`` names how each distance was obtained: ``reported`` for
one given in the ``distance`` column, else one of the labels of the provider that derived
it (a provider with several methods, such as GTFS along shapes or straight hops, labels
each row with the method it used).

What a provider author needs besides the types below is here too:
:mod:`carbonfoot.distances.geo` (great circles, GeoJSON and encoded polylines),
:class:`TextLookup` (codes of a text column, such as stop ids, by one hash probe per row)
and :func:`decimal_numbers` (a text column read with the engine's number grammar).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import field, frozen, validators

from carbonfoot._kernels.lookup import TextLookup
from carbonfoot._kernels.strings import decimal_numbers
from carbonfoot.distances import geo
from carbonfoot.errors import InputError
from carbonfoot.modes import ModeTable
from carbonfoot.parameters import Parameter, resolve_parameters

__all__ = [
    "REPORTED",
    "DistanceAnswer",
    "DistanceProvider",
    "DistanceRequest",
    "TextLookup",
    "decimal_numbers",
    "geo",
    "resolve_options",
    "source_names",
]

#: ``distance_source`` of a distance given in the ``distance`` column.
REPORTED = "reported"


@frozen
class DistanceRequest:
    """What a provider gets: its columns for the rows to derive, their modes, options.

    ``columns`` holds the provider's columns, one entry per requested row; ``mode_ids``
    the resolved mode id of each row (``mode_codes``: the same as indices into ``modes``);
    ``options`` every provider option, parsed.
    """

    columns: Mapping[str, pa.Array]
    mode_ids: npt.NDArray[np.object_]
    modes: ModeTable
    options: Mapping[str, Any]
    #: Each row's mode as an index into ``modes`` (for grouping rows by mode cheaply).
    mode_codes: npt.NDArray[np.int32] | None = None


@frozen
class DistanceAnswer:
    """Kilometres per requested row (NaN where not derived) and, for those, why not."""

    km: npt.NDArray[np.float64]
    reasons: pa.Array | str = "could not be derived"
    #: Per row, which of the provider's ``labels`` produced the distance (None: the first).
    sources: npt.NDArray[np.int8] | None = None


@frozen
class DistanceProvider:
    """What a distance-provider plugin registers.

    ``id`` is the value of ``distance_source`` for distances it produces; ``columns`` the
    input columns it needs (a row qualifies when the first of them is not empty);
    ``priority`` orders providers (lower first: the more precise); ``parameters`` its
    documented options with defaults; ``derive`` the vectorized function. ``sources``
    lists the ``distance_source`` labels of a provider with several methods (its answer's
    ``sources`` says which one each row used); when empty, the label is ``id``.
    """

    id: str = field(validator=validators.matches_re(r"^[a-z][a-z0-9_-]*$"))
    columns: tuple[str, ...] = field(validator=validators.min_len(1))
    priority: int
    description: str = field(validator=validators.min_len(1))
    derive: Callable[[DistanceRequest], DistanceAnswer]
    parameters: tuple[Parameter, ...] = ()
    sources: tuple[str, ...] = field(
        default=(), validator=validators.deep_iterable(validators.matches_re(r"^[a-z][a-z0-9_-]*$"))
    )

    @property
    def labels(self) -> tuple[str, ...]:
        """The ``distance_source`` values this provider can give."""
        return self.sources or (self.id,)


def source_names(providers: Sequence[DistanceProvider]) -> tuple[str, ...]:
    """Every ``distance_source`` label, in code order: ``reported``, then each provider's
    (a label two providers share is listed once, where it first appears)."""
    labels = (REPORTED, *(label for provider in providers for label in provider.labels))
    return tuple(dict.fromkeys(labels))


def resolve_options(
    providers: Sequence[DistanceProvider], given: Mapping[str, Any]
) -> dict[str, Any]:
    """Every provider option: defaults overlaid with ``given``, parsed; unknown names refused."""
    return resolve_parameters(
        (parameter for provider in providers for parameter in provider.parameters),
        given,
        owner="",
        error=InputError,
        noun="distance option",
    )
