"""Built-in plugin: scheduled public transport."""

from carbonfoot import Mode, hookimpl
from carbonfoot_builtins import _speeds

MODES = (
    Mode(
        id="bus",
        label="Local bus",
        aliases=("city-bus", "公交", "公交车", "公共汽车", "巴士"),
        category="public",
        speed=_speeds.ROAD,
    ),
    Mode(
        id="tram",
        label="Tram or light rail",
        aliases=("light-rail", "lrt", "tramway", "streetcar", "有轨电车", "轻轨"),
        category="public",
        speed=_speeds.RAIL,
    ),
    Mode(
        id="metro",
        label="Metro / subway",
        aliases=("subway", "underground", "tube", "mrt", "地铁", "城市轨道交通"),
        category="public",
        speed=_speeds.RAIL,
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
    ),
    Mode(
        id="ferry",
        label="Ferry (foot passenger)",
        aliases=("water-ferry", "轮渡", "渡轮"),
        category="public",
        speed=_speeds.WATER,
    ),
)


@hookimpl
def register_modes(register):  # type: ignore[no-untyped-def]
    for mode in MODES:
        register(mode)
