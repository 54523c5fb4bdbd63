"""A real GPX track with elevations: as a GPX file and converted to GeoJSON here.

The track (tests/data/gpx-cerknica, README there) is read with this test's own XML code
and measured with a haversine written here; the library must agree on the 2-D length,
from the file and from GeoJSON with 2, 3 or 4 numbers per position.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from carbonfoot import Engine
from carbonfoot.cli import main
from tests.builtins.trips import derive

DATA = Path(__file__).resolve().parents[1] / "data" / "gpx-cerknica"
TRACK = DATA / "cerknicko-jezero.gpx"
NS = "{http://www.topografix.com/GPX/1/0}"
RADIUS_KM = 6371.0088  # IUGG mean Earth radius, as the library's docstring cites
NO_SPIKES = {"spike_ratio": "1000000", "spike_min_km": "1000000"}


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * RADIUS_KM * math.asin(math.sqrt(h))


def tracks() -> list[list[list[dict[str, float]]]]:
    """Each trk's segments' points, as {lat, lon, ele?}."""
    root = ET.parse(TRACK).getroot()
    found = []
    for trk in root.iter(f"{NS}trk"):
        segments = []
        for seg in trk.iter(f"{NS}trkseg"):
            points = []
            for pt in seg.iter(f"{NS}trkpt"):
                point = {"lat": float(pt.attrib["lat"]), "lon": float(pt.attrib["lon"])}
                ele = pt.find(f"{NS}ele")
                if ele is not None and ele.text:
                    point["ele"] = float(ele.text)
                points.append(point)
            segments.append(points)
        found.append(segments)
    return found


def expected_km() -> float:
    return sum(
        haversine_km((a["lat"], a["lon"]), (b["lat"], b["lon"]))
        for track in tracks()
        for segment in track
        for a, b in itertools.pairwise(segment)
    )


def as_geojson(numbers: int) -> str:
    """The file as a FeatureCollection: waypoints as Points, each trk a MultiLineString.

    ``numbers`` 2: [lon, lat]; 3: [lon, lat, ele] where the point has one; 4: and a 0.
    """

    def position(point: dict[str, float]) -> list[float]:
        if numbers == 2 or "ele" not in point:
            return [point["lon"], point["lat"]]
        return [point["lon"], point["lat"], point["ele"], *([0.0] if numbers == 4 else [])]

    root = ET.parse(TRACK).getroot()
    waypoints = [
        {
            "type": "Feature",
            "properties": {"name": wpt.findtext(f"{NS}name")},
            "geometry": {
                "type": "Point",
                "coordinates": [float(wpt.attrib["lon"]), float(wpt.attrib["lat"])],
            },
        }
        for wpt in root.iter(f"{NS}wpt")
    ]
    lines = [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "MultiLineString",
                "coordinates": [[position(p) for p in seg] for seg in track if len(seg) >= 2],
            },
        }
        for track in tracks()
        if any(len(seg) >= 2 for seg in track)
    ]
    return json.dumps({"type": "FeatureCollection", "features": waypoints + lines})


def test_the_track_has_elevations_and_several_segments() -> None:
    points = [p for track in tracks() for seg in track for p in seg]
    assert len(points) == 296
    assert sum("ele" in p for p in points) > 250
    assert sum(len(track) for track in tracks()) >= 7


def test_a_gpx_file_gives_its_2d_length_as_gps(engine: Engine) -> None:
    engine = Engine(catalog=engine.catalog, distance_options={"gpx_folder": str(DATA), **NO_SPIKES})
    row = derive(engine, mode=["bike"], gpx=[TRACK.name])[0]
    assert row["status"] == "ok", row["message"]
    assert row["distance_source"] == "gps"
    assert row["distance_km"] == pytest.approx(expected_km(), rel=1e-9)


def test_the_spike_filter_can_only_shorten_the_track(engine: Engine) -> None:
    engine = Engine(catalog=engine.catalog, distance_options={"gpx_folder": str(DATA)})
    row = derive(engine, mode=["bike"], gpx=[TRACK.name])[0]
    assert 0 < row["distance_km"] <= expected_km()


@pytest.mark.parametrize("numbers", [2, 3, 4])
def test_the_track_as_geojson_has_the_same_length(engine: Engine, numbers: int) -> None:
    engine = Engine(catalog=engine.catalog, distance_options=NO_SPIKES)
    row = derive(engine, mode=["bike"], polyline=[as_geojson(numbers)])[0]
    assert row["status"] == "ok", row["message"]
    assert row["distance_km"] == pytest.approx(expected_km(), rel=1e-9)


GPX_HEAD = '<?xml version="1.0"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
TWO_POINTS = (
    '<trk><trkseg><trkpt lat="45.77" lon="14.35"/><trkpt lat="45.78" lon="14.35"/></trkseg></trk>'
)


def test_gpx_files_are_confined_to_their_folder_and_bounded(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "tracks"
    folder.mkdir()
    (folder / "ok.gpx").write_text(f"{GPX_HEAD}{TWO_POINTS}</gpx>")
    (tmp_path / "outside.gpx").write_text(f"{GPX_HEAD}{TWO_POINTS}</gpx>")
    os.symlink(tmp_path / "outside.gpx", folder / "link.gpx")
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 9))
    (folder / "laughs.gpx").write_text(
        f'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY l0 "lol">{laughs}]>'
        f'<gpx xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&l8;</name></trk></gpx>'
    )
    (folder / "big.gpx").write_text(f"{GPX_HEAD}<!--{'x' * 2**20}-->{TWO_POINTS}</gpx>")
    (folder / "route.gpx").write_text(
        f'{GPX_HEAD}<rte><rtept lat="45.77" lon="14.35"/><rtept lat="46" lon="14"/></rte></gpx>'
    )
    (folder / "broken.gpx").write_text(f"{GPX_HEAD}<trk>")
    (folder / "kml.gpx").write_text('<kml xmlns="http://www.opengis.net/kml/2.2"/>')
    os.mkfifo(folder / "pipe.gpx")  # opening it would wait for a writer for ever
    (folder / "dir.gpx").mkdir()
    engine = Engine(
        catalog=engine.catalog, distance_options={"gpx_folder": str(folder), "gpx_max_mb": "1"}
    )
    names = {
        "ok.gpx": None,
        " ok.gpx ": None,
        "../outside.gpx": "outside the GPX folder",
        str(tmp_path / "outside.gpx"): "outside the GPX folder",
        "link.gpx": "outside the GPX folder",
        "laughs.gpx": "DOCTYPE",
        "big.gpx": "larger than the gpx_max_mb limit of 1 MiB",
        "route.gpx": "no track segment of 2 or more points",
        "broken.gpx": "not well-formed XML",
        "kml.gpx": "not a GPX file",
        "missing.gpx": "cannot be read",
        "pipe.gpx": "not a regular file",
        "dir.gpx": "not a regular file",
        "notes.txt": "not the name of a .gpx file",
    }
    rows = derive(engine, mode=["walk"] * len(names), gpx=list(names))
    for (name, reason), row in zip(names.items(), rows, strict=True):
        if reason is None:
            assert row["status"] == "ok", name
            assert row["distance_km"] == pytest.approx(haversine_km((45.77, 14.35), (45.78, 14.35)))
        else:
            assert row["status"] == "bad_distance", name
            assert reason in str(row["message"]), (name, row["message"])


def test_the_command_reads_gpx_files_beside_the_trips_file_or_in_gpx(tmp_path: Path) -> None:
    (tmp_path / "trips.csv").write_text(
        f"trip_id,user_id,mode,started_at,gpx\nt1,u1,bike,2024-05-01T08:00:00+08:00,{TRACK.name}\n"
    )
    (tmp_path / TRACK.name).write_bytes(TRACK.read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    runner = CliRunner()
    for extra in ([], ["--gpx", str(DATA)]):
        out = elsewhere / f"out{len(extra)}.csv"
        result = runner.invoke(
            main, ["calc", str(tmp_path / "trips.csv"), "-o", str(out), "-q", *extra]
        )
        assert result.exit_code == 0, result.output
        with out.open(newline="") as file:
            values = next(csv.DictReader(file))
        assert values["distance_source"] == "gps"
        assert 0 < float(values["distance_km"]) <= expected_km()
