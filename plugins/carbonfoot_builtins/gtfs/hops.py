"""The hops of a feed: consecutive stops of every trip, each with its length and method.

Each hop is measured the most precise way the feed allows, and says which:

0. ``gtfs-feed``: the difference of the two stops' ``stop_times.shape_dist_traveled``,
   the producer's own distance along the trip, converted from the producer's unit;
1. ``gtfs-shape``: the length of the trip's shape (shapes.txt) between the two stops'
   projections onto it (:mod:`.shapes`);
2. ``gtfs-hops``: the great circle between the two stops, the shortest possible path
   (never longer than the track, so never more than was travelled).

The GTFS reference leaves the unit of ``shape_dist_traveled`` to the producer (it must only
be the same in stop_times.txt and shapes.txt). Unless it is configured, it is detected:
the median, over hops of at least :data:`MIN_HOP_KM`, of the feed's distance over the
great circle is the unit's size in km times the line's circuity (>= 1 up to rounding). Of
km, m, mi and ft, the unit taken is the one that puts that median circuity in
:data:`CIRCUITY`; these four are at least 1.609 times apart and the range is narrower, so
at most one fits. When none
does (distances in yards, or not along the trip at all), the feed's distances are not
used, and the shape is. A hop whose feed distance is missing (or negative) is measured
along the shape; one whose feed distance is shorter than :data:`MIN_OF_GREAT_CIRCLE` of
its great circle (impossible along a track: the feed's figures or its stop positions are
wrong there) is taken as the great circle, the least it can be, not the shape's figure.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import frozen

from carbonfoot.distances.geo import great_circle_km
from carbonfoot.units import DISTANCE_UNITS, km_per_unit

from .feed import numbers
from .shapes import Shapes
from .stops import Stops

__all__ = ["CIRCUITY", "FEED", "HOPS", "SHAPE", "Hops", "detect_unit_km", "measure_hops"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

FEED, SHAPE, HOPS = 0, 1, 2

#: Units tried when the feed's distance unit is detected (yards and nautical miles are too
#: close to metres and kilometres to tell apart; configure them).
DETECTED_UNITS: Final = ("kilometer", "meter", "mile", "foot")
#: The median circuity (distance along the line over great circle, per hop) a unit must
#: give to be taken. A bound chosen: a hop between consecutive stops of a line is rarely
#: more than half again the straight line; 0.95 leaves room for rounding and stop offsets.
#: 1.5 / 0.95 = 1.58 is below 1.609, the closest ratio of two detected units (mi / km), so
#: no median fits two units.
CIRCUITY: Final = (0.95, 1.5)
#: Hops shorter than this are left out of the detection (rounding dominates them).
MIN_HOP_KM: Final = 0.05
#: A feed distance below this share of its hop's great circle is not taken for that hop.
MIN_OF_GREAT_CIRCLE: Final = 0.9


@frozen
class Hops:
    """Hop ``i`` goes from node ``origin[i]`` to ``target[i]``; ``km`` long by ``method``."""

    origin: IntArray
    target: IntArray
    km: FloatArray
    method: npt.NDArray[np.int8]
    #: Index into the trips table of each hop's trip.
    trip: IntArray


def parse_unit(raw: object) -> float | None:
    """Km per unit of a configured ``gtfs_distance_unit``; None for ``auto``."""
    text = " ".join(str(raw).split()).casefold()
    if text == "auto":
        return None
    unit = DISTANCE_UNITS.get(text)
    if unit is None:
        raise ValueError(f"'{raw}' is not 'auto' or a distance unit ({', '.join(DISTANCE_UNITS)})")
    return km_per_unit(unit)


def detect_unit_km(feed_units: FloatArray, great_circle: FloatArray) -> float | None:
    """Km per unit of the feed's distances, or None if no unit fits (see the module)."""
    usable = np.isfinite(feed_units) & (great_circle >= MIN_HOP_KM) & (feed_units > 0)
    if not usable.any():
        return None
    ratio = float(np.median(feed_units[usable] / great_circle[usable]))  # units per km
    for unit in DETECTED_UNITS:
        size = km_per_unit(unit)
        if CIRCUITY[0] <= ratio * size <= CIRCUITY[1]:
            return size
    return None


def measure_hops(
    stops: Stops,
    times: pa.Table,
    trip_shape: IntArray,
    shapes: Shapes | None,
    unit_km: float | None,
) -> Hops:
    """Every hop of ``times`` (stop_times.txt, rows with ``trip`` codes), measured."""
    trip = np.asarray(times.column("trip").to_numpy(), dtype=np.intp)
    row = stops.rows(times.column("stop_id"))
    sequence = numbers(times.column("stop_sequence"), "stop_times.txt holds a value that")
    keep = (trip >= 0) & (row >= 0) & np.isfinite(sequence)  # unknown stops are stepped over
    order = np.flatnonzero(keep)[np.lexsort((sequence[keep], trip[keep]))]
    trip, row = trip[order], row[order]
    feed_units = numbers(times.column("shape_dist_traveled"), "stop_times.txt holds a value that")[
        order
    ]
    node = stops.node[row]
    lat, lon = stops.lat[row], stops.lon[row]
    first = np.r_[True, trip[1:] != trip[:-1]] if trip.size else np.zeros(0, bool)
    along = _along_shapes(trip, first, lat, lon, trip_shape, shapes)
    hop = np.flatnonzero(~first[1:] & (node[1:] != node[:-1])) if trip.size else order[:0]
    start, end = hop, hop + 1
    straight = great_circle_km(lat[start], lon[start], lat[end], lon[end])
    given = feed_units[end] - feed_units[start]
    if unit_km is None:
        unit_km = detect_unit_km(given, straight)
    feed_km = given * unit_km if unit_km is not None else np.full(hop.size, np.nan)
    shape_km = along[end] - along[start]
    with np.errstate(invalid="ignore"):
        feed_given = np.isfinite(feed_km) & (feed_km >= 0)
        feed_ok = feed_given & (feed_km >= MIN_OF_GREAT_CIRCLE * straight)
        # A feed distance shorter than the straight line is wrong, and the shape (which
        # disagrees with it) is not taken over it either: the straight line, the least
        # the hop can be, is.
        shape_ok = ~feed_given & np.isfinite(shape_km) & (shape_km >= 0)
    method = np.where(feed_ok, FEED, np.where(shape_ok, SHAPE, HOPS)).astype(np.int8)
    km = np.where(feed_ok, feed_km, np.where(shape_ok, shape_km, straight))
    valid = np.isfinite(km)
    return Hops(
        origin=node[start][valid],
        target=node[end][valid],
        km=km[valid],
        method=method[valid],
        trip=trip[start][valid],
    )


def _along_shapes(
    trip: IntArray,
    first: npt.NDArray[np.bool_],
    lat: FloatArray,
    lon: FloatArray,
    trip_shape: IntArray,
    shapes: Shapes | None,
) -> FloatArray:
    """Km along its trip's shape of each stop time (NaN: no shape, or not projected).

    Trips that run the same stops on the same shape are projected once: a pattern is the
    shape and the stop positions, hashed per trip with whole-array operations.
    """
    along = np.full(trip.size, np.nan)
    if shapes is None or trip.size == 0:
        return along
    shape = trip_shape[trip]
    starts = np.flatnonzero(first)
    position = np.arange(trip.size) - np.repeat(starts, np.diff(np.r_[starts, trip.size]))
    mixed = (
        np.round(lat * 1e6).astype(np.int64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        ^ np.round(lon * 1e6).astype(np.int64).view(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
        ^ (position.astype(np.uint64) + np.uint64(1)) * np.uint64(0x165667B19E3779F9)
    )
    mixed ^= mixed >> np.uint64(29)
    mixed *= np.uint64(0xFF51AFD7ED558CCD)
    with np.errstate(over="ignore"):
        key = np.add.reduceat(mixed, starts) if starts.size else mixed[:0]
    lengths = np.diff(np.r_[starts, trip.size])
    patterns = np.stack([key.view(np.int64), shape[starts], lengths], axis=1)
    _, representative, pattern_of_trip = np.unique(
        patterns, axis=0, return_index=True, return_inverse=True
    )
    pattern_of_trip = pattern_of_trip.reshape(-1)
    values: list[FloatArray] = []
    for index in representative.tolist():  # per distinct pattern, not per trip
        begin, count = int(starts[index]), int(lengths[index])
        code = int(shape[begin])
        if code < 0:
            values.append(np.full(count, np.nan))
            continue
        values.append(shapes.project(code, lat[begin : begin + count], lon[begin : begin + count]))
    offsets = np.r_[0, np.cumsum([v.size for v in values])].astype(np.intp)
    flat = np.concatenate(values) if values else np.zeros(0)
    pattern = np.repeat(pattern_of_trip, lengths)
    along[:] = flat[offsets[pattern] + position]
    return along
