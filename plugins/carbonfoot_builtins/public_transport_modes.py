"""Built-in plugin: scheduled public transport."""

from carbonfoot import Mode, hookimpl
from carbonfoot_builtins import _distances, _speeds

MODES = (
    Mode(
        id="bus",
        label="Local bus",
        aliases=("city-bus", "公交", "公交车", "公共汽车", "巴士"),
        category="public",
        speed=_speeds.ROAD,
        max_trip_km=_distances.LOCAL_TRANSIT.max_trip_km,
        max_daily_km=_distances.LOCAL_TRANSIT.max_daily_km,
    ),
    Mode(
        id="tram",
        label="Tram or light rail",
        aliases=("light-rail", "lrt", "tramway", "streetcar", "有轨电车", "轻轨"),
        category="public",
        speed=_speeds.RAIL,
        max_trip_km=_distances.LOCAL_TRANSIT.max_trip_km,
        max_daily_km=_distances.LOCAL_TRANSIT.max_daily_km,
    ),
    Mode(
        id="metro",
        label="Metro / subway",
        aliases=("subway", "underground", "tube", "mrt", "地铁", "城市轨道交通"),
        category="public",
        speed=_speeds.RAIL,
        max_trip_km=_distances.METRO.max_trip_km,
        max_daily_km=_distances.METRO.max_daily_km,
    ),
    Mode(
        id="rail",
        label="Suburban or national rail",
        aliases=(
            "train",
            "national-rail",
            "suburban-rail",
            "commuter-rail",
            "火车",
            "铁路",
            "市域铁路",
        ),
        category="public",
        speed=_speeds.RAIL,
        max_trip_km=_distances.RAIL.max_trip_km,
        max_daily_km=_distances.RAIL.max_daily_km,
    ),
    Mode(
        id="ferry",
        label="Ferry (foot passenger)",
        aliases=("water-ferry", "轮渡", "渡轮"),
        category="public",
        speed=_speeds.WATER,
        max_trip_km=_distances.LOCAL_TRANSIT.max_trip_km,
        max_daily_km=_distances.LOCAL_TRANSIT.max_daily_km,
    ),
)


@hookimpl
def register_modes(register):  # type: ignore[no-untyped-def]
    for mode in MODES:
        register(mode)
