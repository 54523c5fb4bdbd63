"""Ledgers for concurrent requests: a fixed pool, one database connection each.

A :class:`carbonfoot.ledger.Ledger` holds one connection and is used by one request at
a time; the pool lends them out. They share one :class:`carbonfoot.Engine` (built once:
tables and plugins are read-only after). Writers still serialize where the ledger says
they do (SQLite ``BEGIN IMMEDIATE``, PostgreSQL's head-row lock), across the pool's
connections, worker processes and instances alike.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager

from carbonfoot.engine import Engine
from carbonfoot.ledger import SCHEMA_VERSION, Ledger, open_store
from carbonfoot.service.settings import ServiceSettings

__all__ = ["LedgerPool"]


class LedgerPool:
    """``settings.pool_size`` ledgers on ``settings.database`` (created if missing)."""

    def __init__(self, settings: ServiceSettings) -> None:
        options = settings.engine_options
        engine = Engine(**options) if options is not None else None
        first = Ledger(open_store(settings.database, create=True), engine)
        self.engine: Engine = first.engine
        self.description = f"{first.store.description} ({first.store.dialect})"
        self._all = [first]
        try:
            for _ in range(settings.pool_size - 1):
                self._all.append(Ledger(open_store(settings.database), self.engine))
        except BaseException:
            self.close()
            raise
        self._free: queue.Queue[Ledger] = queue.Queue()
        for ledger in self._all:
            self._free.put(ledger)

    @contextmanager
    def ledger(self) -> Iterator[Ledger]:
        """A ledger for the length of one request."""
        ledger = self._free.get()
        try:
            yield ledger
        finally:
            self._free.put(ledger)

    def ready(self) -> str:
        """Empty if the database answers with the current schema, else why not."""
        with self.ledger() as ledger, ledger.store.read() as cursor:
            found = cursor.execute("SELECT value FROM ledger_meta WHERE key = 'schema'")
        version = int(found[0][0]) if found else 0
        if version != SCHEMA_VERSION:
            return f"the ledger has schema {version}; this service needs {SCHEMA_VERSION}"
        return ""

    def close(self) -> None:
        for ledger in self._all:
            ledger.close()
