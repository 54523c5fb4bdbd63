"""Where the ledger lives: SQLite (embedded, the default) or PostgreSQL (several services).

Both backends expose the same small interface to the ledger: a serialized write
transaction, reads, and a few queries that differ by dialect. SQL is written once with
``?`` placeholders; the PostgreSQL store turns them into ``%s``.

SQLite is opened in WAL mode with ``synchronous=FULL`` (read back, and refused otherwise: a
committed credit must survive a power cut), a busy timeout, and ``BEGIN IMMEDIATE`` for
every write transaction, so writers queue instead of failing. PostgreSQL write
transactions lock the ledger's head row first, which serializes writers across processes
and machines; the ledger's rules (caps, balances, the hash chain) then hold as if one
writer ran at a time.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

from carbonfoot.errors import LedgerError

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_DATABASE",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "open_store",
]

DATABASE_ENV = "CARBONFOOT_DATABASE_URL"
DEFAULT_DATABASE = "carbonfoot-ledger.db"
BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 128 * 1024
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_TABLES = """
CREATE TABLE IF NOT EXISTS ledger_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT NOT NULL,
    last_block BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS entries (
    seq BIGINT PRIMARY KEY,
    entry_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    trip_id TEXT,
    request_id TEXT,
    item TEXT,
    corrects TEXT,
    local_day INTEGER,
    mode TEXT,
    distance_km DOUBLE PRECISION,
    started_us BIGINT,
    savings_mg BIGINT,
    award_minor BIGINT,
    run_id TEXT,
    note TEXT,
    digest TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_credit_per_trip ON entries (trip_id) WHERE kind = 'credit';
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_redemption_per_request ON entries (request_id) WHERE kind = 'redemption';
CREATE INDEX IF NOT EXISTS entries_by_user ON entries (user_id, seq);
CREATE TABLE IF NOT EXISTS accounts (
    account TEXT PRIMARY KEY,
    decimals INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    factor_set TEXT NOT NULL,
    factor_set_hash TEXT NOT NULL,
    baseline TEXT NOT NULL,
    policy TEXT NOT NULL,
    policy_params TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
    block BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    entries_hash TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS balances (
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    balance_minor BIGINT NOT NULL CHECK (balance_minor >= 0),
    PRIMARY KEY (user_id, account)
);
CREATE TABLE IF NOT EXISTS day_totals (
    user_id TEXT NOT NULL,
    local_day INTEGER NOT NULL,
    account TEXT NOT NULL,
    issued_minor BIGINT NOT NULL,
    PRIMARY KEY (user_id, local_day, account)
);
"""

_SQLITE_GUARDS = """
CREATE TRIGGER IF NOT EXISTS entries_are_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_are_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER IF NOT EXISTS blocks_are_append_only_update BEFORE UPDATE ON blocks
BEGIN SELECT RAISE(ABORT, 'ledger blocks are append-only'); END;
CREATE TRIGGER IF NOT EXISTS blocks_are_append_only_delete BEFORE DELETE ON blocks
BEGIN SELECT RAISE(ABORT, 'ledger blocks are append-only'); END;
"""

_POSTGRES_GUARDS = """
CREATE OR REPLACE FUNCTION carbonfoot_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'ledger % are append-only', TG_TABLE_NAME; END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS entries_are_append_only ON entries;
CREATE TRIGGER entries_are_append_only BEFORE UPDATE OR DELETE ON entries
FOR EACH ROW EXECUTE FUNCTION carbonfoot_append_only();
DROP TRIGGER IF EXISTS blocks_are_append_only ON blocks;
CREATE TRIGGER blocks_are_append_only BEFORE UPDATE OR DELETE ON blocks
FOR EACH ROW EXECUTE FUNCTION carbonfoot_append_only();
"""

GENESIS = "0" * 64


class Store:
    """The interface both backends implement (see the module docstring)."""

    dialect = "abstract"
    description = ""

    @contextmanager
    def write(self) -> Iterator[Any]:  # pragma: no cover - interface
        raise NotImplementedError
        yield

    @contextmanager
    def read(self) -> Iterator[Any]:  # pragma: no cover - interface
        raise NotImplementedError
        yield

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (...)`` condition and its parameters, in this dialect."""
        raise NotImplementedError  # pragma: no cover


class SqliteStore(Store):
    """The embedded default: one file, WAL, synchronous=FULL, serialized writers."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        try:
            self.connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: cannot open the ledger database ({exc})") from None
        self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self.connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        self.connection.execute("PRAGMA synchronous = FULL")
        synchronous = self.connection.execute("PRAGMA synchronous").fetchone()[0]
        if str(mode).lower() != "wal" or synchronous != 2:
            self.connection.close()
            raise LedgerError(
                f"{self.path}: the ledger needs journal_mode=WAL and synchronous=FULL, "
                f"got {mode} and {synchronous}; refusing to run without durable commits"
            )
        # Index pages of a large ledger stay in memory (trip ids arrive in random order).
        self.connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        with self.write() as cursor:
            # In SQLite only INTEGER PRIMARY KEY makes seq the row id itself (no second index).
            tables = _TABLES.replace("seq BIGINT PRIMARY KEY", "seq INTEGER PRIMARY KEY")
            cursor.executescript_parts(tables + _SQLITE_GUARDS)
            cursor.execute(
                "INSERT INTO ledger_head (id, last_seq, last_block, last_hash) VALUES (1, 0, 0, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (GENESIS,),
            )

    @contextmanager
    def write(self) -> Iterator[_SqliteCursor]:
        cursor = _SqliteCursor(self.connection)
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            self.connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[_SqliteCursor]:
        cursor = _SqliteCursor(self.connection)
        cursor.execute("BEGIN")
        try:
            yield cursor
        finally:
            self.connection.execute("COMMIT")

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        marks = ",".join("?" * len(values))
        return f"{column} IN ({marks})", list(values)

    def close(self) -> None:
        self.connection.close()


class _SqliteCursor:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)

    def executescript_parts(self, script: str) -> None:
        for statement in _statements(script):
            self.connection.execute(statement)


class PostgresStore(Store):
    """Several service instances at once: PostgreSQL through psycopg 3.

    A ``schema=NAME`` query parameter in the URL keeps the ledger in its own schema
    (created if missing), e.g. for tests sharing a database.
    """

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                "a PostgreSQL ledger needs psycopg: pip install 'carbonfoot[postgres]'"
            ) from None
        clean_url, schema = _split_schema(url)
        self.description = _redacted(clean_url) + (f" (schema {schema})" if schema else "")
        try:
            self.connection = psycopg.connect(clean_url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise LedgerError(
                f"{self.description}: cannot connect ({str(exc).strip().splitlines()[0]})"
            ) from None
        if schema:
            self.connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            self.connection.execute(f'SET search_path TO "{schema}"')
        self.connection.autocommit = False
        with self.connection.transaction():
            # Creating the tables is serialized too: two services starting at once.
            self.connection.execute("SELECT pg_advisory_xact_lock(7406150861)")
            for statement in _statements(_TABLES):
                self.connection.execute(statement.replace("DOUBLE PRECISION", "DOUBLE PRECISION"))
            self.connection.execute(_POSTGRES_GUARDS)
            self.connection.execute(
                "INSERT INTO ledger_head (id, last_seq, last_block, last_hash) VALUES (1, 0, 0, %s) "
                "ON CONFLICT (id) DO NOTHING",
                (GENESIS,),
            )

    @contextmanager
    def write(self) -> Iterator[_PostgresCursor]:
        with self.connection.transaction():
            cursor = _PostgresCursor(self.connection)
            cursor.execute("SELECT last_seq FROM ledger_head WHERE id = 1 FOR UPDATE")
            yield cursor

    @contextmanager
    def read(self) -> Iterator[_PostgresCursor]:
        with self.connection.transaction():
            cursor = _PostgresCursor(self.connection)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield cursor

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def close(self) -> None:
        self.connection.close()


class _PostgresCursor:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cursor = self.connection.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall() if cursor.description is not None else []

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), rows)


def _statements(script: str) -> list[str]:
    """Split a script on statement ends, keeping trigger bodies (BEGIN ... END;) whole."""
    statements, current = [], []
    depth = 0
    for line in script.splitlines():
        if not line.strip():
            continue
        current.append(line)
        words = line.upper().split()
        if "BEGIN" in words:
            depth += 1
        if line.strip().upper().startswith("BEGIN SELECT") and line.strip().upper().endswith(
            "END;"
        ):
            depth -= 1
        if line.rstrip().endswith(";") and depth == 0:
            statements.append("\n".join(current))
            current = []
    if current:
        statements.append("\n".join(current))
    return statements


def _split_schema(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    query = parse_qs(parts.query)
    schema = query.pop("schema", [""])[0]
    if schema and not _SCHEMA_NAME.match(schema):
        raise LedgerError(f"schema name {schema!r} must be lowercase letters, digits and _")
    clean = urlunparse(parts._replace(query=urlencode(query, doseq=True)))
    return clean, schema


def _redacted(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunparse(parts._replace(netloc=netloc))
    return url


def open_store(location: str | Path | None = None) -> Store:
    """A store for ``location``: a ``postgresql://`` URL or a SQLite file path.

    Without one: ``CARBONFOOT_DATABASE_URL``, else ``carbonfoot-ledger.db`` in the working
    directory.
    """
    target = (
        str(location) if location is not None else os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE
    )
    if target.startswith(("postgresql://", "postgres://")):
        return PostgresStore(target)
    if target.startswith("sqlite:///"):
        target = target[len("sqlite:///") :]
    return SqliteStore(target)
