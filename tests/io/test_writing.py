"""Result files: written whole or not at all, appends included; any column type in CSV."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from carbonfoot import Engine
from carbonfoot.calc import calc_file
from carbonfoot.io import ResultWriter, append_result_file, write_result_file

SCRIPT = """
import sys
import numpy as np
import pyarrow as pa
from carbonfoot.io import append_result_file, write_result_file
path, mode = sys.argv[1], sys.argv[2]
rows = 1_000_000
table = pa.table({"n": np.arange(rows), "text": pa.array(np.arange(rows).astype(str))})
print("ready", flush=True)
(append_result_file if mode == "append" else write_result_file)(table, path)
"""


@pytest.mark.parametrize(
    ("suffix", "mode"), [(".parquet", "append"), (".csv", "append"), (".csv", "write")]
)
def test_a_write_killed_at_any_moment_leaves_the_old_file_whole(
    tmp_path: Path, suffix: str, mode: str
) -> None:
    target = tmp_path / f"results{suffix}"
    old = pa.table({"n": [1, 2, 3], "text": ["a", "b", "c"]})
    write_result_file(old, target)
    before = target.read_bytes()
    for delay in (0.02, 0.15):
        process = subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(target), mode],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after = target.read_bytes()
        if after != before:  # the write finished before the kill: then it is whole
            grown = (pq.read_table if suffix == ".parquet" else pa_csv.read_csv)(target)
            expected = 3 + 1_000_000 if mode == "append" else 1_000_000
            assert grown.num_rows == expected
            write_result_file(old, target)
            before = target.read_bytes()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]
    # A killed writer may leave its temporary file; never a torn target.
    assert all(name.startswith(f".{target.name}.") for name in leftovers)


def test_a_failed_streamed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "results.parquet"
    write_result_file(pa.table({"n": [1]}), target)

    def write_then_fail() -> None:
        with ResultWriter(target, pa.schema([("n", pa.int64())])) as writer:
            writer.write(pa.table({"n": [7, 8]}))
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        write_then_fail()
    assert pq.read_table(target).column("n").to_pylist() == [1]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_appending_to_a_csv_keeps_earlier_rows_and_adds_the_new(tmp_path: Path) -> None:
    target = tmp_path / "results.csv"
    write_result_file(pa.table({"n": [1, 2]}), target)
    append_result_file(pa.table({"n": [3]}), target)
    assert pa_csv.read_csv(target).column("n").to_pylist() == [1, 2, 3]
    reference = tmp_path / "plain.txt"
    reference.write_text("x")  # created the ordinary way: the process umask applies
    assert os.stat(target).st_mode & 0o777 == os.stat(reference).st_mode & 0o777


def test_nested_and_binary_columns_are_written_to_a_csv_rejects_file(
    tmp_path: Path, engine: Engine
) -> None:
    trips = pa.table(
        {
            "trip_id": ["a", "b"],
            "user_id": ["u", "v"],
            "mode": ["walk", "hovercraft"],
            "distance": [1.0, 2.0],
            "started_at": ["2024-05-01T08:00:00+08:00"] * 2,
            "track": pa.array([[1.5, 2.5], [3.5]], type=pa.list_(pa.float64())),
            "meta": pa.array([{"app": "x", "v": 1}, {"app": "y", "v": 2}]),
            "blob": pa.array([b"ok", b"\xff\xfe"], type=pa.binary()),
        }
    )
    source = tmp_path / "trips.parquet"
    pq.write_table(trips, source)
    report = calc_file(engine, source, tmp_path / "out.csv", rejects_path=tmp_path / "rejects.csv")
    assert report.summary.rejected == 1
    rejects = pa_csv.read_csv(tmp_path / "rejects.csv").to_pylist()
    assert len(rejects) == 1
    assert rejects[0]["status"] == "unknown_mode"
    assert json.loads(rejects[0]["track"]) == [3.5]
    assert json.loads(rejects[0]["meta"]) == {"app": "y", "v": 2}
    assert rejects[0]["blob"] == "\\xff\\xfe"
