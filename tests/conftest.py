"""Shared fixtures: the installed catalog, engines on the shipped sets, trip builders."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

import carbonfoot
from carbonfoot.plugins import default_catalog

# The suite tests carbonfoot's own plugins: whatever else is installed in this environment
# stays out (tests that install a plugin pass their own CARBONFOOT_PLUGINS).
BUILT_IN_PLUGINS = "active-modes,public-transport-modes,private-vehicle-modes,factor-sets,green-credit,carbon-coin,baselines,distance-providers,distance-gtfs"
os.environ["CARBONFOOT_PLUGINS"] = BUILT_IN_PLUGINS
# Validated factor sets are cached on disk; the suite keeps its own cache, not the user's.
os.environ.setdefault("CARBONFOOT_CACHE_DIR", tempfile.mkdtemp(prefix="carbonfoot-cache-"))

settings.register_profile("default", deadline=None, max_examples=100)
settings.register_profile(
    "stress", deadline=None, max_examples=5000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

START = "2024-05-01T08:00:00+08:00"


@pytest.fixture(scope="session")
def catalog() -> carbonfoot.Catalog:
    return default_catalog()


@pytest.fixture(scope="session")
def engine(catalog: carbonfoot.Catalog) -> carbonfoot.Engine:
    return carbonfoot.Engine("uk-desnz-2025", catalog=catalog)


@pytest.fixture
def make_trips() -> Callable[..., dict[str, list[Any]]]:
    """Build an input mapping from per-trip values; unspecified columns get valid defaults."""

    def build(**columns: list[Any]) -> dict[str, list[Any]]:
        size = len(next(iter(columns.values())))
        defaults: dict[str, list[Any]] = {
            "trip_id": [f"t{i}" for i in range(size)],
            "user_id": [f"u{i}" for i in range(size)],
            "mode": ["bus"] * size,
            "distance": [1.0] * size,
            "started_at": [START] * size,
        }
        defaults.update(columns)
        return defaults

    return build
