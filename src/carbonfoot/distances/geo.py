"""Distances on the Earth, vectorized: great circles, polylines, encoded polylines.

The Earth is a sphere of radius 6,371.0088 km, the IUGG mean radius R1 of the GRS 80
ellipsoid (Moritz, "Geodetic Reference System 1980", Journal of Geodesy 74:128, 2000).
A great-circle distance is the shortest possible path between two points, so it never
overstates a trip; the error of the spherical model against the ellipsoid is below 0.5%.

Polylines come as text in one of two forms, told apart by their first character:

* GeoJSON (RFC 7946: longitude first): LineString coordinates ``[[lon, lat, ele], ...]``
  (positions of two or more numbers, only the first two used: lengths are 2-D), line
  geometries, Features and FeatureCollections (:mod:`carbonfoot.distances.geojson`);
* Google's encoded polyline algorithm format (``"_p~iF~ps|U_ulLnnqC"``: latitude first,
  1e-5 degrees), decoded for all trips at once with numpy on the characters.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot.distances.geojson import parse_geojson

__all__ = [
    "EARTH_RADIUS_KM",
    "Polylines",
    "great_circle_km",
    "parse_polylines",
    "polyline_km",
]

#: IUGG mean Earth radius R1 = (2a + b) / 3 of GRS 80 (Moritz 2000), in km.
EARTH_RADIUS_KM: Final = 6371.0088

FloatArray = npt.NDArray[np.float64]


def great_circle_km(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Haversine distance in km between points given in degrees (NaN in, NaN out)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2
    half_dlambda = np.radians(lon2 - lon1) / 2
    a = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    return np.asarray(
        2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64
    )


def valid_coordinates(lat: FloatArray, lon: FloatArray) -> npt.NDArray[np.bool_]:
    """Finite latitudes in [-90, 90] and longitudes in [-180, 180]."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)


class Polylines:
    """Points of many polylines, flattened: ``lat``, ``lon``, ``owner`` (row index) and
    ``line`` (which of the row's lines a point is on: hops are measured within a line).

    ``valid`` marks rows whose text parsed into lines of at least two points each, all
    inside the coordinate ranges; ``reasons`` says for each other row why not (None where
    valid, or where only the generic reason is known).
    """

    def __init__(
        self,
        lat: FloatArray,
        lon: FloatArray,
        owner: npt.NDArray[np.int64],
        valid: npt.NDArray[np.bool_],
        line: npt.NDArray[np.int64] | None = None,
        reasons: npt.NDArray[np.object_] | None = None,
    ):
        self.lat = lat
        self.lon = lon
        self.owner = owner
        self.valid = valid
        self.line = owner if line is None else line
        self.reasons = np.full(valid.size, None, dtype=object) if reasons is None else reasons


#: Characters of Google's encoded polylines: ``?`` (63) to ``~`` (126). A text with any
#: other character (a digit, a comma, a space, a quote) cannot be one.
_NOT_ENCODED: Final = r"[^?-~]"
_OUT_OF_RANGE: Final = (
    "has a position outside longitude -180..180 or latitude -90..90 (GeoJSON gives longitude first)"
)


def parse_polylines(text: pa.Array) -> Polylines:
    """Parse a column of polylines (GeoJSON or encoded); invalid rows flagged with a reason.

    A text is GeoJSON when it starts with ``[`` or ``{`` and holds a character that an
    encoded polyline cannot (any GeoJSON does: digits, commas, quotes); anything else
    is decoded as an encoded polyline. See :mod:`carbonfoot.distances.geojson` for the
    GeoJSON forms accepted; distances use the first two numbers of each position.
    """
    size = len(text)
    text = pc.utf8_trim_whitespace(text.cast(pa.string()))
    json_start = pc.or_(pc.starts_with(text, "["), pc.starts_with(text, "{"))
    is_json = _mask(pc.and_(json_start, pc.match_substring_regex(text, _NOT_ENCODED)))
    present = _mask(pc.invert(pc.is_null(text)))
    empty = ~_mask(pc.greater(pc.binary_length(text), 0))
    encoded = present & ~empty & ~is_json
    json_rows = np.flatnonzero(is_json)
    reasons = np.full(size, None, dtype=object)
    geojson = parse_geojson(text.take(pa.array(json_rows)))
    reasons[json_rows] = geojson.reasons
    decoded = _decode_encoded(text, np.flatnonzero(encoded))
    lat = np.concatenate([geojson.lat, decoded.lat])
    lon = np.concatenate([geojson.lon, decoded.lon])
    owner = np.concatenate([json_rows[geojson.row], decoded.owner])
    # encoded rows are one line each: line ids after the GeoJSON ones
    first_encoded_line = int(geojson.line.max()) + 1 if geojson.line.size else 0
    line = np.concatenate([geojson.line, first_encoded_line + decoded.owner])
    order = np.lexsort((line, owner))
    lat, lon, owner, line = lat[order], lon[order], owner[order], line[order]
    line_start = np.flatnonzero(np.r_[True, line[1:] != line[:-1]]) if line.size else line
    points_per_line = np.diff(np.r_[line_start, line.size])
    short_line = np.zeros(size, dtype=bool)
    short_line[owner[line_start][points_per_line < 2]] = True
    counts = np.bincount(owner, minlength=size)
    outside_point = (~valid_coordinates(lat, lon)).astype(np.float64)
    outside = np.bincount(owner, weights=outside_point, minlength=size) > 0
    rejected = np.zeros(size, dtype=bool)
    rejected[json_rows] = geojson.reasons != None  # noqa: E711 - elementwise on objects
    valid = (counts >= 2) & ~short_line & ~outside & ~rejected
    reasons[outside & ~rejected] = _OUT_OF_RANGE
    keep = valid[owner]
    return Polylines(lat[keep], lon[keep], owner[keep], valid, line[keep], reasons)


def _mask(values: pa.Array) -> npt.NDArray[np.bool_]:
    return np.asarray(values.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _decode_encoded(text: pa.Array, rows: npt.NDArray[np.intp]) -> Polylines:
    """Google's encoded polyline algorithm, for many strings at once (numpy over bytes).

    Each character is 63 + a 5-bit chunk, with bit 0x20 set on every chunk but a value's
    last; a value is its chunks little-endian, zigzag-decoded; values alternate latitude
    and longitude deltas in 1e-5 degrees.
    """
    if rows.size == 0:
        return _empty()
    chosen = pa.concat_arrays(
        [text.take(pa.array(rows)).fill_null("")]
    )  # a fresh, zero-offset array
    offsets = np.frombuffer(chosen.buffers()[1], dtype=np.int32)[: len(chosen) + 1].astype(np.int64)
    first = int(offsets[0])
    raw_bytes = np.frombuffer(chosen.buffers()[2], dtype=np.uint8)[first : int(offsets[-1])]
    data = raw_bytes.astype(np.int64) - 63
    if data.size == 0:
        return _empty()
    lengths = np.diff(offsets)
    row_of_char = np.repeat(np.arange(rows.size), lengths)
    terminated = (data & 0x20) == 0
    row_end = np.zeros(data.size, dtype=bool)
    row_end[(offsets[1:] - first - 1)[lengths > 0]] = True
    last = terminated | row_end  # a value never runs on into the next row's text
    value_id = np.r_[0, np.cumsum(last)[:-1]]
    value_first = np.flatnonzero(np.r_[True, value_id[1:] != value_id[:-1]])
    position = np.arange(data.size) - value_first[value_id]
    complete = value_id < int(last.sum())
    bad_char = (data < 0) | (data > 63) | (position > 6)
    chunk = (data & 0x1F) << np.minimum(5 * position, 30)
    packed = np.bincount(value_id[complete], weights=chunk[complete].astype(np.float64)).astype(
        np.int64
    )
    values = np.where(packed & 1, ~(packed >> 1), packed >> 1)
    value_last = np.flatnonzero(last)
    value_row = row_of_char[value_last]
    bad_rows = np.bincount(row_of_char, weights=bad_char.astype(float), minlength=rows.size) > 0
    crossing = row_of_char[value_first[: value_last.size]] != value_row
    bad_rows |= np.bincount(value_row, weights=crossing.astype(float), minlength=rows.size) > 0
    ends_cleanly = np.zeros(rows.size, dtype=bool)
    nonempty = lengths > 0
    ends_cleanly[nonempty] = terminated[(offsets[1:] - first - 1)[nonempty]]
    bad_rows |= ~ends_cleanly
    bad_rows |= np.bincount(value_row, minlength=rows.size) % 2 == 1
    usable = ~bad_rows[value_row]
    values, value_row = values[usable], value_row[usable]
    lat_delta, lon_delta = values[0::2], values[1::2]
    pair_row = value_row[0::2]
    starts = (
        np.r_[True, pair_row[1:] != pair_row[:-1]] if pair_row.size else np.zeros(0, dtype=bool)
    )
    lat = np.asarray(_segment_cumsum(lat_delta, starts) * 1e-5, dtype=np.float64)
    lon = np.asarray(_segment_cumsum(lon_delta, starts) * 1e-5, dtype=np.float64)
    return Polylines(lat, lon, rows[pair_row].astype(np.int64), np.ones(0, dtype=bool))


def _segment_cumsum(
    values: npt.NDArray[np.int64], starts: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    total = np.cumsum(values)
    start_index = np.flatnonzero(starts)
    offset = (
        np.r_[0, total[start_index[1:] - 1]] if start_index.size else np.zeros(0, dtype=np.int64)
    )
    return np.asarray(
        total - np.repeat(offset, np.diff(np.r_[start_index, values.size])), dtype=np.int64
    )


def _empty() -> Polylines:
    return Polylines(np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64), np.ones(0, dtype=bool))


def polyline_km(
    lines: Polylines, size: int, *, spike_ratio: float, spike_min_km: float
) -> FloatArray:
    """Length of each row's polylines in km (NaN where invalid), outlier points dropped.

    Hops join consecutive points of one line; a row of several lines (a MultiLineString,
    a GPX track of several segments) is the sum of its lines, with no jump between them.
    A point is an outlier (a GPS spike) when going through it is more than
    ``spike_ratio`` times the direct hop between its neighbours and adds more than
    ``spike_min_km``; dropping it can only shorten the path.
    """
    lat, lon, owner, line = lines.lat, lines.lon, lines.owner, lines.line
    if line.size:
        same_before = np.r_[False, line[1:] == line[:-1]]
        same_after = np.r_[line[:-1] == line[1:], False]
        inner = np.flatnonzero(same_before & same_after)
        if inner.size:
            via = great_circle_km(
                lat[inner - 1], lon[inner - 1], lat[inner], lon[inner]
            ) + great_circle_km(lat[inner], lon[inner], lat[inner + 1], lon[inner + 1])
            direct = great_circle_km(lat[inner - 1], lon[inner - 1], lat[inner + 1], lon[inner + 1])
            spike = (via > spike_ratio * direct) & (via - direct > spike_min_km)
            keep = np.ones(line.size, dtype=bool)
            keep[inner[spike]] = False
            lat, lon, owner, line = lat[keep], lon[keep], owner[keep], line[keep]
    km = np.zeros(size)
    if line.size > 1:
        same = line[1:] == line[:-1]
        hops = great_circle_km(lat[:-1], lon[:-1], lat[1:], lon[1:])
        km += np.bincount(owner[1:][same], weights=hops[same], minlength=size)
    return np.where(lines.valid, km, np.nan)
