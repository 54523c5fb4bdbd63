"""Shared helpers for the benchmarks: timing, machine description, the results file."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results.json"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import numpy
    import pyarrow

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": platform.platform(),
    }


def timed(function: Callable[[], Any]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def run_command(args: list[str]) -> float:
    """Wall time of a command, which must succeed."""
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def interleaved(runs: int, **candidates: Callable[[], float]) -> dict[str, list[float]]:
    """Time each candidate ``runs`` times, alternating, so load drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(runs):
        for name, candidate in candidates.items():
            times[name].append(candidate())
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def record(name: str, result: dict[str, Any]) -> None:
    """Merge one benchmark's result into results.json, with machine and date."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = machine()
    results.setdefault("benchmarks", {})[name] = dict(
        result, measured_at=datetime.now(UTC).isoformat(timespec="seconds")
    )
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")


def python() -> str:
    return sys.executable
