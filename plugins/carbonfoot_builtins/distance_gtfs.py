"""Built-in plugin: transit distances from entry and exit stops, along a GTFS network.

A district supplies its GTFS feed (``--gtfs PATH``, a zip or a folder; GTFS Schedule
reference, gtfs.org). Every hop between consecutive stops of every trip is measured the
most precise way the feed allows: the feed's own ``shape_dist_traveled`` (``gtfs-feed``),
else along the trip's shape in shapes.txt (``gtfs-shape``), else as a straight line
(``gtfs-hops``); a trip's distance is the shortest path between its two stops over those
hops and the transfer links between stations, and its ``distance_source`` the least
precise method that path needs. The machinery is in :mod:`carbonfoot_builtins.gtfs`.

Shortest paths are computed once per network and cached for the process, so a batch of a
million stop-pair trips costs one table lookup per trip.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from carbonfoot import (
    DistanceAnswer,
    DistanceProvider,
    DistanceRequest,
    Parameter,
    hookimpl,
)
from carbonfoot.parameters import parse_decimal

from .gtfs import Network, load_network, mode_of_route_type
from .gtfs.hops import parse_unit
from .gtfs.transfers import SAME_STATION_M

__all__ = ["PROVIDER", "Network", "load_network", "mode_of_route_type"]

#: ``distance_source`` labels, most precise first (the method codes of :mod:`.gtfs.hops`).
SOURCES = ("gtfs-feed", "gtfs-shape", "gtfs-hops")


def from_stops(request: DistanceRequest) -> DistanceAnswer:
    path = request.options.get("gtfs")
    size = len(request.columns["from_stop"])
    if path is None:
        return DistanceAnswer(
            np.full(size, np.nan), "from_stop/to_stop need a GTFS feed (--gtfs PATH)"
        )
    network = load_network(
        path,
        unit_km=request.options.get("gtfs_distance_unit"),
        count_walks=bool(request.options.get("gtfs_count_walks", False)),
        radius_m=float(request.options.get("gtfs_same_station_m", SAME_STATION_M)),
    )
    origins = network.nodes(request.columns["from_stop"])
    destinations = network.nodes(request.columns["to_stop"])
    codes = request.mode_codes
    if codes is None:  # a caller that names modes only
        names, codes = np.unique(request.mode_ids.astype(str), return_inverse=True)
    else:
        names = np.asarray((*request.modes.ids, ""), dtype=object)
        codes = np.where(codes < 0, len(request.modes.ids), codes)  # no mode: the last name
    present = np.flatnonzero(np.bincount(codes, minlength=1))
    if present.size == 1:  # one mode, as a metro-only batch: no per-mode split
        km, method = network.measured(str(names[present[0]]), origins, destinations)
    else:
        km = np.full(size, np.nan)
        method = np.zeros(size, dtype=np.int8)
        for code in present.tolist():  # per mode present, not per trip
            rows = np.flatnonzero(codes == code)
            km[rows], method[rows] = network.measured(
                str(names[code]), origins[rows], destinations[rows]
            )
    unknown = (origins < 0) | (destinations < 0)
    # Two reasons, so a dictionary column: no text per row.
    reasons = pa.DictionaryArray.from_arrays(
        pa.array(unknown.astype(np.int8)),
        pa.array(
            [
                "no path between from_stop and to_stop on this mode's network",
                "from_stop or to_stop is not a stop of the GTFS feed",
            ]
        ),
    )
    return DistanceAnswer(km, reasons, sources=method)


def _path(raw: Any) -> str:
    text = str(raw).strip()
    if not text:
        raise ValueError("give the path of a GTFS zip or folder")
    return text


def _flag(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().casefold()
    if text in {"true", "yes", "1"}:
        return True
    if text in {"false", "no", "0"}:
        return False
    raise ValueError(f"{raw!r} is not true or false")


def _radius(raw: Any) -> float:
    return float(parse_decimal(raw, minimum=parse_decimal(0)))


PROVIDER = DistanceProvider(
    id="gtfs",
    columns=("from_stop", "to_stop"),
    priority=10,
    description=(
        "shortest path between two stops along a GTFS feed's network: the feed's "
        "shape_dist_traveled, else along shapes.txt, else straight hops"
    ),
    derive=from_stops,
    sources=SOURCES,
    parameters=(
        Parameter("gtfs", "path of the GTFS feed, a zip or a folder (default: none)", _path),
        Parameter(
            "gtfs_distance_unit",
            "unit of the feed's shape_dist_traveled: a distance unit, or auto to detect it "
            "among km, m, mi and ft (default: auto)",
            parse_unit,
            default="auto",
        ),
        Parameter(
            "gtfs_count_walks",
            "count the walking length of a transfer between stations in the trip's distance "
            "(default: false, only the distance ridden counts)",
            _flag,
            default=False,
        ),
        Parameter(
            "gtfs_same_station_m",
            "where the feed has no transfers.txt, stations of one name within this many "
            f"metres are linked as platforms of one station (default: {SAME_STATION_M:g})",
            _radius,
            default=SAME_STATION_M,
        ),
    ),
)


@hookimpl
def register_distance_providers(register):  # type: ignore[no-untyped-def]
    register(PROVIDER)
