"""calc_file: a trip file in, a result file out, the same whichever way it runs."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from carbonfoot import Engine, InputError
from carbonfoot.calc import calc_file
from carbonfoot.demo.synthetic import generate_trips
from carbonfoot.io import write_result_file


@pytest.fixture(scope="module")
def trip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("calc") / "trips.parquet"
    write_result_file(generate_trips(3_000, users=400, seed=3, bad_row_share=0.02), path)
    return path


def test_in_memory_and_streamed_runs_write_the_same_file(
    engine: Engine, trip_file: Path, tmp_path: Path
) -> None:
    memory = calc_file(
        engine, trip_file, tmp_path / "memory.parquet", rejects_path=tmp_path / "r1.csv"
    )
    streamed = calc_file(
        engine,
        trip_file,
        tmp_path / "streamed.parquet",
        stream=True,
        chunk_rows=1_000,
        rejects_path=tmp_path / "r2.csv",
    )
    assert (memory.runner, streamed.runner) == ("memory", "stream")
    assert pq.read_table(memory.output).to_pylist() == pq.read_table(streamed.output).to_pylist()
    assert (tmp_path / "r1.csv").read_bytes() == (tmp_path / "r2.csv").read_bytes()
    assert memory.summary.trips == streamed.summary.trips == pq.read_metadata(trip_file).num_rows
    assert memory.summary.credits == streamed.summary.credits
    assert memory.info == engine.run_info
    assert memory.warnings == ()


def test_the_output_may_not_be_the_input(engine: Engine, trip_file: Path) -> None:
    with pytest.raises(InputError, match="would overwrite the input"):
        calc_file(engine, trip_file, trip_file)


def test_replacing_results_of_other_factor_content_is_noted(
    catalog, trip_file: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out.parquet"
    calc_file(Engine("uk-desnz-2024", catalog=catalog), trip_file, output)
    report = calc_file(Engine("uk-desnz-2025", catalog=catalog), trip_file, output)
    assert len(report.warnings) == 1
    assert "holds results of factor set uk-desnz-2024@" in report.warnings[0]
    assert "replaces it" in report.warnings[0]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"workers": 1, "scheduler": "tcp://x:1"}, "not both"),
        ({"workers": 1, "stream": True}, "--stream runs in this process"),
        ({"workers": 1, "append": True}, "--append works on files computed in one process"),
        ({"stream": True, "append": True}, "--append works on files computed in memory"),
    ],
)
def test_runner_options_that_contradict_each_other_are_refused(
    engine: Engine, trip_file: Path, tmp_path: Path, options: dict[str, object], fragment: str
) -> None:
    with pytest.raises(InputError, match=fragment):
        calc_file(engine, trip_file, tmp_path / "out.csv", **options)  # type: ignore[arg-type]
