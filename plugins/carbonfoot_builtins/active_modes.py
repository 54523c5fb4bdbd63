"""Built-in plugin: modes moved by people, with or without a small electric motor."""

from carbonfoot import Mode, hookimpl
from carbonfoot_builtins import _distances, _speeds

MODES = (
    Mode(
        id="walk",
        label="Walk",
        aliases=("walking", "foot", "on-foot", "步行", "走路"),
        category="active",
        speed=_speeds.WALK,
        max_trip_km=_distances.WALK.max_trip_km,
        max_daily_km=_distances.WALK.max_daily_km,
    ),
    Mode(
        id="bike",
        label="Bicycle (own)",
        aliases=("bicycle", "cycle", "cycling", "自行车", "骑行", "单车"),
        category="active",
        speed=_speeds.BIKE,
        max_trip_km=_distances.BIKE.max_trip_km,
        max_daily_km=_distances.BIKE.max_daily_km,
    ),
    Mode(
        id="shared-bike",
        label="Shared or public bicycle",
        aliases=("bike-share", "bikeshare", "public-bicycle", "共享单车", "公共自行车"),
        category="active",
        speed=_speeds.BIKE,
        max_trip_km=_distances.SHARED_BIKE.max_trip_km,
        max_daily_km=_distances.SHARED_BIKE.max_daily_km,
    ),
    Mode(
        id="e-bike",
        label="Electric bicycle",
        aliases=("ebike", "electric-bike", "pedelec", "电动自行车", "电单车", "电动车", "电瓶车"),
        category="micromobility",
        speed=_speeds.E_BIKE,
        max_trip_km=_distances.MICROMOBILITY.max_trip_km,
        max_daily_km=_distances.MICROMOBILITY.max_daily_km,
    ),
    Mode(
        id="e-scooter",
        label="Electric kick scooter",
        aliases=("escooter", "electric-scooter", "kick-scooter", "电动滑板车"),
        category="micromobility",
        speed=_speeds.E_SCOOTER,
        max_trip_km=_distances.MICROMOBILITY.max_trip_km,
        max_daily_km=_distances.MICROMOBILITY.max_daily_km,
    ),
)


@hookimpl
def register_modes(register):  # type: ignore[no-untyped-def]
    for mode in MODES:
        register(mode)
