"""A real ``carbonfoot serve`` process on a free port, on SQLite and on PostgreSQL.

The server is started as a user would start it (the command, a database, engine options,
one setting from the environment) and driven over HTTP with httpx. Keys are made with the
library's ``create_key`` on the same database (one through ``carbonfoot keys create``, in
its own test). PostgreSQL is reached as in ``tests/ledger/conftest.py`` and skipped there
the same way when no server answers.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from attrs import frozen

from carbonfoot.ledger import SCOPES, create_key, open_store
from tests.ledger.conftest import POSTGRES_URL, drop_schema, require_postgres

#: The command, as installed beside this Python.
CARBONFOOT = Path(sys.executable).with_name("carbonfoot")
#: The body limit the servers run with (set through the environment, as an operator would).
MAX_BODY_BYTES = 200_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@frozen
class Server:
    url: str
    database: str
    keys: dict[str, str]  # scope (or "all", "none") -> key
    process: subprocess.Popen[bytes]
    log: Path

    def client(self, key: str | None = "all") -> httpx.Client:
        headers = {} if key is None else {"Authorization": f"Bearer {self.keys.get(key, key)}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def start_server(
    database: str, log: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    env = {**os.environ, "CARBONFOOT_MAX_BODY_BYTES": str(MAX_BODY_BYTES), **(env or {})}
    env.pop("CARBONFOOT_SERVICE_SETTINGS", None)
    command = [
        str(CARBONFOOT),
        "serve",
        "--db",
        database,
        "--port",
        str(port),
        "--policy-param",
        "daily_cap=500",
        *extra,
    ]
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError(f"the server did not start: {log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def make_keys(database: str) -> dict[str, str]:
    store = open_store(database, create=True)
    try:
        keys = {
            scope: create_key(store, f"only-{scope.replace(':', '-')}", [scope]) for scope in SCOPES
        }
        keys["all"] = create_key(store, "partner-all", list(SCOPES))
    finally:
        store.close()
    return keys


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("service")
    schema = ""
    if request.param == "sqlite":
        database = str(folder / "ledger.db")
    else:
        require_postgres()
        schema = f"cf_test_{uuid.uuid4().hex[:12]}"
        separator = "&" if "?" in POSTGRES_URL else "?"
        database = f"{POSTGRES_URL}{separator}schema={schema}"
    keys = make_keys(database)
    log = folder / "server.log"
    url, process = start_server(database, log)
    try:
        yield Server(url, database, keys, process, log)
    finally:
        stop(process)
        if schema:
            drop_schema(schema)
