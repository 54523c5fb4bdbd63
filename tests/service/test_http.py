"""The HTTP service, driven over HTTP against a real ``carbonfoot serve`` process.

Each test uses its own users and trip ids, so the tests share one server per backend.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import sqlite3
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from carbonfoot.ledger import open_store
from carbonfoot.ledger.keys import reporters
from tests.service.conftest import CARBONFOOT, MAX_BODY_BYTES, Server

DATA = Path(__file__).resolve().parents[1] / "data" / "citibike-jc-201801"
EST = dt.timezone(dt.timedelta(hours=-5))  # America/New_York in January


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the IUGG mean radius, written here afresh."""
    radius = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(a))


def citibike_trips(prefix: str) -> list[dict[str, Any]]:
    """The shipped Citi Bike trips as the service's JSON trips (gps provider columns)."""
    trips = []
    with (DATA / "trips.csv").open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle)):
            started = dt.datetime.strptime(row["starttime"], "%m/%d/%Y %H:%M").replace(tzinfo=EST)
            ended = dt.datetime.strptime(row["stoptime"], "%m/%d/%Y %H:%M").replace(tzinfo=EST)
            trips.append(
                {
                    "trip_id": f"{prefix}-{number}",
                    "user_id": f"{prefix}-bike-{row['bikeid']}",
                    "mode": "shared-bike",
                    "started_at": started.isoformat(),
                    "ended_at": ended.isoformat(),
                    "start_lat": float(row["start station latitude"]),
                    "start_lon": float(row["start station longitude"]),
                    "end_lat": float(row["end station latitude"]),
                    "end_lon": float(row["end station longitude"]),
                }
            )
    return trips


def metro(trip_id: str, user: str, km: float = 3.0, hour: int = 8) -> dict[str, Any]:
    return {
        "trip_id": trip_id,
        "user_id": user,
        "mode": "metro",
        "distance": km,
        "started_at": f"2024-05-01T{hour:02d}:00:00+08:00",
    }


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def problem(response: Any, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == type_
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def test_real_trips_are_credited_once_with_the_distance_of_their_coordinates(
    server: Server,
) -> None:
    trips = citibike_trips(unique("cb"))
    with server.client() as client:
        quotes = client.post("/v1/quotes", json={"trips": trips}).json()["results"]
        first = client.post("/v1/trips", json={"trips": trips})
        again = client.post("/v1/trips", json={"trips": trips})
        balances = {
            user: client.get(f"/v1/accounts/{user}").json()["accounts"]
            for user in {trip["user_id"] for trip in trips}
        }
    assert first.status_code == 200, first.text
    results = first.json()["results"]
    assert [r["trip_id"] for r in results] == [t["trip_id"] for t in trips]  # in order
    for trip, quote in zip(trips, quotes, strict=True):
        expected = haversine_km(
            trip["start_lat"], trip["start_lon"], trip["end_lat"], trip["end_lon"]
        )
        if expected > 0:
            assert quote["distance_km"] == pytest.approx(expected, rel=1e-9)
    paid = [r for r in results if r["outcome"] == "credited"]
    assert len(paid) >= 20  # a few round trips (same station) may be held or earn nothing
    assert all(isinstance(r["credits"], str) for r in paid)  # money as decimal strings
    # Replaying returns the original results, entry for entry.
    replayed = again.json()["results"]
    for before, after in zip(results, replayed, strict=True):
        if before["outcome"] == "credited":
            assert after["outcome"] == "replayed"
            assert (after["entry_id"], after["credits"]) == (before["entry_id"], before["credits"])
    # Balances are the sum of each user's credits, and a quote credits nothing.
    for user, accounts in balances.items():
        mine = sum(Decimal(r["credits"]) for r in paid if r["user_id"] == user)
        held = sum(Decimal(a["balance"]) for a in accounts)
        assert held == mine
    # The reporting key is recorded for each credited trip.
    store = open_store(server.database)
    try:
        found = reporters(store, [r["trip_id"] for r in paid])
    finally:
        store.close()
    assert set(found.values()) == {"partner-all"}
    assert len(found) == len(paid)


def test_a_trip_sent_again_with_other_content_is_a_conflict_and_others_still_credit(
    server: Server,
) -> None:
    user = unique("u")
    with server.client() as client:
        client.post("/v1/trips", json={"trips": [metro(f"{user}-1", user, 3.0)]})
        body = client.post(
            "/v1/trips",
            json={"trips": [metro(f"{user}-1", user, 4.0), metro(f"{user}-2", user, 2.0, hour=10)]},
        ).json()
    outcomes = [r["outcome"] for r in body["results"]]
    assert outcomes == ["conflict", "credited"]
    assert "distance_km" in body["results"][0]["message"]
    assert body["conflicts"] == 1


def test_bad_rows_are_results_not_errors(server: Server) -> None:
    user = unique("u")
    bad = {**metro(f"{user}-1", user), "mode": "hovercraft"}
    with server.client() as client:
        response = client.post("/v1/trips", json={"trips": [bad, metro(f"{user}-2", user)]})
    assert response.status_code == 200
    first, second = response.json()["results"]
    assert first["outcome"] == "rejected"
    assert first["status"] == "unknown_mode"
    assert "hovercraft" in first["message"]
    assert second["outcome"] == "credited"


def test_quotes_credit_nothing(server: Server) -> None:
    user = unique("u")
    with server.client() as client:
        quote = client.post("/v1/quotes", json={"trips": [metro(f"{user}-1", user)]}).json()
        account = client.get(f"/v1/accounts/{user}").json()
    assert Decimal(quote["results"][0]["credits"]) > 0
    assert account == {"user_id": user, "accounts": []}


def test_entries_are_paged_newest_first_with_a_cursor(server: Server) -> None:
    user = unique("u")
    trips = [metro(f"{user}-{hour}", user, 1.0, hour=hour) for hour in range(6, 13)]
    with server.client() as client:
        client.post("/v1/trips", json={"trips": trips})
        seen: list[str] = []
        cursor = None
        pages = 0
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get(f"/v1/accounts/{user}/entries", params=params).json()
            seen += [entry["trip_id"] for entry in page["entries"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
        bad = client.get(f"/v1/accounts/{user}/entries", params={"cursor": "not-ours"})
    assert seen == [trip["trip_id"] for trip in reversed(trips)]
    assert pages == 4
    problem(bad, 400, "invalid-request")


def test_redemptions_follow_idempotency_keys(server: Server) -> None:
    user = unique("u")
    with server.client() as client:
        client.post("/v1/trips", json={"trips": [metro(f"{user}-1", user, 3.0)]})
        balance = Decimal(client.get(f"/v1/accounts/{user}").json()["accounts"][0]["balance"])
        body = {"user_id": user, "amount": "10", "item": "bus ticket"}
        first = client.post("/v1/redemptions", json=body, headers={"Idempotency-Key": "order-1"})
        again = client.post("/v1/redemptions", json=body, headers={"Idempotency-Key": "order-1"})
        other = client.post(
            "/v1/redemptions",
            json={**body, "amount": "11"},
            headers={"Idempotency-Key": "order-1"},
        )
        too_much = client.post(
            "/v1/redemptions",
            json={**body, "amount": str(balance * 10)},
            headers={"Idempotency-Key": "order-2"},
        )
        unkeyed = client.post("/v1/redemptions", json=body)
        floated = client.post(
            "/v1/redemptions", json={**body, "amount": 1.5}, headers={"Idempotency-Key": "o-3"}
        )
        after = Decimal(client.get(f"/v1/accounts/{user}").json()["accounts"][0]["balance"])
    assert first.status_code == 200, first.text
    receipt = first.json()
    assert receipt["replayed"] is False
    assert Decimal(receipt["balance_after"]) == balance - 10
    assert again.json() == {**receipt, "replayed": True}
    assert again.headers["idempotent-replayed"] == "true"
    problem(other, 409, "idempotency-conflict")
    problem(too_much, 409, "insufficient-balance")
    assert problem(unkeyed, 422, "invalid-request")["errors"][0]["field"].endswith(
        "idempotency-key"
    )
    problem(floated, 422, "invalid-request")  # money is never a JSON number
    assert after == balance - 10  # spent once


def test_a_reversal_takes_the_credits_back_once(server: Server) -> None:
    user = unique("u")
    with server.client() as client:
        credited = client.post("/v1/trips", json={"trips": [metro(f"{user}-1", user)]}).json()
        body = {"trip_id": f"{user}-1", "reason": "found fraudulent"}
        first = client.post("/v1/reversals", json=body)
        again = client.post("/v1/reversals", json=body)
        unknown = client.post("/v1/reversals", json={**body, "trip_id": f"{user}-nope"})
        account = client.get(f"/v1/accounts/{user}").json()["accounts"][0]
        verify = client.get("/v1/ledger/verify").json()
    assert first.status_code == 200, first.text
    assert first.json()["amount"] == credited["results"][0]["credits"]
    assert again.json() == first.json()
    problem(unknown, 404, "not-found")
    assert account["balance"] == "0"
    assert verify["ok"] is True


ROUTES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/trips", "trips:write", {"trips": [metro("scope-t", "scope-u")]}),
    ("POST", "/v1/quotes", "quotes", {"trips": [metro("scope-t", "scope-u")]}),
    ("GET", "/v1/accounts/scope-u", "accounts:read", None),
    ("GET", "/v1/accounts/scope-u/entries", "accounts:read", None),
    ("POST", "/v1/redemptions", "redemptions:write", {"user_id": "u", "amount": "1", "item": "x"}),
    ("POST", "/v1/reversals", "admin", {"trip_id": "scope-t", "reason": "test"}),
    ("GET", "/v1/ledger/verify", "admin", None),
    ("GET", "/metrics", "reports:read", None),
]


@pytest.mark.parametrize(("method", "path", "scope", "body"), ROUTES)
def test_every_scope_is_refused_where_it_is_missing(
    server: Server, method: str, path: str, scope: str, body: dict[str, Any] | None
) -> None:
    headers = {"Idempotency-Key": "scope-test"}
    for other in server.keys:
        if other in (scope, "all"):
            continue
        with server.client(other) as client:
            response = client.request(method, path, json=body, headers=headers)
        assert problem(response, 403, "forbidden")["scope"] == scope
        assert scope in response.json()["detail"]
    with server.client(scope) as client:
        allowed = client.request(method, path, json=body, headers=headers)
    assert allowed.status_code not in (401, 403), allowed.text


def test_no_key_or_a_wrong_key_is_401_and_catalog_reads_need_a_key(server: Server) -> None:
    with server.client(None) as client:
        for path in ("/v1/modes", "/v1/accounts/u", "/v1/factor-sets"):
            response = client.get(path)
            problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").json()["status"] == "ready"
    with server.client("cfk_not-a-real-key") as client:
        problem(client.get("/v1/modes"), 401, "unauthorized")
    with server.client("quotes") as client:  # any valid key reads the catalog
        modes = client.get("/v1/modes").json()
        assert "metro" in {mode["id"] for mode in modes}
        sets = client.get("/v1/factor-sets").json()
        name = next(s["name"] for s in sets if s["default"])
        detail = client.get(f"/v1/factor-sets/{name}").json()
        assert all(factor["publisher"] and factor["year"] for factor in detail["factors"])
        problem(client.get("/v1/factor-sets/no-such-set"), 404, "not-found")
        explained = client.get("/v1/explain", params={"mode": "bus", "distance": "5.2"}).json()
        assert explained["distance_km"] == 5.2
        assert explained["steps"]
        assert client.get("/v1/policies").json()
        assert client.get("/v1/baselines").json()


def test_a_revoked_key_is_refused_from_then_on(server: Server) -> None:
    name = unique("shop")
    made = subprocess.run(
        [
            str(CARBONFOOT),
            "keys",
            "create",
            name,
            "--scope",
            "accounts:read",
            "--db",
            server.database,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    key = made.stdout.strip()
    assert made.stdout == key + "\n"
    assert key.startswith("cfk_")
    if not server.database.startswith("postgres"):
        connection = sqlite3.connect(server.database)
        try:
            stored = connection.execute("SELECT * FROM api_keys WHERE name = ?", (name,)).fetchall()
        finally:
            connection.close()
        assert stored
        assert key not in repr(stored)
    with server.client(key) as client:
        assert client.get("/v1/accounts/someone").status_code == 200
        subprocess.run(
            [str(CARBONFOOT), "keys", "revoke", name, "--db", server.database],
            capture_output=True,
            check=True,
        )
        problem(client.get("/v1/accounts/someone"), 401, "unauthorized")
    listed = subprocess.run(
        [str(CARBONFOOT), "keys", "list", "--db", server.database],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(line.startswith(name + "\t") and "revoked" in line for line in listed.splitlines())


def test_errors_are_problems_never_tracebacks(server: Server) -> None:
    with server.client() as client:
        too_big = client.post(
            "/v1/trips",
            content=b'{"trips": [' + b" " * MAX_BODY_BYTES + b"]}",
            headers={"content-type": "application/json"},
        )
        chunked = client.post(  # no Content-Length: the limit is counted as it arrives
            "/v1/trips",
            content=iter(
                [b'{"trips": [', *[b" " * 10_000] * (MAX_BODY_BYTES // 10_000 + 1), b"]}"]
            ),
            headers={"content-type": "application/json"},
        )
        broken = client.post(
            "/v1/trips", content=b'{"trips": [', headers={"content-type": "application/json"}
        )
        missing = client.post("/v1/trips", json={"trips": [{"trip_id": "x"}]})
        nowhere = client.get("/v1/nowhere")
        metrics = client.get("/metrics").text
    problem(too_big, 413, "payload-too-large")
    assert "content-length" not in chunked.request.headers
    problem(chunked, 413, "payload-too-large")
    problem(broken, 422, "invalid-request")
    fields = {error["field"] for error in problem(missing, 422, "invalid-request")["errors"]}
    assert "body.trips.0.user_id" in fields
    problem(nowhere, 404, "not-found")
    assert 'method="POST",status="413"' in metrics
    assert 'carbonfoot_http_requests_total{route="/v1/trips",method="POST",status="422"' in metrics
    assert "carbonfoot_http_request_duration_seconds_bucket" in metrics
