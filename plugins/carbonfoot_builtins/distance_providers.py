"""Built-in plugin: distances from steps, from start and end coordinates, from polylines.

* ``steps``: steps x step length. Default step length 0.66 m, the average walking step
  length of women (about 26 inches) given by the University of Oklahoma Health Sciences
  Center, as quoted by several secondary pages; men's is about 31 inches. The shorter one
  gives the smaller distance and so the smaller savings (conservativeness).
* ``gps``: the great-circle distance between ``start_lat, start_lon`` and ``end_lat,
  end_lon`` times a circuity factor. The default factor 1 is the definition's lower bound:
  no route between two points is shorter than the great circle.
* ``polyline``: the sum of the segments of GeoJSON lines (LineString coordinates
  ``[[lon, lat, ele], ...]``, a LineString or MultiLineString geometry, a Feature, a
  FeatureCollection's line features; 2-D: altitudes and further numbers are ignored) or of
  a Google encoded polyline, with GPS spikes dropped (a point that more than triples the hop
  between its neighbours and adds more than 200 m: an operator threshold, configurable).
* ``gpx`` (``distance_source`` ``gps``): the 2-D length of the track in the GPX file the
  ``gpx`` column names (relative to ``gpx_folder``, never outside it), segments summed with
  no jump between them, spikes dropped as for polylines. ``gpx_max_mb`` (default 16 MiB)
  bounds what one file may cost: no published limit exists, so the bound is ours. A day of
  one-second fixes is 86,400 points; at about 190 bytes a point (GPX 1.1 with elevation,
  time and a sensor extension) that is 16 MB, while plain points are about 60 bytes.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot import DistanceAnswer, DistanceProvider, DistanceRequest, Parameter, hookimpl
from carbonfoot.distances import decimal_numbers
from carbonfoot.distances.geo import (
    great_circle_km,
    parse_polylines,
    polyline_km,
    valid_coordinates,
)
from carbonfoot.distances.gpx import gpx_lengths_km
from carbonfoot.parameters import parse_decimal
from carbonfoot.units import parse_any_quantity


def _length_m(raw: Any) -> float:
    base, dims, _ = parse_any_quantity(str(raw), where="step length")
    if dims != (("[length]", 1),):
        raise ValueError(f"{raw!r} is not a length such as '0.66 m'")
    if base <= 0:
        raise ValueError("must be above 0")
    return base


def _positive(raw: Any) -> float:
    return float(parse_decimal(raw, minimum=Decimal("0.000001")))


def _floats(values: pa.Array) -> np.ndarray:
    numbers, _ = decimal_numbers(values.cast(pa.string()))
    return np.asarray(numbers.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)


def from_steps(request: DistanceRequest) -> DistanceAnswer:
    steps = _floats(request.columns["steps"])
    whole = np.isfinite(steps) & (steps > 0) & (steps == np.floor(steps))
    km = np.where(whole, steps * request.options["step_length"] / 1000.0, np.nan)
    return DistanceAnswer(km, "column 'steps' is not a positive whole number")


def from_coordinates(request: DistanceRequest) -> DistanceAnswer:
    lat1, lon1, lat2, lon2 = (
        _floats(request.columns[name]) for name in ("start_lat", "start_lon", "end_lat", "end_lon")
    )
    valid = valid_coordinates(lat1, lon1) & valid_coordinates(lat2, lon2)
    km = np.where(
        valid, great_circle_km(lat1, lon1, lat2, lon2) * request.options["circuity"], np.nan
    )
    return DistanceAnswer(
        km, "start_lat/start_lon/end_lat/end_lon are not valid coordinates in degrees"
    )


def from_polyline(request: DistanceRequest) -> DistanceAnswer:
    text = request.columns["polyline"]
    lines = parse_polylines(text)
    km = polyline_km(
        lines,
        len(text),
        spike_ratio=request.options["spike_ratio"],
        spike_min_km=request.options["spike_min_km"],
    )
    reasons = pa.array(lines.reasons, pa.string()).fill_null(_NOT_A_POLYLINE)
    return DistanceAnswer(km, pc.binary_join_element_wise("column 'polyline' ", reasons, ""))


_NOT_A_POLYLINE = (
    "is neither GeoJSON (coordinates [[lon, lat], ...], a line geometry, a Feature or a "
    "FeatureCollection) nor an encoded polyline of 2+ points"
)


def from_gpx(request: DistanceRequest) -> DistanceAnswer:
    names = pc.utf8_trim_whitespace(request.columns["gpx"].cast(pa.string())).dictionary_encode()
    km, reasons = gpx_lengths_km(
        names.dictionary.to_pylist(),  # each distinct file once
        request.options["gpx_folder"],
        max_bytes=request.options["gpx_max_mb"] * 2**20,
        spike_ratio=request.options["spike_ratio"],
        spike_min_km=request.options["spike_min_km"],
    )
    index = pa.array(names.indices.fill_null(len(km)).to_numpy(zero_copy_only=False))
    why = [  # one message per distinct file, not per trip
        f"file {name!r} in column 'gpx' {reason}"
        for name, reason in zip(names.dictionary.to_pylist(), reasons, strict=True)
    ]
    return DistanceAnswer(
        np.r_[km, np.nan][index.to_numpy()],
        pa.array([*why, "column 'gpx' is empty"], pa.string()).take(index),
    )


def _folder(raw: Any) -> Path:
    """An existing folder, made absolute now (so a later change of directory, or a Dask
    worker, reads the same files)."""
    folder = Path(str(raw)).resolve()
    if not folder.is_dir():
        raise ValueError(f"{str(raw)!r} is not a folder")
    return folder


def _whole_mib(raw: Any) -> int:
    return int(parse_decimal(raw, minimum=Decimal(1), places=0))


PROVIDERS = (
    DistanceProvider(
        id="polyline",
        columns=("polyline",),
        priority=20,
        description="length of a GeoJSON LineString or Google encoded polyline, GPS spikes dropped",
        derive=from_polyline,
        parameters=(
            Parameter(
                "spike_ratio",
                "drop a point that makes the hop this many times longer (default 3)",
                _positive,
                default="3",
            ),
            Parameter(
                "spike_min_km",
                "... and adds more than this many km (default 0.2)",
                _positive,
                default="0.2",
            ),
        ),
    ),
    DistanceProvider(
        id="gpx",
        columns=("gpx",),
        priority=25,
        sources=("gps",),
        description="length of the track in a GPX file (2-D), GPS spikes dropped",
        derive=from_gpx,
        parameters=(
            Parameter(
                "gpx_folder",
                "folder the gpx column's file names are relative to (default: the current "
                "folder; the carbonfoot command: the trips file's folder, or --gpx)",
                _folder,
                default=".",
            ),
            Parameter(
                "gpx_max_mb",
                "largest GPX file read, in MiB (default 16: a day at one point a second)",
                _whole_mib,
                default="16",
            ),
        ),
    ),
    DistanceProvider(
        id="gps",
        columns=("start_lat", "start_lon", "end_lat", "end_lon"),
        priority=30,
        description="great-circle distance between start and end, times a circuity factor",
        derive=from_coordinates,
        parameters=(
            Parameter(
                "circuity",
                "route length over great-circle distance (default 1: the lower bound)",
                _positive,
                default="1",
            ),
        ),
    ),
    DistanceProvider(
        id="steps",
        columns=("steps",),
        priority=40,
        description="step count times step length",
        derive=from_steps,
        parameters=(
            Parameter(
                "step_length",
                "length of one step (default 0.66 m, conservative; see module doc)",
                _length_m,
                default="0.66 m",
            ),
        ),
    ),
)


@hookimpl
def register_distance_providers(register):  # type: ignore[no-untyped-def]
    for provider in PROVIDERS:
        register(provider)
