"""Where the ledger lives: SQLite (embedded, the default) or PostgreSQL (several services).

Both backends expose the same small interface to the ledger: serialized write
transactions (with retries of what is safe to retry), reads, and a few queries that
differ by dialect. SQL is written once with ``?`` placeholders; the PostgreSQL store turns
them into ``%s``.

**A ledger knows itself.** Its ``ledger_meta`` table names the application and the schema
version. Opening checks it: a newer schema is refused, an older one is migrated (under a
lock, once), a file or database that is not a carbonfoot ledger is refused by name, and a
ledger is only created when asked (``create=True``: ``ledger credit`` and ``ledger init``);
a read never creates one. The schema, its indexes and its append-only triggers are
created by the migrations, never on an ordinary open.

SQLite is opened in WAL mode with ``synchronous=FULL`` (read back, and refused otherwise: a
committed credit must survive a power cut), a busy timeout, and ``BEGIN IMMEDIATE`` for
every write transaction, so writers queue instead of failing. PostgreSQL write
transactions lock the ledger's head row first, which serializes writers across processes
and machines; a lock timeout and a statement timeout (URL parameters ``lock_timeout`` and
``statement_timeout``, in seconds) bound how long a stalled client can hold the others up.
Deadlocks, serialization failures and dropped connections are retried a few times (every
ledger write is idempotent: by trip id, request id, or because it writes only what is
missing); anything else becomes one line, a :class:`LedgerError`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

from carbonfoot.errors import LedgerError

__all__ = [
    "DATABASE_ENV",
    "DEFAULT_DATABASE",
    "SCHEMA_VERSION",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "open_store",
]

T = TypeVar("T")

DATABASE_ENV = "CARBONFOOT_DATABASE_URL"
DEFAULT_DATABASE = "carbonfoot-ledger.db"
BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 128 * 1024
#: The schema this carbonfoot writes; older ledgers are migrated to it when opened.
SCHEMA_VERSION: Final = 3
APPLICATION: Final = "carbonfoot ledger"
#: PostgreSQL: how long a writer waits for the ledger's lock, and a statement may run (s).
LOCK_TIMEOUT_S: Final = 30
STATEMENT_TIMEOUT_S: Final = 600
#: Attempts at a write transaction that failed for a reason safe to retry.
WRITE_ATTEMPTS: Final = 5
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

#: The schema of a fresh ledger, with :data:`_V2_TO_V3` (version 3).
_TABLES = """
CREATE TABLE IF NOT EXISTS ledger_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
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
    digest TEXT NOT NULL,
    district TEXT,
    ended_us BIGINT,
    status TEXT
);
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
    policy_params TEXT NOT NULL,
    baseline_request TEXT,
    baseline_params TEXT
);
CREATE TABLE IF NOT EXISTS blocks (
    block BIGINT PRIMARY KEY,
    first_seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    entries_hash TEXT NOT NULL,
    block_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    format INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS balances (
    user_id TEXT NOT NULL,
    account TEXT NOT NULL,
    balance_minor BIGINT NOT NULL CHECK (balance_minor >= 0),
    owed_minor BIGINT NOT NULL DEFAULT 0 CHECK (owed_minor >= 0),
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

#: Indexes of every version-2 ledger: the uniqueness rules, and the reads that need one.
_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_credit_per_trip ON entries (trip_id) WHERE kind = 'credit';
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_redemption_per_request ON entries (request_id) WHERE kind = 'redemption';
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_reversal_per_trip ON entries (trip_id) WHERE kind = 'reversal';
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_quarantine_per_trip ON entries (trip_id) WHERE kind = 'quarantine';
CREATE UNIQUE INDEX IF NOT EXISTS entries_one_refusal_per_trip ON entries (trip_id) WHERE kind = 'refusal';
CREATE INDEX IF NOT EXISTS entries_by_user ON entries (user_id, seq);
CREATE INDEX IF NOT EXISTS entries_by_user_start ON entries (user_id, started_us);
"""

#: From version 1 (before ledger_meta) to version 2: the fields of format-2 entries, the
#: block's format, what a user owes after a reversal of spent credits, and the baseline as
#: asked for (so a run can be rebuilt).
_V1_TO_V2 = """
ALTER TABLE entries ADD COLUMN district TEXT;
ALTER TABLE entries ADD COLUMN ended_us BIGINT;
ALTER TABLE entries ADD COLUMN status TEXT;
ALTER TABLE blocks ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE balances ADD COLUMN owed_minor BIGINT NOT NULL DEFAULT 0 CHECK (owed_minor >= 0);
ALTER TABLE runs ADD COLUMN baseline_request TEXT;
ALTER TABLE runs ADD COLUMN baseline_params TEXT;
CREATE TABLE IF NOT EXISTS ledger_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

#: From version 2 to version 3: the HTTP service's API keys and which key reported each
#: trip. Keys live beside the ledger so they follow it (a backup or a second instance of
#: the service has the same partners); only a digest of each key is kept (see
#: :mod:`carbonfoot.ledger.keys`). A trip's reporter is a side table keyed by trip id, so
#: the entries, their chain and its formats stay as they were.
_V2_TO_V3 = """
CREATE TABLE IF NOT EXISTS api_keys (
    name TEXT PRIMARY KEY,
    key_digest TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS trip_reporters (
    trip_id TEXT PRIMARY KEY,
    key_name TEXT NOT NULL,
    reported_at TEXT NOT NULL
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
#: The tables that make a database a carbonfoot ledger of version 1 (before ledger_meta).
_V1_TABLES = {"ledger_head", "entries", "blocks", "balances", "day_totals", "runs", "accounts"}


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

    def transaction(self, work: Callable[[Any], T]) -> T:
        """``work(cursor)`` in one write transaction, retried where that is safe."""
        raise NotImplementedError  # pragma: no cover

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A ``column IN (...)`` condition and its parameters, in this dialect."""
        raise NotImplementedError  # pragma: no cover

    # -- the schema --------------------------------------------------------------------

    def _migrate(self, cursor: Any, version: int) -> None:
        """Bring a ledger of ``version`` (0: none yet) to :data:`SCHEMA_VERSION`."""
        if version == 0:
            self._script(cursor, self._tables())
            cursor.execute(
                "INSERT INTO ledger_head (id, last_seq, last_block, last_hash) VALUES (1, 0, 0, ?)",
                (GENESIS,),
            )
        elif version == 1:
            self._script(cursor, _V1_TO_V2)
        self._script(cursor, _V2_TO_V3)  # every path: a new ledger gets these tables too
        self._script(cursor, _INDEXES)
        self._guards(cursor)
        cursor.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('application', ?) "
            "ON CONFLICT (key) DO NOTHING",
            (APPLICATION,),
        )
        cursor.execute(
            "INSERT INTO ledger_meta (key, value) VALUES ('schema', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )

    def _tables(self) -> str:
        return _TABLES

    def _script(self, cursor: Any, script: str) -> None:
        for statement in _statements(script):
            cursor.execute(statement)

    def _guards(self, cursor: Any) -> None:  # pragma: no cover - each dialect has its own
        raise NotImplementedError

    def _check_version(self, version: int | None, create: bool) -> int:
        """The version to migrate from (0: create), or an error saying why not."""
        if version is None:
            if not create:
                raise LedgerError(
                    f"{self.description}: no carbonfoot ledger there; `carbonfoot ledger init "
                    "--db ...` creates one (or `ledger credit`, which creates it on first use)"
                )
            return 0
        if version > SCHEMA_VERSION:
            raise LedgerError(
                f"{self.description}: the ledger has schema version {version}, written by a newer "
                f"carbonfoot; this one reads up to version {SCHEMA_VERSION}: upgrade carbonfoot"
            )
        return version


class SqliteStore(Store):
    """The embedded default: one file, WAL, synchronous=FULL, serialized writers."""

    dialect = "sqlite"

    def __init__(self, path: str | Path, *, create: bool = False, _in_place: bool = False) -> None:
        self.path = Path(path)
        self.description = str(self.path)
        _check_sqlite_file(self.path, create=create)
        if create and not _in_place and not self.path.exists():
            _create_whole(self.path)
        try:
            self.connection = sqlite3.connect(
                self.path,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"{self.path}: cannot open the ledger database ({exc})") from None
        try:
            version = self._found_version()
            start = self._check_version(version, create)
            self._durable()
            if start < SCHEMA_VERSION:
                with self.write() as cursor:
                    # Another process may have migrated it meanwhile: look again, locked.
                    again = self._found_version()
                    if again is None or again < SCHEMA_VERSION:
                        self._migrate(cursor, again or 0)
        except BaseException:
            self.connection.close()
            raise

    def _found_version(self) -> int | None:
        """The ledger's schema version; None for a database with no tables at all."""
        try:
            tables = {
                row[0]
                for row in self.connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table'"
                ).fetchall()
            }
        except sqlite3.DatabaseError as exc:
            raise LedgerError(
                f"{self.path}: is not a SQLite database, so not a carbonfoot ledger ({exc})"
            ) from None
        return _version_of(tables, self._meta, self.description)

    def _meta(self) -> dict[str, str]:
        return dict(self.connection.execute("SELECT key, value FROM ledger_meta").fetchall())

    def _durable(self) -> None:
        self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        mode = self.connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        self.connection.execute("PRAGMA synchronous = FULL")
        synchronous = self.connection.execute("PRAGMA synchronous").fetchone()[0]
        if str(mode).lower() != "wal" or synchronous != 2:
            raise LedgerError(
                f"{self.path}: the ledger needs journal_mode=WAL and synchronous=FULL, "
                f"got {mode} and {synchronous}; refusing to run without durable commits"
            )
        # Index pages of a large ledger stay in memory (trip ids arrive in random order).
        self.connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def _tables(self) -> str:
        # In SQLite only INTEGER PRIMARY KEY makes seq the row id itself (no second index).
        return _TABLES.replace("seq BIGINT PRIMARY KEY", "seq INTEGER PRIMARY KEY")

    def _guards(self, cursor: Any) -> None:
        self._script(cursor, _SQLITE_GUARDS)

    @contextmanager
    def write(self) -> Iterator[_SqliteCursor]:
        cursor = _SqliteCursor(self.connection)
        with _sqlite_errors(self.description):
            cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        else:
            with _sqlite_errors(self.description):
                self.connection.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[_SqliteCursor]:
        cursor = _SqliteCursor(self.connection)
        with _sqlite_errors(self.description):
            cursor.execute("BEGIN")
        try:
            yield cursor
        finally:
            self.connection.execute("COMMIT")

    def transaction(self, work: Callable[[Any], T]) -> T:
        # Writers queue on the busy timeout; a write that still fails is not retried.
        with self.write() as cursor, _sqlite_errors(self.description):
            return work(cursor)

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        marks = ",".join("?" * len(values))
        return f"{column} IN ({marks})", list(values)

    def close(self) -> None:
        self.connection.close()


def _create_whole(path: Path) -> None:
    """A new ledger file that appears whole: made under a temporary name, then linked into
    place. Another process creating the same ledger at the same moment never sees a
    half-made file (an empty file is refused as not a ledger); if it wins, its file stays.
    """
    temporary = path.parent / f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.creating"
    try:
        SqliteStore(temporary, create=True, _in_place=True).close()
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # made by another process meanwhile: theirs is whole too
        except OSError:  # no hard links here: renamed if still absent (a narrow race remains)
            if not path.exists():
                os.replace(temporary, path)
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{end}") for end in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)


def _check_sqlite_file(path: Path, *, create: bool) -> None:
    """Refuse, by name, what is not a SQLite ledger file (or creatable as one)."""
    if path.is_dir():
        raise LedgerError(f"{path}: is a folder, not a ledger database file")
    if not path.exists():
        if not create:
            raise LedgerError(
                f"{path}: no ledger database there; `carbonfoot ledger init --db {path}` creates "
                "one (or `ledger credit`, which creates it on first use)"
            )
        if not path.parent.is_dir():
            raise LedgerError(f"{path}: its folder {path.parent} does not exist")
        return
    # Only stat, never open: closing any other descriptor of a SQLite file drops every
    # POSIX lock this process holds on it (fcntl locks are per process), so a header read
    # beside open connections (a service's pool) let another process take itself for the
    # last user, checkpoint and reset the WAL index under them: their reads went stale for
    # good. SQLite itself refuses a file that is not a database (see _found_version).
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read the ledger database ({exc.strerror})") from None
    if size == 0:
        raise LedgerError(f"{path}: is an empty file, not a carbonfoot ledger")


def _version_of(
    tables: set[str], meta: Callable[[], dict[str, str]], description: str
) -> int | None:
    """The schema version a database's tables say it has (None: no tables at all)."""
    if "ledger_meta" in tables:
        values = meta()
        if values.get("application") != APPLICATION:
            raise LedgerError(f"{description}: not a carbonfoot ledger (its ledger_meta says so)")
        try:
            return int(values.get("schema", ""))
        except ValueError:
            raise LedgerError(f"{description}: the ledger's schema version is unreadable") from None
    if tables >= _V1_TABLES:
        return 1
    if tables:
        shown = ", ".join(sorted(tables)[:6]) + (", ..." if len(tables) > 6 else "")
        raise LedgerError(
            f"{description}: not a carbonfoot ledger: it holds another application's tables ({shown})"
        )
    return None


@contextmanager
def _sqlite_errors(description: str) -> Iterator[None]:
    """SQLite's failures (a lock held past the busy timeout, a full disk, a constraint the
    database refused) in one line."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        raise LedgerError(f"{description}: {exc}") from None


class _SqliteCursor:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.connection.execute(sql, params).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)


class PostgresStore(Store):
    """Several service instances at once: PostgreSQL through psycopg 3.

    A ``schema=NAME`` query parameter in the URL keeps the ledger in its own schema
    (created if missing), e.g. for tests sharing a database. ``lock_timeout`` and
    ``statement_timeout`` (seconds) bound waits (defaults :data:`LOCK_TIMEOUT_S`,
    :data:`STATEMENT_TIMEOUT_S`).
    """

    dialect = "postgresql"

    def __init__(self, url: str, *, create: bool = False) -> None:
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                "a PostgreSQL ledger needs psycopg: pip install 'carbonfoot[postgres]'"
            ) from None
        self._psycopg = psycopg
        clean_url, options = _split_options(url)
        self.url = clean_url
        self.schema = options["schema"]
        self.lock_timeout_s = _seconds(options, "lock_timeout", LOCK_TIMEOUT_S)
        self.statement_timeout_s = _seconds(options, "statement_timeout", STATEMENT_TIMEOUT_S)
        self.description = _redacted(clean_url) + (
            f" (schema {self.schema})" if self.schema else ""
        )
        self.connection = self._connect()
        try:
            version = self._found_version()
            start = self._check_version(version, create)
            if start < SCHEMA_VERSION:
                self._migrate_locked()
        except BaseException:
            self.connection.close()
            raise

    def _connect(self) -> Any:
        psycopg = self._psycopg
        settings = (
            f"-c lock_timeout={self.lock_timeout_s * 1000} "
            f"-c statement_timeout={self.statement_timeout_s * 1000}"
        )
        try:
            connection = psycopg.connect(
                self.url, autocommit=True, connect_timeout=10, options=settings
            )
        except psycopg.Error as exc:
            raise LedgerError(f"{self.description}: cannot connect ({_first_line(exc)})") from None
        if self.schema:
            # Keeping a test's or a tenant's ledger apart: its schema, created on first use.
            connection.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            connection.execute(f'SET search_path TO "{self.schema}"')
        connection.autocommit = False
        return connection

    def _found_version(self) -> int | None:
        with self._errors(), self.connection.transaction():
            found = self.connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            ).fetchall()
            tables = {row[0] for row in found}

            def meta() -> dict[str, str]:
                return dict(
                    self.connection.execute("SELECT key, value FROM ledger_meta").fetchall()
                )

            ours = tables & (_V1_TABLES | {"ledger_meta"})
            if not ours:
                return None  # a schema may hold other applications' tables beside a ledger
            if "ledger_meta" not in tables and not tables >= _V1_TABLES:
                raise LedgerError(
                    f"{self.description}: holds tables named like a ledger's ({', '.join(sorted(ours))}) "
                    "but is not a carbonfoot ledger"
                )
            return _version_of(ours, meta, self.description)

    def _migrate_locked(self) -> None:
        with self._errors(), self.connection.transaction():
            # Migrations are serialized: two services starting at once migrate once.
            self.connection.execute("SELECT pg_advisory_xact_lock(7406150861)")
            cursor = _PostgresCursor(self.connection)
            tables = {
                row[0]
                for row in cursor.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                )
            }
            version = 1 if "entries" in tables else 0
            if "ledger_meta" in tables:
                found = dict(cursor.execute("SELECT key, value FROM ledger_meta"))
                version = int(found.get("schema", version))
                if version >= SCHEMA_VERSION:
                    return
            self._migrate(cursor, version)

    def _guards(self, cursor: Any) -> None:
        cursor.execute(_POSTGRES_GUARDS)

    def _script(self, cursor: Any, script: str) -> None:
        for statement in _statements(script):
            cursor.execute(statement)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """psycopg's failures as one-line :class:`LedgerError`s (after any retries)."""
        psycopg = self._psycopg
        try:
            yield
        except psycopg.errors.LockNotAvailable:
            raise LedgerError(
                f"{self.description}: waited {self.lock_timeout_s} s for the ledger's lock: another "
                "client holds it (raise lock_timeout=SECONDS in the URL to wait longer)"
            ) from None
        except psycopg.errors.QueryCanceled:
            raise LedgerError(
                f"{self.description}: a statement ran over {self.statement_timeout_s} s and was "
                "cancelled (statement_timeout=SECONDS in the URL)"
            ) from None
        except psycopg.Error as exc:
            raise LedgerError(f"{self.description}: {_first_line(exc)}") from None

    def _retryable(self, exc: BaseException) -> bool:
        errors = self._psycopg.errors
        if isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure):
            return True
        return isinstance(exc, self._psycopg.OperationalError) and (
            self.connection.broken or self.connection.closed
        )

    @contextmanager
    def write(self) -> Iterator[_PostgresCursor]:
        with self._errors(), self.connection.transaction():
            cursor = _PostgresCursor(self.connection)
            cursor.execute("SELECT last_seq FROM ledger_head WHERE id = 1 FOR UPDATE")
            yield cursor

    @contextmanager
    def read(self) -> Iterator[_PostgresCursor]:
        with self._errors(), self.connection.transaction():
            cursor = _PostgresCursor(self.connection)
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield cursor

    def transaction(self, work: Callable[[Any], T]) -> T:
        psycopg = self._psycopg
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.connection.transaction():
                    cursor = _PostgresCursor(self.connection)
                    cursor.execute("SELECT last_seq FROM ledger_head WHERE id = 1 FOR UPDATE")
                    return work(cursor)
            except psycopg.Error as exc:
                if attempt == WRITE_ATTEMPTS or not self._retryable(exc):
                    with self._errors():
                        raise
                time.sleep(0.05 * 2**attempt)
                if self.connection.broken or self.connection.closed:
                    self.connection = self._connect()
        raise AssertionError("unreachable")  # pragma: no cover

    def in_list(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(?)", [list(values)]

    def close(self) -> None:
        self.connection.close()


class _PostgresCursor:
    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not params:  # no placeholders: the text goes as it is (a '%' is not one)
            cursor = self.connection.execute(sql)
        else:
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


def _split_options(url: str) -> tuple[str, dict[str, str]]:
    """The URL without carbonfoot's own query parameters, and those parameters."""
    parts = urlparse(url)
    query = parse_qs(parts.query)
    options = {
        name: query.pop(name, [""])[0] for name in ("schema", "lock_timeout", "statement_timeout")
    }
    schema = options["schema"]
    if schema and not _SCHEMA_NAME.match(schema):
        raise LedgerError(f"schema name {schema!r} must be lowercase letters, digits and _")
    clean = urlunparse(parts._replace(query=urlencode(query, doseq=True)))
    return clean, options


def _seconds(options: dict[str, str], name: str, default: int) -> int:
    text = options.get(name, "")
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or int(text) < 1:
        raise LedgerError(f"{name}={text!r} in the database URL must be a whole number of seconds")
    return int(text)


def _redacted(url: str) -> str:
    parts = urlparse(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunparse(parts._replace(netloc=netloc))
    return url


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def open_store(location: str | Path | None = None, *, create: bool = False) -> Store:
    """A store for ``location``: a ``postgresql://`` URL, a ``sqlite:///`` URL or a file path.

    Without one: ``CARBONFOOT_DATABASE_URL``, else ``carbonfoot-ledger.db`` in the working
    directory. ``create`` makes a new ledger where there is none; without it, a location
    that holds no ledger is an error.
    """
    target = (
        str(location) if location is not None else os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE
    )
    scheme = _URL.match(target)
    if scheme is not None:
        name = scheme.group(1).lower()
        if name in ("postgresql", "postgres"):
            return PostgresStore(target, create=create)
        if name != "sqlite":
            raise LedgerError(
                f"unsupported database URL scheme {name!r} in {_redacted(target)}: use a SQLite file "
                "path (or sqlite:///PATH) or a postgresql:// URL"
            )
        target = target[len("sqlite:///") :] if target.startswith("sqlite:///") else ""
        if not target:
            raise LedgerError("a sqlite URL names its file as sqlite:///PATH")
    return SqliteStore(target, create=create)
