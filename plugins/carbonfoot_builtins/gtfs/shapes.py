"""Distances along a trip's shape: stops projected onto shapes.txt, measured along it.

A shape is the path a vehicle follows (shapes.txt: points in ``shape_pt_sequence`` order).
Each stop of a trip is projected onto the nearest segment of its trip's shape, in order:
a stop is placed on the first segment, at or after the previous stop's, that is within
:data:`TIE_M` of the nearest of those segments, so a shape that passes a stop twice (a
loop, a street served in both directions) puts it on the pass the trip is at. The distance
between two stops is the length of the shape between their projections, summed from
great circles between consecutive shape points (the spherical model of
:mod:`carbonfoot.distances.geo`); the projection itself is planar (equirectangular about
the shape's mean latitude), which is exact to well under a metre over a segment.

A stop farther than :data:`MAX_OFF_SHAPE_M` from its shape is not projected (the shape is
for another path, or the stop is misplaced); hops touching it fall back to straight lines.

Work is per distinct stop pattern of a shape (many trips run the same stops on the same
shape), never per trip.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot.distances.geo import EARTH_RADIUS_KM, great_circle_km

__all__ = ["MAX_OFF_SHAPE_M", "TIE_M", "Shapes"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

#: A stop farther than this from its trip's shape is not projected onto it. Source: the
#: MobilityData GTFS Schedule validator reports a stop over 100 m from its trip's shape
#: (notice ``stop_too_far_from_shape``) as an error of the feed.
MAX_OFF_SHAPE_M: Final = 100.0
#: Segments within this of the nearest count as tied, and the earliest is taken (a bound
#: chosen, no source: stop positions in feeds are good to some metres, a loop's two
#: passes are usually farther apart than this).
TIE_M: Final = 25.0


class Shapes:
    """The points of every shape of a feed, grouped by shape, with distance along each."""

    def __init__(self, table: pa.Table) -> None:
        ids = pc.utf8_trim_whitespace(table.column("shape_id"))
        encoded = ids.combine_chunks().dictionary_encode()
        code = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.intp)
        lat = _floats(table.column("shape_pt_lat"))
        lon = _floats(table.column("shape_pt_lon"))
        sequence = _floats(table.column("shape_pt_sequence"))
        keep = np.isfinite(lat) & np.isfinite(lon) & np.isfinite(sequence)
        order = np.lexsort((sequence[keep], code[keep]))
        rows = np.flatnonzero(keep)[order]
        self.ids = encoded.dictionary
        self.code, self.lat, self.lon = code[rows], lat[rows], lon[rows]
        starts = np.r_[0, np.flatnonzero(np.diff(self.code)) + 1] if rows.size else np.zeros(0)
        self.start = np.full(len(self.ids) + 1, rows.size, dtype=np.intp)
        self.start[self.code[starts.astype(np.intp)]] = starts.astype(np.intp)
        # A shape absent from the points keeps start == its successor's: no points.
        for index in range(len(self.ids) - 1, -1, -1):
            self.start[index] = min(self.start[index], self.start[index + 1])
        step = great_circle_km(self.lat[:-1], self.lon[:-1], self.lat[1:], self.lon[1:])
        step[self.code[1:] != self.code[:-1]] = 0.0
        self.along = np.r_[0.0, np.cumsum(step)]  # km from the feed's first point

    def codes(self, shape_ids: pa.Array | pa.ChunkedArray) -> IntArray:
        """Shape code of each id, -1 where there is none or no such shape."""
        found = pc.index_in(pc.utf8_trim_whitespace(shape_ids), value_set=self.ids)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)

    def project(self, shape: int, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Km along ``shape`` of each stop of one pattern, in order (NaN: not projected)."""
        first, last = int(self.start[shape]), int(self.start[shape + 1])
        if last - first < 2:
            return np.full(lat.size, np.nan)
        plat, plon = self.lat[first:last], self.lon[first:last]
        scale = np.cos(np.radians(plat.mean()))
        metres = EARTH_RADIUS_KM * 1000.0 * np.pi / 180.0
        px, py = plon * scale * metres, plat * metres
        sx, sy = lon * scale * metres, lat * metres
        ax, ay = px[:-1], py[:-1]
        dx, dy = px[1:] - ax, py[1:] - ay
        length2 = np.maximum(dx * dx + dy * dy, 1e-12)
        # Stops x segments: where on each segment the stop projects, and how far it is.
        t = np.clip(((sx[:, None] - ax) * dx + (sy[:, None] - ay) * dy) / length2, 0.0, 1.0)
        off = np.hypot(ax + t * dx - sx[:, None], ay + t * dy - sy[:, None])
        along_points = self.along[first:last] - self.along[first]
        along = along_points[:-1] + t * (along_points[1:] - along_points[:-1])
        result = np.full(lat.size, np.nan)
        floor_segment, floor_km = 0, 0.0
        for stop in range(lat.size):  # per stop of a distinct pattern, not per trip
            row_off = off[stop, floor_segment:]
            allowed = along[stop, floor_segment:] >= floor_km
            if not allowed.any():
                continue
            candidates = np.where(allowed, row_off, np.inf)
            nearest = float(candidates.min())
            if nearest > MAX_OFF_SHAPE_M:
                continue
            chosen = floor_segment + int(np.argmax(candidates <= nearest + TIE_M))
            floor_segment, floor_km = chosen, float(along[stop, chosen])
            result[stop] = floor_km
        return result


def _floats(column: pa.ChunkedArray) -> FloatArray:
    text = pc.utf8_trim_whitespace(column)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
