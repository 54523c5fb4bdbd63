"""Streaming: a file read in bounded memory gives exactly the one-pass results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import read_trip_file, write_result_file
from carbonfoot.streaming import stream_calc


def read(path: Path) -> list[dict[str, object]]:
    return (
        pq.read_table(path).to_pylist()
        if path.suffix == ".parquet"
        else pa_csv.read_csv(path).to_pylist()
    )


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    trips=st.integers(50, 1500),
    users=st.integers(1, 300),
    seed=st.integers(0, 1000),
    chunk=st.integers(7, 700),
    bucket=st.integers(20, 900),
    suffix=st.sampled_from([".csv", ".parquet"]),
)
def test_streaming_equals_one_pass(
    catalog: Catalog,
    tmp_path: Path,
    trips: int,
    users: int,
    seed: int,
    chunk: int,
    bucket: int,
    suffix: str,
) -> None:
    source = tmp_path / f"trips-{seed}{suffix}"
    write_result_file(
        generate_trips(trips, users=users, days=2, seed=seed, bad_row_share=0.1), source
    )
    engine = Engine(
        "cn-nanjing",
        catalog=catalog,
        policy_params={"daily_cap": "250"},
        plausibility={"duplicate_window_s": 120},
    )
    table = read_trip_file(source)
    one = engine.compute(table)
    expected, expected_rejects = tmp_path / f"one{suffix}", tmp_path / f"one-rejects{suffix}"
    write_result_file(one.table, expected)
    write_result_file(one.rejected, expected_rejects)
    streamed, rejects = tmp_path / f"streamed{suffix}", tmp_path / f"rejects{suffix}"
    summary = stream_calc(
        engine, source, streamed, chunk_rows=chunk, rows_per_bucket=bucket, rejects_path=rejects
    )
    assert read(streamed) == read(expected)
    assert read(rejects) == read(expected_rejects)
    assert summary.credits == one.summary.credits
    assert summary.status_counts == one.summary.status_counts
    assert summary.savings_g == pytest.approx(one.summary.savings_g, rel=1e-12)


MEASURE = """
import json, resource, sys
from carbonfoot import Engine
from carbonfoot.streaming import stream_calc
stream_calc(Engine("cn-nanjing", policy_params={"daily_cap": "300"}), sys.argv[1], sys.argv[2],
            chunk_rows=20_000, rows_per_bucket=40_000)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


@pytest.mark.slow
def test_memory_stays_bounded_as_the_file_grows(tmp_path: Path) -> None:
    """Peak memory for a file four times larger grows far less than four times."""
    peaks = []
    for size in (60_000, 240_000):
        source = tmp_path / f"trips-{size}.parquet"
        write_result_file(generate_trips(size, users=size // 3, seed=size), source)
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(source), str(tmp_path / f"out-{size}.parquet")],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        peaks.append(json.loads(done.stdout.strip().splitlines()[-1]))
    small, large = peaks
    assert large < 1.6 * small, f"peak RSS {small} kB for 60k rows, {large} kB for 240k rows"
