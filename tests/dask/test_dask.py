"""carbonfoot on Dask gives exactly what one process gives: rows, order, rejects, summary."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonfoot import Catalog, Engine
from carbonfoot.cli import main
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import read_trip_file, write_result_file

HAS_DASK = all(importlib.util.find_spec(name) for name in ("dask", "distributed", "pandas"))
needs_dask = pytest.mark.skipif(not HAS_DASK, reason="carbonfoot[dask] is not installed")
CARBONFOOT = str(Path(sys.executable).with_name("carbonfoot"))


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One local cluster of two worker processes for the whole module."""
    if not HAS_DASK:
        pytest.skip("carbonfoot[dask] is not installed")
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as connected,
    ):
        yield connected


def partitioned(table: pa.Table, bounds: list[int]) -> Any:
    """A Dask DataFrame of ``table`` cut at ``bounds`` (empty partitions allowed)."""
    import dask
    import dask.dataframe as dd

    from carbonfoot.dask.files import frame_of

    cuts = [0, *sorted(min(max(b, 0), table.num_rows) for b in bounds), table.num_rows]
    parts = [
        dask.delayed(frame_of(table.slice(start, stop - start))) for start, stop in pairwise(cuts)
    ]
    return dd.from_delayed(parts, meta=frame_of(table.slice(0, 0)), verify_meta=False)


def run_both(engine: Engine, table: pa.Table, bounds: list[int]) -> tuple[Any, Any]:
    """(single-process results, (table, rejected, summary) computed on Dask)."""
    import dask

    import carbonfoot.dask
    from carbonfoot.dask.frames import rejects_table, result_table

    one = engine.compute(table)
    results = carbonfoot.dask.compute(partitioned(table, bounds), engine)
    frames = dask.compute(
        [dask.delayed(result_table)(part, results.schema) for part in results.partitions],
        [
            dask.delayed(rejects_table)(part, results.rejects_schema)
            for part in results.rejected_partitions
        ],
        results.summary,
    )
    return one, frames


def assert_same(one: Any, table: pa.Table, on_dask: Any) -> None:
    result_parts, reject_parts, summary = on_dask
    got = pa.concat_tables(result_parts)
    assert got.schema.equals(one.table.schema, check_metadata=True)
    assert got.to_pylist() == one.table.to_pylist()
    assert pa.concat_tables(reject_parts).to_pylist() == one.rejected.to_pylist()
    assert summary == one.summary  # floats included, to the bit


@pytest.fixture(scope="module")
def capped(catalog: Catalog) -> Engine:
    return Engine(
        "cn-nanjing",
        catalog=catalog,
        policy_params={"daily_cap": "60", "grams_per_credit": "10"},
        plausibility={"duplicate_window_s": 120},
    )


def with_repeats(table: pa.Table) -> pa.Table:
    """``table`` plus rows at its end that repeat ids of its first rows, one padded."""
    repeats = table.slice(0, 3)
    ids = pa.array(["t0", " t1 ", "t2"])
    return pa.concat_tables([table, repeats.set_column(0, "trip_id", ids)])


@needs_dask
def test_dask_gives_the_single_process_results_with_caps_repeats_and_bad_rows(
    client: Any, capped: Engine
) -> None:
    table = with_repeats(generate_trips(2400, users=120, days=2, seed=11, bad_row_share=0.05))
    one, on_dask = run_both(capped, table, [500, 500, 1300, 2000])
    assert_same(one, table, on_dask)
    statuses = one.table.column("status").to_pylist()
    assert {"duplicate_trip_id", "bad_distance", "ok"} <= set(statuses)
    # The cap bites: some user-days are paid exactly the cap, some trips are cut.
    rows = [row for row in one.table.to_pylist() if row["status"] == "ok"]
    uncapped = sum(int(row["savings_g"] * 1000 // 10_000) for row in rows)
    assert sum(row["credits"] for row in rows) < uncapped
    # The repeated ids in the last partition point back to rows of the first one.
    last = one.table.slice(table.num_rows - 3).to_pylist()
    assert [row["status"] for row in last] == ["duplicate_trip_id"] * 3
    assert last[1]["message"].endswith("already appears in row 2")


@needs_dask
def test_coins_and_a_single_partition_agree_too(client: Any, catalog: Catalog) -> None:
    engine = Engine(
        "uk-desnz-2025",
        catalog=catalog,
        policy="carbon-coin",
        policy_params={"grams_per_coin": "100", "decimals": "3", "daily_cap": "7"},
    )
    table = generate_trips(700, users=40, days=3, seed=5, bad_row_share=0.1)
    for bounds in ([], [0, 0, 700]):  # one partition; then empty partitions at both ends
        one, on_dask = run_both(engine, table, bounds)
        assert_same(one, table, on_dask)
    assert isinstance(one.summary.credits, Decimal)


def trip_rows() -> st.SearchStrategy[list[dict[str, str]]]:
    """Rows with few ids and users, so ids repeat and users have many trips a day."""
    row = st.fixed_dictionaries(
        {
            "trip_id": st.sampled_from([f"t{i}" for i in range(25)] + ["", " t3", "t4 "]),
            "user_id": st.sampled_from(["u1", "u2", "u3", " u1", "u4 ", ""]),
            "mode": st.sampled_from(["bus", "walk", "metro", "地铁", "Subway", "car", "rocket"]),
            "distance": st.one_of(
                st.floats(0.05, 40.0).map(lambda km: f"{km:.3f}"),
                st.sampled_from(["", "abc", "-1", "0", "1e9"]),
            ),
            "started_at": st.one_of(
                st.integers(0, 2 * 24 * 60).map(
                    lambda minutes: (
                        f"2024-05-0{1 + minutes // 1440}T{minutes % 1440 // 60:02d}:"
                        f"{minutes % 60:02d}:00+08:00"
                    )
                ),
                st.sampled_from(["", "yesterday", "2024-02-30T08:00:00Z"]),
            ),
        }
    )
    return st.lists(row, min_size=1, max_size=80)


@needs_dask
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=trip_rows(),
    bounds=st.lists(st.integers(0, 80), max_size=4),
    cap=st.sampled_from(["none", "40", "300"]),
)
def test_dask_and_one_process_agree_on_any_batch(
    client: Any, catalog: Catalog, rows: list[dict[str, str]], bounds: list[int], cap: str
) -> None:
    engine = Engine(
        "cn-nanjing",
        catalog=catalog,
        policy_params={"daily_cap": cap, "grams_per_credit": "10"},
    )
    table = pa.Table.from_pylist(rows)
    one, on_dask = run_both(engine, table, bounds)
    assert_same(one, table, on_dask)


@needs_dask
def test_the_engine_enters_the_graph_once(client: Any, capped: Engine) -> None:
    """Every bucket task reads the engine from one key, fetched once per worker."""
    import carbonfoot.dask

    table = generate_trips(300, users=30, seed=2)
    results = carbonfoot.dask.compute(partitioned(table, [100, 200]), capped)
    graph = dict(results.partitions[0].__dask_graph__())
    holders = [
        key for key, node in graph.items() if isinstance(getattr(node, "value", None), Engine)
    ]
    assert len(holders) == 1
    buckets = [node for key, node in graph.items() if "_compute_bucket" in str(key)]
    assert len(buckets) == 3
    assert all(holders[0] in node.dependencies for node in buckets)


@needs_dask
@pytest.mark.filterwarnings("ignore:Computing mixed collections")
def test_table_and_summary_in_one_compute_run_the_engine_once_per_bucket(
    client: Any, capped: Engine
) -> None:
    import dask
    from distributed import get_task_stream

    import carbonfoot.dask

    table = generate_trips(900, users=60, seed=3)
    one = capped.compute(table)
    results = carbonfoot.dask.compute(partitioned(table, [300, 600]), capped)
    with get_task_stream(client) as stream:
        frame, rejected, summary = dask.compute(results.table, results.rejected, results.summary)
    buckets = [task for task in stream.data if "_compute_bucket" in str(task["key"])]
    assert len(buckets) == 3
    assert list(frame.index) == list(range(table.num_rows))
    assert pa.Table.from_pandas(frame, preserve_index=False).to_pylist() == one.table.to_pylist()
    assert len(rejected) == len(one.rejected)
    assert summary == one.summary


def test_the_pairwise_sum_of_parts_is_numpys_sum_of_the_whole() -> None:
    from carbonfoot.dask.summary import pairwise_sum

    rng = np.random.default_rng(0)
    for size, cuts in [(0, []), (5, [2]), (129, [64]), (1000, [7, 8, 500]), (70_001, [1, 9999])]:
        values = rng.lognormal(0.0, 3.0, size) * (rng.random(size) < 0.8)
        bounds = [0, *cuts, size]
        parts = [values[a:b] for a, b in pairwise(bounds)]
        assert pairwise_sum(parts) == float(np.sum(values))


# -- the command line -------------------------------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CARBONFOOT, *args], capture_output=True, text=True, timeout=180)


def summary_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if not line.startswith("wrote ")]


@needs_dask
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_calc_on_dask_writes_what_one_process_writes(
    client: Any, tmp_path: Path, suffix: str
) -> None:
    trips = with_repeats(generate_trips(4000, users=250, days=2, seed=8, bad_row_share=0.05))
    source = tmp_path / f"trips{suffix}"
    if suffix == ".parquet":
        pq.write_table(trips, source, row_group_size=900)  # five partitions of whole groups
    else:
        write_result_file(trips, source)
    common = ["--policy-param", "daily_cap=80", "--policy-param", "grams_per_credit=10"]
    one = run(
        "calc",
        str(source),
        "-o",
        str(tmp_path / f"one{suffix}"),
        *common,
        "--rejects",
        str(tmp_path / f"one-rejects{suffix}"),
    )
    where = ["--workers", "2"] if suffix == ".csv" else ["--scheduler", client.scheduler.address]
    dask_run = run(
        "calc",
        str(source),
        "-o",
        str(tmp_path / f"dask{suffix}"),
        *common,
        *where,
        "--chunk-rows",
        "1000",
        "--rejects",
        str(tmp_path / f"dask-rejects{suffix}"),
    )
    assert one.returncode == 0, one.stderr
    assert dask_run.returncode == 0, dask_run.stderr
    assert summary_lines(dask_run.stdout) == summary_lines(one.stdout)
    for name in ("", "-rejects"):
        ours, theirs = tmp_path / f"dask{name}{suffix}", tmp_path / f"one{name}{suffix}"
        if suffix == ".csv":
            assert ours.read_bytes() == theirs.read_bytes()
        else:
            got, expected = pq.read_table(ours), pq.read_table(theirs)
            assert got.schema.equals(expected.schema, check_metadata=True)
            assert got.to_pylist() == expected.to_pylist()
    assert read_trip_file(tmp_path / f"one{suffix}").num_rows == trips.num_rows


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "2", "--stream"], "--stream runs in this process"),
        (["--workers", "2", "--append"], "--append works on files computed in one process"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--workers", "2", "--factors", "no-such-set"], "no-such-set"),
    ],
)
def test_calc_on_dask_refuses_options_it_cannot_honour(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    source = tmp_path / "trips.csv"
    write_result_file(generate_trips(10, seed=1), source)
    done = CliRunner().invoke(main, ["calc", str(source), "-o", str(tmp_path / "o.csv"), *extra])
    assert done.exit_code == 2
    assert message in done.output


NO_DASK = """
import sys
sys.modules["dask"] = None  # as if the extra were not installed
sys.modules["distributed"] = None
from carbonfoot.cli import main
main()
"""


@needs_dask
def test_a_missing_input_fails_before_a_cluster_starts(tmp_path: Path) -> None:
    missing = tmp_path / "missing.parquet"
    done = CliRunner().invoke(
        main, ["calc", str(missing), "-o", str(tmp_path / "o.csv"), "--workers", "2"]
    )
    assert done.exit_code == 2
    assert done.output.strip() == f"error: {missing}: no such file"


def test_without_the_extra_workers_name_the_package_to_install(tmp_path: Path) -> None:
    source = tmp_path / "trips.csv"
    write_result_file(generate_trips(10, seed=1), source)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            NO_DASK,
            "calc",
            str(source),
            "-o",
            str(tmp_path / "o.csv"),
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: carbonfoot on Dask needs dask[dataframe] and distributed: "
        "pip install 'carbonfoot[dask]'"
    ]
