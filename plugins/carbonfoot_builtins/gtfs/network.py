"""The network of a GTFS feed: stations, hops per mode, transfers, cached shortest paths.

Every hop of every trip (:mod:`.hops`) is a directed edge between two stations; two trips
over the same two stations keep the shorter edge (a detour variant never lengthens the
direct run). The network of a mode is made of the routes whose ``route_type`` is that
mode's (0 tram, 1 metro, 2 rail, 3 and 11 bus, 4 ferry, 12 metro; extended types 100-199
rail, 400-404 metro, 700-799 bus, 900-906 tram, 1000 ferry), plus the transfer links
(:mod:`.transfers`); a mode without routes of its own uses the whole network.

Shortest paths (scipy's Dijkstra) are computed once per network and origin and cached for
the process, so a batch of a million stop-pair trips costs one table lookup per trip.

Which method a trip's distance has: a path can mix hops measured by the feed, along
shapes and as straight lines. A row's ``distance_source`` is the least precise method
a shortest path needs: ``gtfs-feed`` if a path over the feed's distances alone (and
transfers) is as short as the shortest path, else ``gtfs-shape`` if one over feed and
shape distances is, else ``gtfs-hops``. Those restricted paths are computed only for a
network that mixes methods, once each, like the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot import InputError
from carbonfoot.distances import TextLookup

from .feed import Feed
from .hops import measure_hops
from .shapes import Shapes
from .stops import read_stops
from .transfers import SAME_STATION_M, transfer_links

if TYPE_CHECKING:  # scipy is imported when a feed is first read, not with the plugin
    from scipy.sparse import csr_matrix

__all__ = ["ALL", "Network", "load_network", "mode_of_route_type"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

ROUTE_TYPE_MODES: Final = {
    0: "tram",
    1: "metro",
    2: "rail",
    3: "bus",
    4: "ferry",
    11: "bus",
    12: "metro",
}
_EXTENDED: Final = (
    (100, 199, "rail"),
    (400, 404, "metro"),
    (700, 799, "bus"),
    (900, 906, "tram"),
    (1000, 1000, "ferry"),
)
ALL: Final = "*"
_ALL_PAIRS_UP_TO: Final = 3000  # stops: a metro network is solved whole; a city's buses by origin
#: Two path lengths this close (relative) are the same length.
_SAME: Final = 1e-9
_NETWORKS: dict[tuple[object, ...], Network] = {}


def mode_of_route_type(route_type: int) -> str | None:
    if route_type in ROUTE_TYPE_MODES:
        return ROUTE_TYPE_MODES[route_type]
    for low, high, mode in _EXTENDED:
        if low <= route_type <= high:
            return mode
    return None


class Network:
    """Stations and, per mode, directed graphs of hops, with cached shortest paths.

    ``graphs[mode]`` holds every edge; ``levels[mode][k]`` (when the network mixes
    methods) only the edges measured by method ``k`` or a more precise one.
    """

    def __init__(
        self,
        stop_ids: list[str],
        node_of_stop: dict[str, int],
        graphs: dict[str, csr_matrix],
        levels: dict[str, list[csr_matrix]] | None = None,
        worst: int = 0,
    ) -> None:
        self.stop_ids = stop_ids
        self.node_of_stop = node_of_stop
        self.graphs = graphs
        self.levels = levels or {}
        #: The least precise method of any edge (the label of every row if unmixed).
        self.worst = worst
        self._rows: dict[tuple[str, int, int], FloatArray] = {}
        self._dense: dict[tuple[str, int], FloatArray] = {}
        self._lookup = TextLookup(
            node_of_stop, lambda stop: node_of_stop.get(stop.strip(), -1), missing=-1
        )

    def nodes(self, stops: pa.Array | pa.ChunkedArray) -> npt.NDArray[np.int32]:
        """Node index of each stop id (-1 if unknown).

        Ids are looked up as written first (one hash probe per row); only the rows that
        miss are trimmed and looked up again, once per distinct id.
        """
        return self._lookup(stops)

    def distances(self, mode: str, origins: IntArray, destinations: IntArray) -> FloatArray:
        """Shortest path length in km for each (origin, destination) node pair of ``mode``."""
        return self.measured(mode, origins, destinations)[0]

    def measured(
        self, mode: str, origins: npt.NDArray[np.integer], destinations: npt.NDArray[np.integer]
    ) -> tuple[FloatArray, npt.NDArray[np.int8]]:
        """Km and method (0 feed, 1 shape, 2 hops) of each pair's shortest path."""
        key = mode if mode in self.graphs else ALL
        km = self._lengths(key, -1, origins, destinations)
        method = np.full(km.size, self.worst, dtype=np.int8)
        for level, _ in enumerate(self.levels.get(key, ())):
            undecided = method > level
            if not undecided.any():
                break
            restricted = self._lengths(key, level, origins[undecided], destinations[undecided])
            full = km[undecided]
            same = np.isfinite(full) & (np.abs(restricted - full) <= _SAME * np.maximum(full, 1))
            rows = np.flatnonzero(undecided)[same]
            method[rows] = level
        return km, method

    def _graph(self, key: str, level: int) -> csr_matrix:
        return self.graphs[key] if level < 0 else self.levels[key][level]

    def _lengths(
        self,
        key: str,
        level: int,
        origins: npt.NDArray[np.integer],
        destinations: npt.NDArray[np.integer],
    ) -> FloatArray:
        size = self.graphs[key].shape[0]
        valid = (origins >= 0) & (destinations >= 0)
        everywhere = bool(valid.all())
        origin, destination = (
            (origins, destinations) if everywhere else (origins[valid], destinations[valid])
        )
        if origin.size == 0:
            return np.full(origins.size, np.nan)
        if size <= _ALL_PAIRS_UP_TO:
            # The whole matrix of a small network is one array: one gather per trip.
            dense = self._dense.get((key, level))
            if dense is None:
                dense = self._table(key, level, np.arange(size))
                dense = self._dense[(key, level)] = np.where(np.isinf(dense), np.nan, dense)
            found = dense[origin, destination]
        else:
            wanted = np.flatnonzero(np.bincount(origin, minlength=size))
            table = self._table(key, level, wanted)
            row_of_node = np.zeros(size, dtype=np.intp)
            row_of_node[wanted] = np.arange(wanted.size)
            found = table[row_of_node[origin], destination]
            found[np.isinf(found)] = np.nan
        if everywhere:
            return np.asarray(found, dtype=np.float64)
        result = np.full(origins.size, np.nan)
        result[valid] = found
        return result

    def _table(self, key: str, level: int, wanted: IntArray) -> FloatArray:
        """Rows of the shortest-path matrix for the ``wanted`` origins, computed once each."""
        graph = self._graph(key, level)
        missing = [node for node in wanted.tolist() if (key, level, node) not in self._rows]
        if missing:
            # A small network is solved for every origin at once; a large one origin by origin.
            indices = None if graph.shape[0] <= _ALL_PAIRS_UP_TO else missing
            from scipy.sparse.csgraph import dijkstra

            rows = np.atleast_2d(dijkstra(graph, directed=True, indices=indices))
            for node, row in zip(
                range(graph.shape[0]) if indices is None else missing, rows, strict=True
            ):
                self._rows[(key, level, node)] = row
        return np.vstack([self._rows[(key, level, node)] for node in wanted.tolist()])


def load_network(
    path: str | Path,
    *,
    unit_km: float | None = None,
    count_walks: bool = False,
    radius_m: float = SAME_STATION_M,
) -> Network:
    """The network of a GTFS feed (zip or folder), read once per file version and options.

    ``unit_km``: km per unit of ``shape_dist_traveled`` (None: detected); ``count_walks``:
    whether transfer links count their walking length; ``radius_m``: the same-station
    radius used where the feed has no transfers.txt.
    """
    source = Path(path)
    if not source.exists():
        raise InputError(f"GTFS feed {source}: no such file or folder")
    key = (str(source.resolve()), source.stat().st_mtime, unit_km, count_walks, radius_m)
    if key in _NETWORKS:
        return _NETWORKS[key]
    network = _build(Feed(source), unit_km=unit_km, count_walks=count_walks, radius_m=radius_m)
    _NETWORKS[key] = network
    return network


def _build(feed: Feed, *, unit_km: float | None, count_walks: bool, radius_m: float) -> Network:
    stops = read_stops(feed)
    routes = feed.table("routes.txt", ["route_id", "route_type"], required=("route_id",))
    trips = feed.table(
        "trips.txt", ["trip_id", "route_id", "shape_id"], required=("trip_id", "route_id")
    )
    times = feed.table(
        "stop_times.txt",
        ["trip_id", "stop_id", "stop_sequence", "shape_dist_traveled"],
        required=("trip_id", "stop_id", "stop_sequence"),
    )
    trip_ids = pc.utf8_trim_whitespace(trips.column("trip_id")).combine_chunks()
    times = times.append_column(
        "trip",
        pc.index_in(pc.utf8_trim_whitespace(times.column("trip_id")), value_set=trip_ids).fill_null(
            -1
        ),
    )
    shapes = None
    trip_shape = np.full(len(trip_ids) + 1, -1, dtype=np.intp)
    if feed.has("shapes.txt"):
        shapes = Shapes(
            feed.table(
                "shapes.txt",
                ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"],
                required=("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
            )
        )
        trip_shape[:-1] = shapes.codes(trips.column("shape_id").fill_null(""))
    try:
        hops = measure_hops(stops, times, trip_shape, shapes, unit_km)
    except InputError as exc:
        raise InputError(f"GTFS feed {feed.path}: {exc}") from None
    trip_mode = _trip_modes(routes, trips)
    hop_mode = trip_mode[hops.trip]
    link_origin, link_target, link_km = transfer_links(
        feed, stops, count_walks=count_walks, radius_m=radius_m
    )
    size = stops.stations
    worst = int(hops.method.max()) if hops.method.size else 0
    mixed = bool(hops.method.size) and int(hops.method.min()) != worst

    def graph(chosen: npt.NDArray[np.bool_]) -> csr_matrix:
        return _graph(
            np.r_[hops.origin[chosen], link_origin],
            np.r_[hops.target[chosen], link_target],
            np.r_[hops.km[chosen], link_km],
            size,
        )

    graphs: dict[str, csr_matrix] = {}
    levels: dict[str, list[csr_matrix]] = {}
    for mode in [ALL, *sorted(set(hop_mode.tolist()) - {""})]:
        of_mode = np.ones(hop_mode.size, bool) if mode == ALL else hop_mode == mode
        graphs[mode] = graph(of_mode)
        if mixed:
            levels[mode] = [graph(of_mode & (hops.method <= level)) for level in range(worst)]
    station_ids = stops.ids.take(pa.array(stops.station_row)).to_pylist()
    node_of_stop = dict(zip(stops.ids.to_pylist(), stops.node.tolist(), strict=True))
    return Network(station_ids, node_of_stop, graphs, levels, worst)


def _trip_modes(routes: pa.Table, trips: pa.Table) -> npt.NDArray[np.object_]:
    """Each trip's mode ('' where its route or route type is unknown)."""
    route_ids = pc.utf8_trim_whitespace(routes.column("route_id")).combine_chunks()
    kinds = pc.utf8_trim_whitespace(routes.column("route_type").fill_null("")).combine_chunks()
    distinct = kinds.dictionary_encode()
    mode_of_kind = np.array(
        [
            (mode_of_route_type(int(kind)) or "") if kind.isdigit() else ""
            for kind in distinct.dictionary.to_pylist()
        ]
        + [""],
        dtype=object,
    )
    route_mode = mode_of_kind[distinct.indices.to_numpy(zero_copy_only=False)]
    route_of_trip = (
        pc.index_in(pc.utf8_trim_whitespace(trips.column("route_id")), value_set=route_ids)
        .fill_null(len(route_ids))
        .to_numpy(zero_copy_only=False)
    )
    return np.asarray(np.r_[route_mode, [""]][route_of_trip], dtype=object)


def _graph(origin: IntArray, target: IntArray, length: FloatArray, size: int) -> csr_matrix:
    # Parallel edges between the same two stations keep the shortest (scipy sums duplicates).
    order = np.lexsort((length, target, origin))
    origin, target, length = origin[order], target[order], length[order]
    first = (
        np.r_[True, (origin[1:] != origin[:-1]) | (target[1:] != target[:-1])]
        if origin.size
        else np.zeros(0, bool)
    )
    from scipy.sparse import csr_matrix

    return csr_matrix((length[first], (origin[first], target[first])), shape=(size, size))
