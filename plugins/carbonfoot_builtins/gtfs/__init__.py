"""The GTFS distance provider's machinery: a feed read into a network of stations.

``feed`` reads the files (bounded, ids unique), ``stops`` turns stops into stations,
``shapes`` measures along shapes, ``hops`` measures each hop of each trip by the best
method the feed allows, ``transfers`` links stations a rider changes between, and
``network`` builds the graphs and caches their shortest paths.
"""

from .network import Network, load_network, mode_of_route_type

__all__ = ["Network", "load_network", "mode_of_route_type"]
