"""Per-key rate limits: the bucket itself, and 429 with Retry-After from a real server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.service.limits import RateLimiter
from tests.service.conftest import make_keys, start_server, stop


@given(
    rate=st.floats(0.1, 1000),
    burst=st.integers(1, 50),
    gaps=st.lists(st.floats(0, 5), min_size=1, max_size=200),
)
def test_a_bucket_never_lets_more_through_than_burst_plus_rate_times_time(
    rate: float, burst: int, gaps: list[float]
) -> None:
    limiter = RateLimiter(rate, burst)
    now, allowed = 0.0, 0
    for gap in gaps:
        now += gap
        wait = limiter.wait("k", now)
        assert wait >= 0
        allowed += wait == 0
    assert allowed <= burst + rate * now + 1e-6


def test_a_refused_request_is_told_when_to_come_back() -> None:
    limiter = RateLimiter(2.0, 1)
    assert limiter.wait("a", 0.0) == 0
    wait = limiter.wait("a", 0.1)
    assert wait == pytest.approx(0.4)
    assert RateLimiter.retry_after(wait) == "1"
    assert limiter.wait("b", 0.1) == 0  # each key has its own bucket
    assert limiter.wait("a", 0.5) == 0


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("limited")
    database = str(folder / "ledger.db")
    keys = make_keys(database)
    url, process = start_server(
        database,
        folder / "server.log",
        env={"CARBONFOOT_RATE_LIMIT": "0.5", "CARBONFOOT_RATE_BURST": "3"},
    )
    try:
        yield url, keys
    finally:
        stop(process)


def test_a_key_over_its_rate_gets_429_with_retry_after(
    limited: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, keys = limited
    mine = {"Authorization": f"Bearer {keys['accounts:read']}"}
    other = {"Authorization": f"Bearer {keys['quotes']}"}
    codes = [httpx.get(f"{url}/v1/accounts/u", headers=mine).status_code for _ in range(3)]
    refused = httpx.get(f"{url}/v1/accounts/u", headers=mine)
    assert codes == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["type"] == "rate-limited"
    assert int(refused.headers["retry-after"]) >= 1
    assert httpx.get(f"{url}/v1/modes", headers=other).status_code == 200  # its own bucket
