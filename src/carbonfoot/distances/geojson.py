"""GeoJSON lines as RFC 7946 defines them, read from text for many trips at once.

Accepted, per row of text:

* LineString coordinates, ``[[lon, lat], [lon, lat, ele], ...]``. A position is an array
  of two or more numbers (RFC 7946 §3.1.1): longitude, latitude, an optional altitude,
  and values beyond it that "MAY be ignored by parsers". Only the first two are used, so
  a distance is the 2-D length on the sphere; a climb adds nothing (it can only shorten).
* A geometry object, ``{"type": "LineString" | "MultiLineString", "coordinates": ...}``;
  a MultiLineString's length is the sum of its lines, with no jump between them.
* A Feature whose geometry is one of those, and a FeatureCollection: the sum of its
  line features (points such as a track's waypoints are passed over).

Anything else is rejected with its reason: another geometry type, coordinates nested three
deep without a type (MultiLineString and Polygon coordinates look alike), a position of
one number, a line of fewer than two positions (§3.1.4), numbers outside JSON's grammar.

Plain coordinate arrays, the batch form, are checked by one RE2 expression, compacted
with numpy on the bytes and split into numbers with pyarrow string kernels, with no Python
per trip; so are bare LineString and MultiLineString objects (type and coordinates only,
in either order). Features and collections (whose properties may hold any JSON) are read
with the ``json`` module, one row at a time; their lines then take the same vectorized path.
"""

from __future__ import annotations

import json
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["LinePoints", "parse_geojson"]

_WS: Final = r"[ \t\n\r]*"
#: A JSON number (RFC 8259 §6): no leading zeros, no bare dot, no NaN or Infinity.
_NUM: Final = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_POSITION: Final = rf"\[{_WS}{_NUM}{_WS}(?:,{_WS}{_NUM}{_WS})+\]"
_LINE: Final = rf"\[{_WS}(?:{_POSITION}{_WS}(?:,{_WS}{_POSITION}{_WS})*)?\]"
_MULTI: Final = rf"\[{_WS}{_LINE}{_WS}(?:,{_WS}{_LINE}{_WS})*\]"

_NOT_GEOJSON: Final = (
    "is not GeoJSON (LineString coordinates [[lon, lat], ...], a LineString or "
    "MultiLineString geometry, a Feature or a FeatureCollection) of JSON numbers"
)
_ONE_NUMBER: Final = "has a position of one number; a position is [lon, lat] or [lon, lat, ele]"
_THREE_DEEP: Final = (
    "is coordinates nested three deep (MultiLineString or Polygon): give a geometry "
    'object, {"type": "MultiLineString", "coordinates": ...}'
)
_ONE_POSITION: Final = "is one position, not a line of positions"
_SHORT_LINE: Final = "has a LineString of fewer than 2 positions"


class LinePoints(NamedTuple):
    """Points of many lines: ``row`` (index into the parsed rows) and ``line`` (a line id,
    unique over the call, ascending with the row) for each point; ``reasons`` per row,
    None where the row is a valid line or lines."""

    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    row: npt.NDArray[np.int64]
    line: npt.NDArray[np.int64]
    reasons: npt.NDArray[np.object_]


def parse_geojson(text: pa.Array) -> LinePoints:
    """Points of each row of GeoJSON text (trimmed, starting with ``[`` or ``{``)."""
    size = len(text)
    reasons = np.full(size, None, dtype=object)
    objects = np.asarray(
        pc.starts_with(text, "{").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool
    )
    arrays = np.flatnonzero(~objects)
    line_text: list[pa.Array] = [text.take(pa.array(arrays))] if arrays.size else []
    line_row = [arrays.astype(np.int64)]
    object_rows = np.flatnonzero(objects)
    if object_rows.size:
        chosen = text.take(pa.array(object_rows))
        for pattern, multi in _SIMPLE_GEOMETRIES:
            found = _matches(chosen, pattern)
            if found.any():
                coordinates = pc.extract_regex(chosen.filter(pa.array(found)), pattern)
                texts_of, rows_of = _simple_lines(coordinates.field("c"), multi)
                line_text.append(texts_of)
                line_row.append(object_rows[found][rows_of].astype(np.int64))
                object_rows, chosen = object_rows[~found], chosen.filter(pa.array(~found))
    if object_rows.size:
        texts, rows, why = _object_lines(chosen.to_pylist())
        reasons[object_rows] = why
        line_text.append(pa.array(texts, type=pa.string()))
        line_row.append(object_rows[np.asarray(rows, dtype=np.int64)].astype(np.int64))
    if not line_text:
        return _nothing(reasons)
    lines = pa.concat_arrays([part.cast(pa.string()) for part in line_text])
    row_of_line = np.concatenate(line_row)
    order = np.argsort(row_of_line, kind="stable")  # line ids ascend with the row
    lines, row_of_line = lines.take(pa.array(order)), row_of_line[order]
    lat, lon, line, line_reasons = _parse_lines(lines)
    bad = np.flatnonzero(line_reasons != None)  # noqa: E711 - elementwise on objects
    if bad.size:
        first_bad = bad[np.r_[True, row_of_line[bad][1:] != row_of_line[bad][:-1]]]
        unset = reasons[row_of_line[first_bad]] == None  # noqa: E711
        reasons[row_of_line[first_bad][unset]] = line_reasons[first_bad][unset]
    return LinePoints(lat, lon, row_of_line[line], line, reasons)


def _simple_geometries() -> tuple[tuple[str, bool], ...]:
    """Expressions for a bare geometry object, members in either order, and nothing else:
    the object forms read without ``json``."""
    found = []
    for kind, coordinates in (("LineString", _LINE), ("MultiLineString", _MULTI)):
        kind_member = rf'"type"{_WS}:{_WS}"{kind}"'
        coordinates_member = rf'"coordinates"{_WS}:{_WS}(?P<c>{coordinates})'
        for first, second in ((kind_member, coordinates_member), (coordinates_member, kind_member)):
            pattern = rf"^\{{{_WS}{first}{_WS},{_WS}{second}{_WS}\}}$"
            found.append((pattern, kind == "MultiLineString"))
    return tuple(found)


_SIMPLE_GEOMETRIES: Final = _simple_geometries()
_BETWEEN_LINES: Final = rf"\]{_WS}\]{_WS},{_WS}\[{_WS}\["


def _simple_lines(coordinates: pa.Array, multi: bool) -> tuple[pa.Array, npt.NDArray[np.intp]]:
    """Each LineString coordinate text of matched geometries, and which geometry it is of."""
    if not multi:
        return coordinates, np.arange(len(coordinates))
    inner = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(coordinates), 1, -1)
    marked = pc.replace_substring_regex(inner, _BETWEEN_LINES, "]]\x00[[")
    lines = pc.split_pattern(marked, "\x00")
    counts = np.asarray(pc.list_value_length(lines).to_numpy(zero_copy_only=False))
    return pc.list_flatten(lines), np.repeat(np.arange(len(coordinates)), counts)


def _parse_lines(
    lines: pa.Array,
) -> tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
    npt.NDArray[np.object_],
]:
    """Points of texts each meant to be one LineString's coordinates, and each text's reason."""
    count = len(lines)
    trimmed = pc.utf8_trim_whitespace(lines)
    is_line = _matches(trimmed, rf"^{_LINE}$")
    reasons = np.full(count, None, dtype=object)
    if not is_line.all():
        reasons[~is_line] = _NOT_GEOJSON
        for pattern, reason in (
            (rf"^\[{_WS}{_NUM}", _ONE_POSITION),
            (rf"\[{_WS}{_NUM}{_WS}\]", _ONE_NUMBER),
            (rf"^{_MULTI}$", _THREE_DEEP),
        ):
            reasons[~is_line & _matches(trimmed, pattern)] = reason
    good = np.flatnonzero(is_line)
    chosen = trimmed.take(pa.array(good))
    flat = _compact(chosen)
    positions = pc.split_pattern(flat, ";")
    per_line = np.asarray(pc.list_value_length(positions).to_numpy(zero_copy_only=False))
    empty = np.asarray(pc.equal(pc.binary_length(flat), 0).to_numpy(zero_copy_only=False))
    per_line = np.where(empty, 0, per_line).astype(np.int64)
    short = per_line < 2
    reasons[good[short]] = _SHORT_LINE
    keep = ~short
    numbers = pc.split_pattern(pc.list_flatten(positions.filter(pa.array(keep))), ",", max_splits=2)
    lon = _floats(pc.list_element(numbers, 0))
    lat = _floats(pc.list_element(numbers, 1))
    line = np.repeat(good[keep].astype(np.int64), per_line[keep])
    return lat, lon, line, reasons


def _compact(lines: pa.Array) -> pa.Array:
    """Valid LineString coordinate texts as ``lon,lat,...;lon,lat,...``, by numpy on bytes.

    JSON whitespace goes, each ``,`` between ``]`` and ``[`` becomes ``;``, brackets go.
    Sound only for texts the LineString expression matched (no other commas follow ``]``).
    """
    fresh = pa.concat_arrays([lines.cast(pa.large_string())])  # zero offset, 64-bit
    offsets = np.frombuffer(fresh.buffers()[1], dtype=np.int64)[: len(fresh) + 1]
    data = np.frombuffer(fresh.buffers()[2], dtype=np.uint8)[: int(offsets[-1])]
    if len(fresh) == 0:
        return fresh
    # A matched text's bytes are digits, signs, dots, e/E, commas, brackets and JSON
    # whitespace: the whitespace is exactly the bytes up to 32.
    text_bytes = data[data > 32]
    after_close = np.r_[False, text_bytes[:-1] == ord("]")]
    text_bytes[(text_bytes == ord(",")) & after_close] = ord(";")
    chars = text_bytes[(text_bytes != ord("[")) & (text_bytes != ord("]"))]
    dropped = sum(  # per text, by pyarrow: no per-byte row numbers
        np.asarray(pc.count_substring(fresh, byte).to_numpy(zero_copy_only=False), np.int64)
        for byte in " \t\n\r[]"
    )
    sizes = np.diff(offsets) - dropped
    new_offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    return pa.Array.from_buffers(
        pa.large_string(),
        len(fresh),
        [None, pa.py_buffer(new_offsets), pa.py_buffer(chars.tobytes())],
    )


def _object_lines(values: list[str | None]) -> tuple[list[str], list[int], list[str | None]]:
    """Each object's lines as coordinate texts (and the object each came from), and the
    reason of each object that gives none. Python per object: the rare form."""
    texts: list[str] = []
    rows: list[int] = []
    reasons: list[str | None] = []
    for index, value in enumerate(values):
        try:
            found = _lines_of(json.loads(value or "", parse_constant=_no_constant))
        except (ValueError, RecursionError):
            found = "is not valid JSON"
        if isinstance(found, str):
            reasons.append(found)
            continue
        reasons.append(None)
        for coordinates in found:
            texts.append(json.dumps(coordinates, allow_nan=False))
            rows.append(index)
    return texts, rows, reasons


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _lines_of(value: Any) -> list[Any] | str:
    """The coordinate arrays of a GeoJSON object's lines, or why there are none."""
    if not isinstance(value, dict):
        return _NOT_GEOJSON
    kind = value.get("type")
    if kind == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            return "is a FeatureCollection without a 'features' array"
        lines: list[Any] = []
        for feature in features:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                return "is a FeatureCollection with a member that is not a Feature"
            geometry = feature.get("geometry")
            if isinstance(geometry, dict) and geometry.get("type") not in _LINE_TYPES:
                continue  # a waypoint or an area beside the track: not part of its length
            found = _geometry_lines(geometry) if geometry is not None else []
            if isinstance(found, str):
                return found
            lines.extend(found)
        return lines or "is a FeatureCollection with no LineString or MultiLineString feature"
    if kind == "Feature":
        geometry = value.get("geometry")
        if geometry is None:
            return "is a Feature without a geometry"
        return _geometry_lines(geometry)
    return _geometry_lines(value)


_LINE_TYPES: Final = ("LineString", "MultiLineString")
_OTHER_TYPES: Final = ("Point", "MultiPoint", "Polygon", "MultiPolygon", "GeometryCollection")


def _geometry_lines(geometry: Any) -> list[Any] | str:
    if not isinstance(geometry, dict):
        return "has a geometry that is not a GeoJSON object"
    kind = geometry.get("type")
    if kind in _OTHER_TYPES:
        return f"is a GeoJSON {kind}, not a line: give a LineString or a MultiLineString"
    if kind not in _LINE_TYPES:
        return f"has 'type' {kind!r}, which is not a GeoJSON geometry type"
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list):
        return f"is a {kind} without a 'coordinates' array"
    if kind == "LineString":
        return [coordinates]
    if not coordinates or not all(isinstance(line, list) for line in coordinates):
        return "is a MultiLineString whose coordinates are not an array of lines"
    return coordinates


def _matches(text: pa.Array, pattern: str) -> npt.NDArray[np.bool_]:
    return np.asarray(
        pc.match_substring_regex(text, pattern).fill_null(False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )


def _floats(values: pa.Array) -> npt.NDArray[np.float64]:
    return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


def _nothing(reasons: npt.NDArray[np.object_]) -> LinePoints:
    none = np.zeros(0, dtype=np.int64)
    return LinePoints(np.zeros(0), np.zeros(0), none, none, reasons)
