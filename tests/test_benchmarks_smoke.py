"""The benchmarks run, at a tiny size: each side gives carbonfoot's answer, figures recorded.

Benchmarks are not tests (they measure); this only checks that each script still runs and
that its identical-results checks pass, so a change that breaks one is seen in ``make
test``, not on the next ``make bench``. Figures go to a scratch results file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"

RUNS = [
    pytest.param(
        "bench_kernel.py",
        ["--trips", "20000", "--runs", "1"],
        ["kernel_savings", "kernel_savings_credits_capped", "kernel_peak_memory"],
        ("pandas", "polars"),
        id="kernel",
    ),
    pytest.param(
        "bench_naive.py",
        ["--trips", "2000", "--runs", "1"],
        ["naive_python_pint_loop"],
        (),
        id="naive",
    ),
    pytest.param(
        "bench_single_trip.py",
        ["--calls", "2000"],
        ["single_trip_latency"],
        (),
        id="single-trip",
    ),
    pytest.param(
        "bench_hostile_csv.py",
        ["--trips", "20000", "--runs", "1"],
        ["hostile_csv"],
        (),
        id="hostile-csv",
    ),
    pytest.param(
        "bench_startup.py",
        ["--runs", "1"],
        ["startup"],
        (),
        id="startup",
    ),
    pytest.param(
        "bench_tracks.py",
        ["--trips", "200", "--points", "20", "--files", "20", "--runs", "1"],
        ["gps_tracks"],
        (),
        id="tracks",
    ),
    pytest.param(
        "bench_intake.py",
        ["--trips", "20000", "--runs", "1"],
        ["intake_checks_overhead", "gtfs_station_lookup"],
        (),
        id="intake",
    ),
    pytest.param(
        "bench_plausibility.py",
        ["--trips", "20000", "--runs", "1"],
        ["plausibility_checks"],
        (),
        id="plausibility",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("script", "arguments", "recorded", "needs"), RUNS)
def test_the_benchmark_runs_and_its_sides_agree(
    script: str, arguments: list[str], recorded: list[str], needs: tuple[str, ...], tmp_path: Path
) -> None:
    for module in needs:
        pytest.importorskip(module)
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *arguments],
        env={**os.environ, "CARBONFOOT_BENCH_RESULTS": str(results)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(results.read_text())
    assert set(recorded) <= set(figures["benchmarks"])
    assert figures["machine"]["cores"]


def test_a_wrong_answer_stops_the_benchmark(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from _trips import assert_identical

    savings = np.array([1.0, 2.0])
    credits = np.array([3, 4])
    assert_identical("same", (savings, credits), (savings.copy(), credits.copy()))
    with pytest.raises(SystemExit, match="credits differs"):
        assert_identical("off by one", (savings, credits), (savings, credits + np.array([0, 1])))
    with pytest.raises(SystemExit, match="savings_g differs"):
        assert_identical("one ulp", (savings, credits), (np.nextafter(savings, 3), credits))
