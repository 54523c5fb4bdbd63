"""The HTTP service under load: wrk against a real `carbonfoot serve` on this machine.

    python benchmarks/bench_service.py [--db sqlite|postgresql://...] [--seconds 10]

Needs wrk (Debian package `wrk`); sends traffic to 127.0.0.1 only, bounded in time. Measures:

* single-trip `POST /v1/trips` at 50 connections: p50, p99, requests/s (each request a new
  trip, so every one is a credit written and committed);
* `GET /v1/accounts/{id}` at 50 connections: p50, p99, requests/s;
* one `POST /v1/trips` of 10,000 trips, as trips/s, against `Ledger.credit` of the same
  trips into a fresh ledger in the same run (the ratio is what the service costs).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from carbonfoot import Engine
from carbonfoot.ledger import SCOPES, Ledger, create_key, open_store

CARBONFOOT = Path(sys.executable).with_name("carbonfoot")
CAP = "daily_cap=500"

SINGLE_TRIP_LUA = """
local n = 0
local prefix = "%(prefix)s"
request = function()
  n = n + 1
  local id = prefix .. "-" .. tostring(math.random(1, 1000000000)) .. "-" .. n
  local body = '{"trips":[{"trip_id":"' .. id .. '","user_id":"u' .. (n %% 997) ..
    '","mode":"metro","distance":3.0,"started_at":"2024-05-01T08:00:00+08:00"}]}'
  return wrk.format("POST", "/v1/trips", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer %(key)s"}, body)
end
setup = function(thread) thread:set("seed", math.random(1, 1000000)) end
init = function(args) math.randomseed(seed or os.time()) end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wrk(url: str, seconds: int, script: Path | None, key: str) -> dict[str, float]:
    command = ["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency"]
    if script is not None:
        command += ["-s", str(script)]
    else:
        command += ["-H", f"Authorization: Bearer {key}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if found is None:
            raise RuntimeError(f"wrk printed no {label}%: {out}")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "p50_ms": ms("50"),
        "p99_ms": ms("99"),
        "requests_per_s": float(rate.group(1)) if rate else float("nan"),
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


def batch(n: int, prefix: str) -> dict[str, list[Any]]:
    return {
        "trip_id": [f"{prefix}-{i}" for i in range(n)],
        "user_id": [f"b{i % 2000}" for i in range(n)],
        "mode": ["metro" if i % 3 else "bus" for i in range(n)],
        "distance": [1.0 + (i % 17) * 0.5 for i in range(n)],
        "started_at": [f"2024-05-01T{6 + i % 12:02d}:{i % 60:02d}:00+08:00" for i in range(n)],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="sqlite", help="'sqlite' (a temporary file) or a URL")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="cf-bench-service-"))
    database = str(folder / "ledger.db") if args.db == "sqlite" else args.db
    store = open_store(database, create=True)
    key = create_key(store, f"bench-{uuid.uuid4().hex[:6]}", list(SCOPES))
    store.close()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(CARBONFOOT),
            "serve",
            "--db",
            database,
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--policy-param",
            CAP,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results: dict[str, Any] = {
        "database": "sqlite" if args.db == "sqlite" else "postgresql",
        "workers": args.workers,
    }
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        headers = {"Authorization": f"Bearer {key}"}
        # Batch first, on a quiet server: HTTP against the library, the same trips.
        trips = batch(args.batch, f"http-{uuid.uuid4().hex[:6]}")
        body = {
            "trips": [
                dict(zip(trips, row, strict=True)) for row in zip(*trips.values(), strict=True)
            ]
        }
        started = time.perf_counter()
        response = httpx.post(f"{url}/v1/trips", json=body, headers=headers, timeout=600)
        http_s = time.perf_counter() - started
        response.raise_for_status()
        # The library's run goes to a fresh ledger on the same backend.
        library_db = (
            str(folder / "library.db")
            if args.db == "sqlite"
            else re.sub(r"schema=([a-z0-9_]+)", r"schema=\1_lib", args.db)
        )
        if library_db == args.db:
            sys.exit("a PostgreSQL URL for this benchmark names its schema: ...?schema=NAME")
        with Ledger.open(library_db, Engine(policy_params={"daily_cap": "500"})) as ledger:
            started = time.perf_counter()
            ledger.credit(batch(args.batch, "lib"))
            library_s = time.perf_counter() - started
        results["batch"] = {
            "trips": args.batch,
            "http_trips_per_s": args.batch / http_s,
            "library_trips_per_s": args.batch / library_s,
            "ratio": library_s / http_s,
        }
        script = folder / "single_trip.lua"
        script.write_text(SINGLE_TRIP_LUA % {"prefix": uuid.uuid4().hex[:8], "key": key})
        results["single_trip_post"] = wrk(url, args.seconds, script, key)
        results["balance_get"] = wrk(f"{url}/v1/accounts/u1", args.seconds, None, key)
        verify = httpx.get(f"{url}/v1/ledger/verify", headers=headers, timeout=600).json()
        results["verify_ok"] = verify["ok"]
        results["entries"] = verify["entries"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
