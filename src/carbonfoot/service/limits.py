"""Per-key request rates: a token bucket per API key, answered with 429 and Retry-After.

Each key may make ``rate`` requests a second on average, ``burst`` at once. The buckets
live in the process: with several workers or instances each enforces the rate on the
requests it sees, so the service as a whole allows up to that many times the rate (a
shared limit would need a shared store; the database is kept for the ledger). Off by
default (no published or agreed number exists for a partner's rate); an operator sets
``CARBONFOOT_RATE_LIMIT``.
"""

from __future__ import annotations

import math
import threading
import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """Token buckets by key name; :meth:`wait` is 0 when a request may go now."""

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a rate limit needs rate > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # name -> (tokens, at)

    def wait(self, name: str, now: float | None = None) -> float:
        """Take a token for ``name``: 0.0 if there was one, else the seconds until one."""
        at = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.get(name, (float(self.burst), at))
            tokens = min(float(self.burst), tokens + (at - then) * self.rate)
            if tokens >= 1.0:
                self._buckets[name] = (tokens - 1.0, at)
                return 0.0
            self._buckets[name] = (tokens, at)
            return (1.0 - tokens) / self.rate

    @staticmethod
    def retry_after(seconds: float) -> str:
        """The Retry-After header value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(seconds)))
