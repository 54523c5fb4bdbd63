"""GPX track files: the 2-D length of each file's track, for many files at once.

GPX 1.0 and 1.1 (Topografix, "GPX 1.1 Schema Documentation", 2004,
https://www.topografix.com/GPX/1/1/): a ``trk`` holds ``trkseg`` segments of ``trkpt``
points with ``lat`` and ``lon`` attributes in WGS 84 degrees, each perhaps with an ``ele``.
A file's length is the sum of its segments' lengths with no jump between segments (a new
segment is where the receiver lost its fix), measured on ``lat``/``lon`` only: 2-D, as
for GeoJSON. Routes (``rte``) and waypoints (``wpt``) are plans and places, not travel,
and are not counted; a segment of fewer than two points adds nothing.

Files are named relative to one folder and must stay inside it (an absolute name, or one
that climbs out with ``..`` or a link, is refused), must end in ``.gpx``, and are refused
above a size limit before they are read. They are parsed with the standard library's XML
parser (expat, C); a document type declaration is refused outright, since a GPX file
needs none and it is what carries entity definitions (the "billion laughs" expansion).
Each distinct file is read once, however many trips name it; points are gathered over
files and measured in one vectorized pass per block of about a million points.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbonfoot._kernels.strings import decimal_numbers
from carbonfoot.distances.geo import Polylines, polyline_km, valid_coordinates

__all__ = ["GPX_NAMESPACES", "gpx_lengths_km"]

#: The namespaces of GPX 1.0 and 1.1; a file without a namespace is read as GPX too.
GPX_NAMESPACES: Final = (
    "http://www.topografix.com/GPX/1/0",
    "http://www.topografix.com/GPX/1/1",
    "",
)
_BLOCK_POINTS: Final = 1_000_000


class _RefusedError(ValueError):
    """A file that is not read further, with the reason."""


class _NoDoctype(ET.TreeBuilder):
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _RefusedError("has a DOCTYPE declaration (refused: a GPX file needs none)")


def gpx_lengths_km(
    names: Sequence[str | None],
    folder: Path,
    *,
    max_bytes: int,
    spike_ratio: float,
    spike_min_km: float,
) -> tuple[npt.NDArray[np.float64], list[str | None]]:
    """Length in km of the track in each named file (NaN where none), and why not."""
    km = np.full(len(names), np.nan)
    reasons: list[str | None] = [None] * len(names)
    root = folder.resolve()
    block: list[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64], Any]] = []
    held = 0
    for index, name in enumerate(names):
        try:
            lat, lon, segment = _track(_checked_path(name, root), max_bytes)
        except _RefusedError as exc:
            reasons[index] = str(exc)
            continue
        block.append((index, lat, lon, segment))
        held += lat.size
        if held >= _BLOCK_POINTS:
            _measure(block, km, spike_ratio, spike_min_km)
            block, held = [], 0
    _measure(block, km, spike_ratio, spike_min_km)
    for missing in np.flatnonzero(np.isnan(km)).tolist():
        if reasons[missing] is None:
            reasons[missing] = "has no track segment of 2 or more points"
    return km, reasons


def _checked_path(name: str | None, root: Path) -> Path:
    text = (name or "").strip()
    if not text.lower().endswith(".gpx"):
        raise _RefusedError("is not the name of a .gpx file")
    try:
        relative = Path(text)
        path = (root / relative).resolve()
    except (OSError, ValueError) as exc:
        raise _RefusedError(f"is not a usable file name ({exc})") from None
    if relative.is_absolute() or not path.is_relative_to(root):
        raise _RefusedError(f"is outside the GPX folder {str(root)!r}")
    if path.exists() and not path.is_file():  # a folder, a pipe or a device: never opened
        raise _RefusedError("is not a regular file")
    return path


def _track(
    path: Path, max_bytes: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """A file's track points (lat, lon, segment number), coordinates checked."""
    try:
        with path.open("rb") as file:
            data = file.read(max_bytes + 1)
    except OSError as exc:
        raise _RefusedError(f"cannot be read ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise _RefusedError(f"is larger than the gpx_max_mb limit of {max_bytes / 2**20:g} MiB")
    parser = ET.XMLParser(target=_NoDoctype())
    try:
        parser.feed(data)
        document = parser.close()
    except ET.ParseError as exc:
        raise _RefusedError(f"is not well-formed XML ({exc})") from None
    namespace, _, local = document.tag.rpartition("}")
    namespace = namespace.lstrip("{")
    if local != "gpx" or namespace not in GPX_NAMESPACES:
        raise _RefusedError("is not a GPX file (its root element is not <gpx>)")
    prefix = f"{{{namespace}}}" if namespace else ""
    lat_text: list[str | None] = []
    lon_text: list[str | None] = []
    sizes: list[int] = []
    for segment in document.iter(f"{prefix}trkseg"):
        points = segment.findall(f"{prefix}trkpt")
        lat_text.extend(point.get("lat") for point in points)
        lon_text.extend(point.get("lon") for point in points)
        sizes.append(len(points))
    lat, lat_ok = decimal_numbers(pa.array(lat_text, pa.string()))
    lon, lon_ok = decimal_numbers(pa.array(lon_text, pa.string()))
    lat_deg = np.asarray(lat.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    lon_deg = np.asarray(lon.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    if not (lat_ok.all() and lon_ok.all()):
        raise _RefusedError("has a trkpt without a number for lat or lon")
    if not valid_coordinates(lat_deg, lon_deg).all():
        raise _RefusedError("has a trkpt outside latitude -90..90 or longitude -180..180")
    segment_of_point = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
    return lat_deg, lon_deg, segment_of_point


def _measure(
    block: list[tuple[int, npt.NDArray[np.float64], npt.NDArray[np.float64], Any]],
    km: npt.NDArray[np.float64],
    spike_ratio: float,
    spike_min_km: float,
) -> None:
    """Lengths of a block of files' tracks, in one vectorized pass, into ``km``."""
    if not block:
        return
    sizes = [lat.size for _, lat, _, _ in block]
    owner = np.repeat(np.arange(len(block), dtype=np.int64), sizes)
    if owner.size == 0:
        return  # no file of the block has a point
    segment = np.concatenate([seg for _, _, _, seg in block])
    lat = np.concatenate([lat for _, lat, _, _ in block])
    lon = np.concatenate([lon for _, _, lon, _ in block])
    new_line = np.r_[True, (owner[1:] != owner[:-1]) | (segment[1:] != segment[:-1])]
    line = np.cumsum(new_line) - 1
    points_per_line = np.bincount(line)
    keep = points_per_line[line] >= 2  # a segment of one point is a fix, not travel
    points_per_owner = np.bincount(owner[keep], minlength=len(block))
    lines = Polylines(lat[keep], lon[keep], owner[keep], points_per_owner >= 2, line[keep])
    lengths = polyline_km(lines, len(block), spike_ratio=spike_ratio, spike_min_km=spike_min_km)
    km[[index for index, _, _, _ in block]] = lengths
