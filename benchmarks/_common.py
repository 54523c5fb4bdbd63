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
# The smoke tests point this elsewhere, so a tiny run never overwrites the recorded figures.
RESULTS = Path(os.environ.get("CARBONFOOT_BENCH_RESULTS") or HERE / "results.json")


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


def rotated(runs: int, **candidates: Callable[[], float]) -> dict[str, list[float]]:
    """:func:`interleaved`, each round starting with the next candidate.

    On these machines a run right after another library's (its freed memory handed back
    to the host) can pay twice the system time; rotating spreads that over every side.
    """
    times: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for round_ in range(runs):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(candidates[name]())
    return times


def median(values: list[float]) -> float:
    return statistics.median(values)


def memory_kb() -> dict[str, int]:
    """This process's resident memory now (``rss``) and at its peak (``peak``), in kB (Linux)."""
    fields = {"VmRSS": "rss", "VmHWM": "peak"}
    found: dict[str, int] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in fields:
            found[fields[name]] = int(value.split()[0])
    return found


def reset_peak_memory() -> bool:
    """Reset the peak resident memory to the current one (Linux 4.0+); False if refused."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


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
