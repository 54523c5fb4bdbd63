"""Counters and latency histograms in the Prometheus text format (version 0.0.4).

Per process: with several workers each answers for itself (a scrape sees the worker it
reached; label ``pid`` tells them apart). Kept here rather than through a client library
because four metric families need ~80 lines and no dependency. The histogram buckets
are Prometheus's defaults (client libraries' ``DEFAULT_BUCKETS``), which bracket the
issue's goals (5 ms reads, 20 ms writes).
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Final

__all__ = ["BUCKETS", "Metrics"]

#: Upper bounds (seconds) of the latency histogram: the Prometheus client default buckets.
BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


class Metrics:
    """The service's metrics; every method is safe to call from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = defaultdict(int)
        self._latency: dict[str, list[int]] = {}
        self._latency_sum: dict[str, float] = defaultdict(float)
        self._trips: dict[str, int] = defaultdict(int)
        self._ledger_errors = 0
        self._pid = str(os.getpid())

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(route, method, str(status))] += 1
            counts = self._latency.setdefault(route, [0] * (len(BUCKETS) + 1))
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    counts[index] += 1
                    break
            else:
                counts[-1] += 1
            self._latency_sum[route] += seconds

    def trips(self, counts: dict[str, int]) -> None:
        with self._lock:
            for outcome, count in counts.items():
                self._trips[outcome] += count

    def ledger_error(self) -> None:
        with self._lock:
            self._ledger_errors += 1

    def render(self) -> str:
        """The exposition text."""
        pid = self._pid
        with self._lock:
            lines = [
                "# HELP carbonfoot_http_requests_total HTTP requests by route, method and status.",
                "# TYPE carbonfoot_http_requests_total counter",
            ]
            for (route, method, status), count in sorted(self._requests.items()):
                labels = _labels(route=route, method=method, status=status, pid=pid)
                lines.append(f"carbonfoot_http_requests_total{labels} {count}")
            lines += [
                "# HELP carbonfoot_http_request_duration_seconds Request latency by route.",
                "# TYPE carbonfoot_http_request_duration_seconds histogram",
            ]
            for route, counts in sorted(self._latency.items()):
                running = 0
                for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                    running += count
                    edge = "+Inf" if bound == float("inf") else repr(bound)
                    labels = _labels(route=route, le=edge, pid=pid)
                    lines.append(
                        f"carbonfoot_http_request_duration_seconds_bucket{labels} {running}"
                    )
                labels = _labels(route=route, pid=pid)
                lines.append(
                    f"carbonfoot_http_request_duration_seconds_sum{labels} {self._latency_sum[route]!r}"
                )
                lines.append(f"carbonfoot_http_request_duration_seconds_count{labels} {running}")
            lines += [
                "# HELP carbonfoot_trips_total Trips sent to POST /v1/trips, by outcome.",
                "# TYPE carbonfoot_trips_total counter",
            ]
            for outcome, count in sorted(self._trips.items()):
                lines.append(f"carbonfoot_trips_total{_labels(outcome=outcome, pid=pid)} {count}")
            lines += [
                "# HELP carbonfoot_ledger_errors_total Requests the ledger could not serve.",
                "# TYPE carbonfoot_ledger_errors_total counter",
                f"carbonfoot_ledger_errors_total{_labels(pid=pid)} {self._ledger_errors}",
            ]
        return "\n".join(lines) + "\n"
