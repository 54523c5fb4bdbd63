"""GPS tracks: what each accepted form costs, per trip and per point.

The same synthetic tracks (seed 11: random walks of ``--points`` points of about 10 m
near Nanjing, altitudes 5-60 m) in each form the ``polyline`` and ``gpx`` providers
accept, measured as the provider measures them (parse, then length):

* ``coords_2d``, ``coords_3d``: LineString coordinates, ``[[lon, lat], ...]`` and
  ``[[lon, lat, ele], ...]``: the batch form, vectorized (RE2 check, pyarrow splits);
* ``linestring``: ``{"type": "LineString", "coordinates": ...}``, read with ``json``;
* ``feature_collection``: a FeatureCollection of a waypoint and the track as a
  MultiLineString of two segments, with properties, read with ``json``;
* ``encoded``: Google encoded polylines (numpy on the bytes);
* ``gpx_files``: ``--files`` distinct GPX 1.1 files (with ``ele`` and ``time``), read
  with the standard library's XML parser (each distinct file once);
* ``coords_2d_before``: the parser of commit a0320e3 on the 2-number arrays (the only
  form it read right), for comparison.

Every form must give the same lengths (to 1e-9) before it is timed.

    python benchmarks/bench_tracks.py [--trips 20000] [--points 200] [--files 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from _common import HERE, median, record, rotated, timed
from carbonfoot.distances.geo import parse_polylines, polyline_km
from carbonfoot.distances.gpx import gpx_lengths_km

SPIKES = {"spike_ratio": 3.0, "spike_min_km": 0.2}


def walks(trips: int, points: int, seed: int = 11) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    step = rng.normal(0, 1e-4, size=(trips, points, 2)).cumsum(axis=1)
    lon = 118.78 + step[..., 0]
    lat = 32.04 + step[..., 1]
    ele = rng.uniform(5, 60, size=(trips, points))
    return lon.round(5), lat.round(5), ele.round(1)  # 5 places: encoded polylines exact


def encode(values: np.ndarray) -> str:
    """Google's encoded polyline of one track (lat, lon pairs), written here for the test data."""
    out = []
    previous = np.zeros(2, dtype=np.int64)
    for pair in np.rint(values * 1e5).astype(np.int64):
        for delta in pair - previous:
            value = int(delta) << 1
            value = ~value if delta < 0 else value
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        previous = pair
    return "".join(out)


def forms(lon: np.ndarray, lat: np.ndarray, ele: np.ndarray) -> dict[str, list[str]]:
    coords_2d, coords_3d, line, collection, encoded = [], [], [], [], []
    for x, y, z in zip(lon, lat, ele, strict=True):
        two = np.stack([x, y], axis=1).tolist()
        three = np.stack([x, y, z], axis=1).tolist()
        half = len(three) // 2
        coords_2d.append(json.dumps(two))
        coords_3d.append(json.dumps(three))
        line.append(json.dumps({"type": "LineString", "coordinates": three}))
        collection.append(
            json.dumps(
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "properties": {"name": "start"},
                            "geometry": {"type": "Point", "coordinates": three[0]},
                        },
                        {
                            "type": "Feature",
                            "properties": {"name": "ride", "device": "phone"},
                            "geometry": {
                                "type": "MultiLineString",
                                "coordinates": [three[: half + 1], three[half:]],
                            },
                        },
                    ],
                }
            )
        )
        encoded.append(encode(np.stack([y, x], axis=1)))
    return {
        "coords_2d": coords_2d,
        "coords_3d": coords_3d,
        "linestring": line,
        "feature_collection": collection,
        "encoded": encoded,
    }


def gpx_text(lon: np.ndarray, lat: np.ndarray, ele: np.ndarray) -> str:
    points = "".join(
        f'<trkpt lat="{y}" lon="{x}"><ele>{z}</ele><time>2024-05-01T08:00:{i % 60:02d}Z</time></trkpt>\n'
        for i, (x, y, z) in enumerate(zip(lon, lat, ele, strict=True))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="bench" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"<trk><name>ride</name><trkseg>\n{points}</trkseg></trk></gpx>\n"
    )


def old_parser() -> Any:
    """geo.py as of commit a0320e3, loaded from git for comparison."""
    source = subprocess.run(
        ["git", "show", "a0320e3:src/carbonfoot/distances/geo.py"],
        cwd=HERE.parent,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "geo_a0320e3.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("geo_a0320e3", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trips", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lon, lat, ele = walks(args.trips, args.points)
    texts = {name: pa.array(values) for name, values in forms(lon, lat, ele).items()}
    old = old_parser()

    def measure(text: pa.Array) -> np.ndarray:
        return polyline_km(parse_polylines(text), len(text), **SPIKES)

    def measure_old(text: pa.Array) -> np.ndarray:
        return np.asarray(old.polyline_km(old.parse_polylines(text), len(text), **SPIKES))

    reference = measure(texts["coords_2d"])
    assert np.isfinite(reference).all()
    for name, text in texts.items():
        got = measure(text)
        assert np.allclose(got, reference, rtol=1e-9), name
    assert np.allclose(measure_old(texts["coords_2d"]), reference, rtol=1e-9)

    with tempfile.TemporaryDirectory() as folder:
        files = min(args.files, args.trips)
        names = [f"track{i}.gpx" for i in range(files)]
        for i, name in enumerate(names):
            (Path(folder) / name).write_text(gpx_text(lon[i], lat[i], ele[i]))
        bytes_per_point = (Path(folder) / names[0]).stat().st_size / args.points

        def measure_gpx() -> np.ndarray:
            km, _ = gpx_lengths_km(names, Path(folder), max_bytes=16 * 2**20, **SPIKES)
            return km

        assert np.allclose(measure_gpx(), reference[:files], rtol=1e-9)
        candidates = {
            name: (lambda text=text: timed(lambda: measure(text))) for name, text in texts.items()
        }
        candidates["coords_2d_before"] = lambda: timed(lambda: measure_old(texts["coords_2d"]))
        candidates["gpx_files"] = lambda: timed(measure_gpx)
        times = rotated(args.runs, **candidates)
    seconds = {name: median(values) for name, values in times.items()}
    trips_of = {name: (files if name == "gpx_files" else args.trips) for name in seconds}
    result = {
        "command": (
            f"python benchmarks/bench_tracks.py --trips {args.trips} --points {args.points} "
            f"--files {args.files} --runs {args.runs}"
        ),
        "trips": args.trips,
        "points_per_trip": args.points,
        "gpx_bytes_per_point": round(bytes_per_point, 1),
        "seconds": seconds,
        "trips_per_second": {name: trips_of[name] / s for name, s in seconds.items()},
        "points_per_second": {
            name: trips_of[name] * args.points / s for name, s in seconds.items()
        },
    }
    record("gps_tracks", result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    sys.exit(main())
