"""Stops of a GTFS feed as stations: the nodes of the network.

A platform (or a boarding area, or an entrance) is merged into the station named by its
``parent_station``, up to three levels (boarding area, platform, station), so a trip
"from the station" and one "from its platform 2" are the same trip. A stop whose
``parent_station`` is not in stops.txt (common in feed extracts, which keep the platforms
a route serves and drop the rest) is kept as a station of its own: it is a stop of the
feed, and dropping it would reject its trips with a false "not a stop of the feed".
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot import InputError

from .feed import Feed, numbers

__all__ = ["Stops", "read_stops"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@frozen
class Stops:
    """Every row of stops.txt, and the station (node) each belongs to."""

    #: Trimmed stop ids, one per row of stops.txt.
    ids: pa.Array
    #: Each row's own position (NaN where the feed gives none: then its station's).
    lat: FloatArray
    lon: FloatArray
    #: Each row's station, as a node index (0 .. stations - 1).
    node: IntArray
    #: Row of stops.txt of each node (the station's own row).
    station_row: IntArray
    #: Each row's name, trimmed and case-folded ('' where none).
    names: pa.Array

    @property
    def stations(self) -> int:
        return int(self.station_row.size)

    def rows(self, stop_ids: pa.Array | pa.ChunkedArray) -> IntArray:
        """Row of stops.txt of each id (trimmed), -1 where the feed has no such stop."""
        found = pc.index_in(pc.utf8_trim_whitespace(stop_ids), value_set=self.ids)
        return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.intp)


def read_stops(feed: Feed) -> Stops:
    table = feed.table(
        "stops.txt",
        ["stop_id", "stop_lat", "stop_lon", "parent_station", "stop_name"],
        required=("stop_id",),
    )
    ids = pc.utf8_trim_whitespace(table.column("stop_id")).combine_chunks()
    try:
        lat, lon = (
            numbers(table.column("stop_lat"), "a coordinate of stops.txt"),
            numbers(table.column("stop_lon"), "a coordinate of stops.txt"),
        )
    except InputError as exc:
        raise InputError(f"GTFS feed {feed.path}: {exc}") from None
    parents = pc.utf8_trim_whitespace(table.column("parent_station"))
    parent_row = pc.index_in(parents, value_set=ids).fill_null(-1).to_numpy(zero_copy_only=False)
    own = np.arange(len(ids), dtype=np.intp)
    root = np.where(parent_row >= 0, parent_row, own).astype(np.intp)
    for _ in range(2):  # boarding area -> platform -> station
        root = root[root]
    stations = np.flatnonzero(root == own)
    node_of_row = np.full(len(ids), -1, dtype=np.intp)
    node_of_row[stations] = np.arange(stations.size)
    node = node_of_row[root]
    if (node < 0).any():  # a cycle of parents: each stop on it is its own station
        cyclic = np.flatnonzero(node < 0)
        node_of_row[cyclic] = stations.size + np.arange(cyclic.size)
        stations = np.r_[stations, cyclic]
        node = np.where(node < 0, node_of_row, node)
    # A stop without a position of its own (an entrance may lack one) stands at its station.
    missing = ~(np.isfinite(lat) & np.isfinite(lon))
    lat = np.where(missing, lat[stations][node], lat)
    lon = np.where(missing, lon[stations][node], lon)
    names = pc.utf8_lower(pc.utf8_trim_whitespace(table.column("stop_name").fill_null("")))
    return Stops(
        ids=ids,
        lat=lat,
        lon=lon,
        node=node,
        station_row=stations.astype(np.intp),
        names=names.combine_chunks(),
    )
