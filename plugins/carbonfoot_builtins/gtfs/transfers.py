"""Transfers: the walking links between stations where a rider changes line.

Where the feed has ``transfers.txt``, each of its rows with a ``transfer_type`` other than
3 (transfers not possible) and 5 (must stay on board; GTFS Schedule reference) links the
two stops' stations, in the direction given. Where the feed has none, stations of the same
name (trimmed, lower-cased) within :data:`SAME_STATION_M` of each other are taken for
platforms of one station and linked both ways (metro feeds often publish each line's
platforms as separate stops without a parent, so no trip could change line).

A link is as long as the great circle between the two stops if walking is counted
(``gtfs_count_walks``), else 0 km: by default a trip's distance is the distance ridden,
and a walk between platforms earns as a walk only if the rider reports it as one.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from carbonfoot.distances.geo import great_circle_km

from .feed import Feed
from .stops import Stops

__all__ = ["SAME_STATION_M", "transfer_links"]

IntArray = npt.NDArray[np.intp]
FloatArray = npt.NDArray[np.float64]

#: Stations of one name within this distance are linked when the feed has no
#: transfers.txt. A bound chosen, no published standard: about five minutes on foot at the
#: 3.5 ft/s (1.07 m/s) walking speed the US Manual on Uniform Traffic Control Devices
#: (FHWA, 2009 edition, section 4E.06) assumes for pedestrian clearance times; it spans
#: the interchange passages of large metro stations, and stays short of the next stop of
#: a bus line (typically 300-500 m apart), so two stops of a line are not merged.
SAME_STATION_M: Final = 300.0


def transfer_links(
    feed: Feed, stops: Stops, *, count_walks: bool, radius_m: float = SAME_STATION_M
) -> tuple[IntArray, IntArray, FloatArray]:
    """Origin node, target node and km of every transfer link (self links left out)."""
    if feed.has("transfers.txt"):
        table = feed.table(
            "transfers.txt",
            ["from_stop_id", "to_stop_id", "transfer_type"],
            required=("from_stop_id", "to_stop_id"),
        )
        kind = pc.utf8_trim_whitespace(table.column("transfer_type").fill_null(""))
        possible = np.asarray(
            pc.invert(pc.is_in(kind, value_set=pc.cast(["3", "5"], "string"))).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
        start = stops.rows(table.column("from_stop_id"))
        end = stops.rows(table.column("to_stop_id"))
        keep = possible & (start >= 0) & (end >= 0)
        start, end = start[keep], end[keep]
    else:
        start, end = _same_name_pairs(stops, radius_m)
    origin, target = stops.node[start], stops.node[end]
    walk = great_circle_km(stops.lat[start], stops.lon[start], stops.lat[end], stops.lon[end])
    km = walk if count_walks else np.zeros(walk.size)
    keep = (origin != target) & np.isfinite(km)
    return origin[keep], target[keep], km[keep]


def _same_name_pairs(stops: Stops, radius_m: float) -> tuple[IntArray, IntArray]:
    """Rows of stations (own-node rows) sharing a name and within ``radius_m``, both ways."""
    rows = stops.station_row
    encoded = stops.names.take(rows).dictionary_encode()
    code = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
    named = np.asarray(
        pc.not_equal(encoded.dictionary, "").to_numpy(zero_copy_only=False), dtype=bool
    )[code]
    rows, code = rows[named], code[named]
    order = np.argsort(code, kind="stable")
    rows, code = rows[order], code[order]
    starts = np.r_[0, np.flatnonzero(np.diff(code)) + 1] if code.size else np.zeros(0, np.intp)
    sizes = np.diff(np.r_[starts, code.size])
    shared = sizes > 1
    if not shared.any():
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    # Every ordered pair within each group of one name: groups are a few platforms each.
    group_start, group_size = starts[shared], sizes[shared]
    left = np.repeat(np.arange(group_size.size), group_size * group_size)
    within = np.arange(left.size) - np.repeat(
        np.cumsum(group_size * group_size) - group_size * group_size, group_size * group_size
    )
    size_of_pair = group_size[left]
    first = group_start[left] + within // size_of_pair
    second = group_start[left] + within % size_of_pair
    a, b = rows[first], rows[second]
    near = (first != second) & (
        great_circle_km(stops.lat[a], stops.lon[a], stops.lat[b], stops.lon[b]) * 1000.0 <= radius_m
    )
    return a[near], b[near]
