"""Helpers shared by the tests of the built-in distance providers."""

from __future__ import annotations

import math
from pathlib import Path

from carbonfoot import Engine
from carbonfoot.distances.geo import EARTH_RADIUS_KM

GTFS = Path(__file__).resolve().parents[1] / "data" / "gtfs-mini"
HOP_KM = EARTH_RADIUS_KM * math.pi / 180 * 0.01  # 0.01 degree of latitude


def derive(engine: Engine, **columns: list[object]) -> list[dict[str, object]]:
    size = len(next(iter(columns.values())))
    trips = {
        "trip_id": [f"t{i}" for i in range(size)],
        "user_id": [f"u{i}" for i in range(size)],
        "started_at": ["2024-05-01T08:00:00+08:00"] * size,
        **columns,
    }
    return engine.compute(trips).to_pylist()
