"""Property-based API tests generated from the service's own OpenAPI document.

Schemathesis reads ``/openapi.json`` from the running server and sends generated requests
(valid and invalid) to every operation, with a key holding every scope. The promise
checked: no 5xx, and every response matches the schema documented for its status (the
problem documents included). Bounded here (a few examples per operation, under a minute);
``SCHEMATHESIS_MAX_EXAMPLES`` raises it for ``make stress``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.service.conftest import Server

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_the_openapi_document_names_every_route_and_problem(server: Server) -> None:
    document = httpx.get(f"{server.url}/openapi.json").json()
    paths = set(document["paths"])
    for path in (
        "/v1/trips",
        "/v1/quotes",
        "/v1/accounts/{user_id}",
        "/v1/accounts/{user_id}/entries",
        "/v1/redemptions",
        "/v1/reversals",
        "/v1/modes",
        "/v1/factor-sets",
        "/v1/factor-sets/{name}",
        "/v1/policies",
        "/v1/baselines",
        "/v1/explain",
        "/v1/ledger/verify",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths
    schemas = document["components"]["schemas"]
    assert schemas["RedemptionIn"]["properties"]["amount"]["type"] == "string"
    assert "HTTPBearer" in document["components"]["securitySchemes"]


def test_generated_requests_get_no_5xx_and_match_the_schema(server: Server) -> None:
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "5")
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error,response_schema_conformance,content_type_conformance",
            "--max-examples",
            examples,
            "--seed",
            "17",
            "--workers",
            "1",
            "-H",
            f"Authorization: Bearer {server.keys['all']}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
