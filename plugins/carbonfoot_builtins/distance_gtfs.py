"""Built-in plugin: transit distances from entry and exit stops, along a GTFS network.

A district supplies its GTFS feed (``--gtfs PATH``, a zip or a folder; GTFS Schedule
reference, gtfs.org). Consecutive stops of every trip in ``stop_times.txt`` become edges,
each as long as the great circle between the two stops (never longer than the track);
stops are merged into their ``parent_station``. The network of each mode is made of the
routes whose ``route_type`` is that mode's (0 tram, 1 metro, 2 rail, 3 and 11 bus, 4 ferry;
extended types 100-199 rail, 400-404 metro, 700-799 bus, 900-906 tram, 1000 ferry); a mode
without routes of its own uses the whole network.

Shortest paths (scipy's Dijkstra) are computed once per network and origin and cached for
the process, so a batch of a million stop-pair trips costs one table lookup per trip.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from carbonfoot import (
    DistanceAnswer,
    DistanceProvider,
    DistanceRequest,
    InputError,
    Parameter,
    hookimpl,
)
from carbonfoot.distances import TextLookup
from carbonfoot.distances.geo import great_circle_km

if TYPE_CHECKING:  # scipy is imported when a feed is first read, not with the plugin
    from scipy.sparse import csr_matrix

ROUTE_TYPE_MODES = {0: "tram", 1: "metro", 2: "rail", 3: "bus", 4: "ferry", 11: "bus", 12: "metro"}
_EXTENDED = (
    (100, 199, "rail"),
    (400, 404, "metro"),
    (700, 799, "bus"),
    (900, 906, "tram"),
    (1000, 1000, "ferry"),
)
_ALL = "*"
_ALL_PAIRS_UP_TO = 3000  # stops: a metro network is solved whole; a city's buses origin by origin
_NETWORKS: dict[tuple[str, float], Network] = {}


def mode_of_route_type(route_type: int) -> str | None:
    if route_type in ROUTE_TYPE_MODES:
        return ROUTE_TYPE_MODES[route_type]
    for low, high, mode in _EXTENDED:
        if low <= route_type <= high:
            return mode
    return None


class Network:
    """Stops, and a directed graph of stop-to-stop hops per mode, with cached shortest paths."""

    def __init__(
        self, stop_ids: list[str], node_of_stop: dict[str, int], graphs: dict[str, csr_matrix]
    ) -> None:
        self.stop_ids = stop_ids
        self.node_of_stop = node_of_stop
        self.graphs = graphs
        self._rows: dict[tuple[str, int], np.ndarray] = {}
        self._lookup = TextLookup(
            node_of_stop, lambda stop: node_of_stop.get(stop.strip(), -1), missing=-1
        )
        self._dense: dict[str, np.ndarray] = {}

    def nodes(self, stops: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Node index of each stop id (-1 if unknown).

        Ids are looked up as written first (one hash probe per row); only the rows that
        miss are trimmed and looked up again, once per distinct id.
        """
        return self._lookup(stops)

    def distances(self, mode: str, origins: np.ndarray, destinations: np.ndarray) -> np.ndarray:
        """Shortest path length in km for each (origin, destination) node pair of ``mode``."""
        graph_key = mode if mode in self.graphs else _ALL
        size = self.graphs[graph_key].shape[0]
        valid = (origins >= 0) & (destinations >= 0)
        everywhere = bool(valid.all())
        origin, destination = (
            (origins, destinations) if everywhere else (origins[valid], destinations[valid])
        )
        if origin.size == 0:
            return np.full(origins.size, np.nan)
        if size <= _ALL_PAIRS_UP_TO:
            # The whole matrix of a small network is one array: one gather per trip.
            dense = self._dense.get(graph_key)
            if dense is None:
                dense = self._table(graph_key, np.arange(size))
                dense = self._dense[graph_key] = np.where(np.isinf(dense), np.nan, dense)
            found = dense[origin, destination]
        else:
            wanted = np.flatnonzero(np.bincount(origin, minlength=size))
            table = self._table(graph_key, wanted)
            row_of_node = np.zeros(size, dtype=np.intp)
            row_of_node[wanted] = np.arange(wanted.size)
            found = table[row_of_node[origin], destination]
            found[np.isinf(found)] = np.nan
        if everywhere:
            return np.asarray(found, dtype=np.float64)
        result = np.full(origins.size, np.nan)
        result[valid] = found
        return result

    def _table(self, graph_key: str, wanted: np.ndarray) -> np.ndarray:
        """Rows of the shortest-path matrix for the ``wanted`` origins, computed once each."""
        graph = self.graphs[graph_key]
        missing = [node for node in wanted.tolist() if (graph_key, node) not in self._rows]
        if missing:
            # A small network is solved for every origin at once; a large one origin by origin.
            indices = None if graph.shape[0] <= _ALL_PAIRS_UP_TO else missing
            from scipy.sparse.csgraph import dijkstra

            rows = np.atleast_2d(dijkstra(graph, directed=True, indices=indices))
            for node, row in zip(
                range(graph.shape[0]) if indices is None else missing, rows, strict=True
            ):
                self._rows[(graph_key, node)] = row
        return np.vstack([self._rows[(graph_key, node)] for node in wanted.tolist()])


def _read_table(source: Path, name: str, columns: list[str]) -> pa.Table:
    convert = pa_csv.ConvertOptions(
        column_types={c: pa.string() for c in columns}, include_columns=columns
    )
    try:
        if source.is_dir():
            return pa_csv.read_csv(source / name, convert_options=convert)
        with zipfile.ZipFile(source) as archive:
            return pa_csv.read_csv(io.BytesIO(archive.read(name)), convert_options=convert)
    except (OSError, KeyError, zipfile.BadZipFile, pa.ArrowInvalid) as exc:
        raise InputError(f"GTFS feed {source}: cannot read {name} ({exc})") from None


def load_network(path: str | Path) -> Network:
    """The network of a GTFS feed (zip or folder), read once per file version."""
    source = Path(path)
    if not source.exists():
        raise InputError(f"GTFS feed {source}: no such file or folder")
    key = (str(source.resolve()), source.stat().st_mtime)
    if key in _NETWORKS:
        return _NETWORKS[key]
    stops = _read_stops(source)
    routes = _read_table(source, "routes.txt", ["route_id", "route_type"])
    trips = _read_table(source, "trips.txt", ["trip_id", "route_id"])
    times = _read_table(source, "stop_times.txt", ["trip_id", "stop_id", "stop_sequence"])
    node_of_stop, lat, lon, stop_ids = stops
    route_mode = {
        route: mode_of_route_type(int(kind))
        for route, kind in zip(
            routes.column("route_id").to_pylist(),
            routes.column("route_type").to_pylist(),
            strict=True,
        )
        if kind is not None and str(kind).strip().isdigit()
    }
    trip_mode = {
        trip: route_mode.get(route)
        for trip, route in zip(
            trips.column("trip_id").to_pylist(), trips.column("route_id").to_pylist(), strict=True
        )
    }
    times = times.append_column("order", pc.cast(times.column("stop_sequence"), pa.int64()))
    times = times.sort_by([("trip_id", "ascending"), ("order", "ascending")])
    trip_ids = np.asarray(times.column("trip_id").to_pylist(), dtype=object)
    nodes = np.array([node_of_stop.get(stop, -1) for stop in times.column("stop_id").to_pylist()])
    same_trip = trip_ids[1:] == trip_ids[:-1]
    hops = np.flatnonzero(
        same_trip & (nodes[1:] >= 0) & (nodes[:-1] >= 0) & (nodes[1:] != nodes[:-1])
    )
    origin, target = nodes[hops], nodes[hops + 1]
    length = great_circle_km(lat[origin], lon[origin], lat[target], lon[target])
    hop_mode = np.array([trip_mode.get(trip) or "" for trip in trip_ids[hops]], dtype=object)
    size = len(stop_ids)
    graphs = {_ALL: _graph(origin, target, length, size)}
    for mode in sorted(set(hop_mode.tolist()) - {""}):
        chosen = hop_mode == mode
        graphs[mode] = _graph(origin[chosen], target[chosen], length[chosen], size)
    network = Network(stop_ids, node_of_stop, graphs)
    _NETWORKS[key] = network
    return network


def _read_stops(source: Path) -> tuple[dict[str, int], np.ndarray, np.ndarray, list[str]]:
    header = ["stop_id", "stop_lat", "stop_lon", "parent_station"]
    try:
        table = _read_table(source, "stops.txt", header)
    except InputError:
        table = _read_table(source, "stops.txt", header[:3])
    ids = table.column("stop_id").to_pylist()
    parents = (
        table.column("parent_station").to_pylist()
        if "parent_station" in table.column_names
        else [None] * len(ids)
    )
    lat = np.asarray(pc.cast(table.column("stop_lat"), pa.float64()).to_numpy(zero_copy_only=False))
    lon = np.asarray(pc.cast(table.column("stop_lon"), pa.float64()).to_numpy(zero_copy_only=False))
    # A platform is merged into its station: the station is the node, at its own position.
    stations = [i for i, parent in enumerate(parents) if not parent]
    node_of_row = {row: node for node, row in enumerate(stations)}
    index_of_id = {stop: row for row, stop in enumerate(ids)}
    node_of_stop: dict[str, int] = {}
    for row, stop in enumerate(ids):
        parent = parents[row]
        station_row = index_of_id.get(parent, row) if parent else row
        if station_row in node_of_row:
            node_of_stop[stop] = node_of_row[station_row]
    return node_of_stop, lat[stations], lon[stations], [ids[row] for row in stations]


def _graph(origin: np.ndarray, target: np.ndarray, length: np.ndarray, size: int) -> csr_matrix:
    # Parallel hops between the same two stops keep the shortest (scipy sums duplicates).
    order = np.lexsort((length, target, origin))
    origin, target, length = origin[order], target[order], length[order]
    first = (
        np.r_[True, (origin[1:] != origin[:-1]) | (target[1:] != target[:-1])]
        if origin.size
        else np.zeros(0, bool)
    )
    from scipy.sparse import csr_matrix

    return csr_matrix((length[first], (origin[first], target[first])), shape=(size, size))


def from_stops(request: DistanceRequest) -> DistanceAnswer:
    path = request.options.get("gtfs")
    size = len(request.columns["from_stop"])
    if path is None:
        return DistanceAnswer(
            np.full(size, np.nan), "from_stop/to_stop need a GTFS feed (--gtfs PATH)"
        )
    network = load_network(path)
    origins = network.nodes(request.columns["from_stop"])
    destinations = network.nodes(request.columns["to_stop"])
    codes = request.mode_codes
    if codes is None:  # a caller that names modes only
        names, codes = np.unique(request.mode_ids.astype(str), return_inverse=True)
    else:
        names = np.asarray((*request.modes.ids, ""), dtype=object)
        codes = np.where(codes < 0, len(request.modes.ids), codes)  # no mode: the last name
    present = np.flatnonzero(np.bincount(codes, minlength=1))
    if present.size == 1:  # one mode, as a metro-only batch: no per-mode split
        km = network.distances(str(names[present[0]]), origins, destinations)
    else:
        km = np.full(size, np.nan)
        for code in present.tolist():
            rows = np.flatnonzero(codes == code)
            km[rows] = network.distances(str(names[code]), origins[rows], destinations[rows])
    unknown = (origins < 0) | (destinations < 0)
    # Two reasons, so a dictionary column: no text per row.
    reasons = pa.DictionaryArray.from_arrays(
        pa.array(unknown.astype(np.int8)),
        pa.array(
            [
                "no path between from_stop and to_stop on this mode's network",
                "from_stop or to_stop is not a stop of the GTFS feed",
            ]
        ),
    )
    return DistanceAnswer(km, reasons)


def _path(raw: Any) -> str:
    text = str(raw).strip()
    if not text:
        raise ValueError("give the path of a GTFS zip or folder")
    return text


PROVIDER = DistanceProvider(
    id="gtfs",
    columns=("from_stop", "to_stop"),
    priority=10,
    description="shortest path between two stops along a GTFS feed's network (great-circle hops)",
    derive=from_stops,
    parameters=(
        Parameter("gtfs", "path of the GTFS feed, a zip or a folder (default: none)", _path),
    ),
)


@hookimpl
def register_distance_providers(register):  # type: ignore[no-untyped-def]
    register(PROVIDER)
