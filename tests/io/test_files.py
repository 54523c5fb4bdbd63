"""Files: CSV read as text (bad cells become rejected rows), Parquet with types."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from carbonfoot import Engine, InputError
from carbonfoot.io import read_trip_file, write_result_file

HEADER = "trip_id,user_id,mode,distance,started_at\n"


def test_a_csv_with_a_bad_cell_late_in_the_file_still_reads(tmp_path: Path, engine: Engine) -> None:
    rows = [f"t{i},u{i},bus,{1 + i % 5},2024-05-01T08:00:00+08:00\n" for i in range(50_000)]
    rows[-1] = "tz,u1,bus,abc,2024-05-01T08:00:00+08:00\n"
    path = tmp_path / "trips.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    table = read_trip_file(path)
    assert table.num_rows == 50_000
    statuses = engine.compute(table).table.column("status").to_pylist()
    assert statuses[-1] == "bad_distance"
    assert statuses.count("ok") == 49_999


def test_a_byte_order_mark_and_chinese_labels_are_read(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "trips.csv"
    path.write_text("\ufeff" + HEADER + "a,u,地铁,2,2024-05-01T08:00:00+08:00\n", encoding="utf-8")
    result = engine.compute(read_trip_file(path)).to_pylist()[0]
    assert result["mode"] == "metro"
    assert result["status"] == "ok"


def test_progress_callback_sees_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "trips.csv"
    path.write_text(HEADER + "a,u,bus,2,2024-05-01T08:00:00Z\n" * 1000, encoding="utf-8")
    seen: list[int] = []
    read_trip_file(path, on_bytes=seen.append)
    assert sum(seen) == path.stat().st_size


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("trips.txt", "x", "unsupported file type"),
        ("missing.csv", None, "no such file"),
        ("empty.csv", "", "empty file"),
        ("bad.parquet", "not parquet", "cannot read parquet"),
    ],
)
def test_unreadable_files_are_input_errors(
    tmp_path: Path, name: str, content: str | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_trip_file(path)


def test_results_round_trip_through_parquet_with_decimal_coins(tmp_path: Path, catalog) -> None:  # type: ignore[no-untyped-def]
    engine = Engine(catalog=catalog, policy="carbon-coin")
    trips = {
        "trip_id": ["a"],
        "user_id": ["u"],
        "mode": ["metro"],
        "distance": [10.0],
        "started_at": ["2024-05-01T08:00:00Z"],
    }
    table = engine.compute(trips).table
    write_result_file(table, tmp_path / "out.parquet")
    back = pq.read_table(tmp_path / "out.parquet")
    assert back.schema.field("credits").type == table.schema.field("credits").type
    assert back.column("credits").to_pylist() == table.column("credits").to_pylist()
    assert back.schema.metadata[b"carbonfoot.run"] == table.schema.metadata[b"carbonfoot.run"]
    write_result_file(table, tmp_path / "out.csv")
    assert ",0.78," in (tmp_path / "out.csv").read_text(encoding="utf-8")
