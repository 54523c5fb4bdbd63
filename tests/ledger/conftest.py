"""Ledger fixtures: the same tests run on SQLite and on PostgreSQL.

PostgreSQL comes from ``CARBONFOOT_DATABASE_URL`` (default: the local test server). If no
server answers the tests are skipped with the reason, unless ``CARBONFOOT_REQUIRE_POSTGRES=1``
(as in CI), where they fail instead. Each test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The scripts the tests drive as separate processes (a crashing writer, concurrent writers)
# are importable by name, as they are when run directly.
SCRIPTS = Path(__file__).with_name("scripts")
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))

POSTGRES_URL = (
    os.environ.get("CARBONFOOT_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> str:
    """'' if the server answers, else why not."""
    if not POSTGRES_URL.startswith(("postgresql://", "postgres://")):
        return f"CARBONFOOT_DATABASE_URL is not a PostgreSQL URL ({POSTGRES_URL})"
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed"
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return ""
    except psycopg.Error as exc:
        return f"no PostgreSQL server at {POSTGRES_URL}: {str(exc).strip().splitlines()[0]}"


_REASON = postgres_available()


def require_postgres() -> None:
    if _REASON:
        if os.environ.get("CARBONFOOT_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"CARBONFOOT_REQUIRE_POSTGRES=1 but {_REASON}")
        pytest.skip(_REASON)


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Where a fresh ledger lives, on each backend."""
    if request.param == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    require_postgres()
    schema = f"cf_test_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}schema={schema}"
    drop_schema(schema)


@pytest.fixture
def postgres_location() -> Iterator[str]:
    require_postgres()
    schema = f"cf_test_{uuid.uuid4().hex[:12]}"
    separator = "&" if "?" in POSTGRES_URL else "?"
    yield f"{POSTGRES_URL}{separator}schema={schema}"
    drop_schema(schema)


Trips = Callable[..., dict[str, list[object]]]


@pytest.fixture
def trips() -> Trips:
    def build(*rows: tuple[str, str, str, float, str]) -> dict[str, list[object]]:
        return {
            "trip_id": [r[0] for r in rows],
            "user_id": [r[1] for r in rows],
            "mode": [r[2] for r in rows],
            "distance": [r[3] for r in rows],
            "started_at": [r[4] for r in rows],
        }

    return build
