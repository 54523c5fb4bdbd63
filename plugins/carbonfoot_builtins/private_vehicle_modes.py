"""Built-in plugin: cars, taxis and motorbikes, shared or not.

``car`` is the factor set's average car (fuel unknown); the fuel-specific modes let a
platform that knows the vehicle use its own factor.
"""

from carbonfoot import Mode, hookimpl
from carbonfoot_builtins import _distances, _speeds

MODES = (
    Mode(
        id="carpool",
        label="Carpool (shared private car)",
        aliases=("car-pool", "car-sharing-ride", "拼车", "顺风车", "合乘"),
        category="shared",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="taxi",
        label="Taxi or ride-hailing",
        aliases=("cab", "ride-hailing", "出租车", "的士", "网约车"),
        category="shared",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="car",
        label="Car, average (fuel unknown)",
        aliases=("private-car", "automobile", "小汽车", "私家车", "汽车"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="car-petrol",
        label="Car, petrol",
        aliases=("petrol-car", "gasoline-car", "汽油车"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="car-diesel",
        label="Car, diesel",
        aliases=("diesel-car", "柴油车"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="car-hybrid",
        label="Car, hybrid",
        aliases=("hybrid-car", "hev", "混合动力汽车", "油电混合"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="car-bev",
        label="Car, battery electric",
        aliases=("bev", "electric-car", "ev", "纯电动汽车", "电动汽车"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
    Mode(
        id="motorbike",
        label="Motorbike",
        aliases=("motorcycle", "摩托车"),
        category="private",
        speed=_speeds.ROAD,
        max_trip_km=_distances.ROAD.max_trip_km,
        max_daily_km=_distances.ROAD.max_daily_km,
    ),
)


@hookimpl
def register_modes(register):  # type: ignore[no-untyped-def]
    for mode in MODES:
        register(mode)
