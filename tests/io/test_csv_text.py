"""Hostile and broken CSV files: every malformed row is a bad_row, nothing else is lost.

Expected rows are worked out independently: Python's own csv module reads each line of
the test files, and the test says which lines must come back bad.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonfoot import Engine, InputError
from carbonfoot.io import BAD_ROW_COLUMN, CsvLimits, iter_trip_batches, read_trip_file
from carbonfoot.io.csv_text import read_csv_table

HEADER = b"trip_id,user_id,mode,distance,started_at\n"


def row(i: int) -> bytes:
    return f"t{i},u{i},walk,1.5,2024-05-01T08:{i % 60:02d}:00+08:00\n".encode()


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(HEADER + b"".join(lines))
    return path


def results(engine: Engine, path: Path) -> list[dict[str, object]]:
    return engine.compute(read_trip_file(path)).to_pylist()


BROKEN = {
    "an extra field": (b"t2,u2,walk,1.5,2024-05-01T08:02:00+08:00,extra\n", "has 6 fields"),
    "a missing field": (b"t2,u2,walk,1.5\n", "has 4 fields"),
    "an unclosed quote": (b't2,"u2,walk,1.5,2024-05-01T08:02:00+08:00\n', "opens a quote"),
    "a byte that is not UTF-8": (
        b"t2,u\xff2,walk,1.5,2024-05-01T08:02:00+08:00\n",
        "is not valid UTF-8 text",
    ),
    "a field over the limit": (
        b"t2,u2,walk," + b"9" * (1 << 20 | 1) + b",2024-05-01T08:02:00+08:00\n",
        "has a field of 1,048,577 bytes, over the limit of 1,048,576",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_one_malformed_row_is_a_bad_row_and_every_other_row_is_computed(
    tmp_path: Path, engine: Engine, case: str
) -> None:
    broken, why = BROKEN[case]
    lines = [row(i) for i in range(2_000)]
    lines[2] = broken
    rows = results(engine, write(tmp_path / "trips.csv", lines))
    assert len(rows) == 2_000
    assert rows[2]["status"] == "bad_row"
    message = str(rows[2]["message"])
    assert message.startswith("row 3: line 4 ")
    assert why in message
    assert [r["status"] for i, r in enumerate(rows) if i != 2] == ["ok"] * 1_999
    assert [r["trip_id"] for r in rows[3:6]] == ["t3", "t4", "t5"]


def test_an_unclosed_quote_spoils_only_its_own_line(tmp_path: Path, engine: Engine) -> None:
    lines = [row(i) for i in range(10)]
    lines[4] = b't4,"u4,walk,1.5,2024-05-01T08:04:00+08:00\n'
    rows = results(engine, write(tmp_path / "trips.csv", lines))
    assert [r["status"] for r in rows] == ["ok"] * 4 + ["bad_row"] + ["ok"] * 5
    assert 'its text: t4,"u4,walk' in str(rows[4]["message"])


def test_quoted_line_breaks_commas_and_quotes_are_values_not_errors(
    tmp_path: Path, engine: Engine
) -> None:
    lines = [row(i) for i in range(6)]
    lines[1] = b't1,"u1\nsecond line",walk,1.5,2024-05-01T08:01:00+08:00\n'
    lines[2] = b't2,"u2, ""the"" rider",walk,1.5,2024-05-01T08:02:00+08:00\n'
    lines[4] = b"t4,u4,walk,1.5\n"  # a bad row in the same block: the closer look runs
    rows = results(engine, write(tmp_path / "trips.csv", lines))
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "ok", "bad_row", "ok"]
    assert rows[1]["user_id"] == "u1\nsecond line"
    assert rows[2]["user_id"] == 'u2, "the" rider'
    assert str(rows[4]["message"]).startswith("row 5: line 7 has 4 fields")  # after 2 lines


def test_the_rejects_file_holds_the_bad_row_with_its_line_and_text(
    tmp_path: Path, engine: Engine
) -> None:
    from carbonfoot.calc import calc_file

    lines = [row(i) for i in range(5)]
    lines[3] = b"t3,u3,walk,1.5,2024-05-01T08:03:00+08:00,surplus\n"
    source = write(tmp_path / "trips.csv", lines)
    calc_file(engine, source, tmp_path / "out.csv", rejects_path=tmp_path / "rejects.csv")
    with (tmp_path / "rejects.csv").open(newline="", encoding="utf-8") as handle:
        rejects = list(csv.DictReader(handle))
    assert [r["status"] for r in rejects] == ["bad_row"]
    assert rejects[0]["message"] == (
        "row 4: line 5 has 6 fields where the header has 5; its text: "
        "t3,u3,walk,1.5,2024-05-01T08:03:00+08:00,surplus"
    )
    assert BAD_ROW_COLUMN not in rejects[0]


def test_streamed_batches_give_the_same_rows_as_one_read(tmp_path: Path) -> None:
    lines = [row(i) for i in range(30_000)]
    for i in range(7, 30_000, 997):
        lines[i] = b"broken,row\n"
    path = write(tmp_path / "trips.csv", lines)
    whole = read_trip_file(path)
    batches = pa.Table.from_batches(list(iter_trip_batches(path, batch_rows=1_000)))
    assert batches.num_rows == whole.num_rows == 30_000
    assert batches.column(BAD_ROW_COLUMN).to_pylist() == whole.column(BAD_ROW_COLUMN).to_pylist()
    assert batches.column("trip_id").to_pylist() == whole.column("trip_id").to_pylist()
    bad = [i for i, text in enumerate(whole.column(BAD_ROW_COLUMN).to_pylist()) if text]
    assert bad == list(range(7, 30_000, 997))


def test_a_wide_header_is_refused_before_it_costs_memory(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(200_000)) + "\n1\n", encoding="utf-8")
    with pytest.raises(InputError, match="header line is longer than 1,048,576 bytes"):
        read_trip_file(path)
    narrow = tmp_path / "narrow.csv"
    narrow.write_text(",".join("x" * 2 for _ in range(5_000)) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="the header has 5,000 columns; carbonfoot reads at most"):
        read_trip_file(narrow)


def test_a_line_longer_than_a_record_may_be_is_a_clear_error(tmp_path: Path) -> None:
    path = write(tmp_path / "long.csv", [row(0), b"x" * (3 << 20)])
    limits = CsvLimits(max_record_bytes=1 << 20)
    with pytest.raises(InputError, match="longer than 1,048,576 bytes"):
        list(iter_trip_batches(path, batch_rows=1_000, limits=limits))


def test_reserved_column_names_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "trips.csv"
    path.write_bytes(HEADER.rstrip(b"\n") + b",__carbonfoot_bad_row\n" + row(0))
    with pytest.raises(InputError, match="carbonfoot's own"):
        read_trip_file(path)


# -- a property: against Python's csv module, line by line ---------------------------------

FIELD = st.text(alphabet="ab ,\"'x1é", max_size=6)


def _line(fields: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    return out.getvalue().encode()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(FIELD, min_size=5, max_size=5).map(lambda f: ("good", _line(f))),
            st.lists(FIELD, min_size=1, max_size=8)
            .filter(lambda f: len(f) != 5)
            .map(lambda f: ("bad", _line(f))),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_every_line_is_read_as_the_csv_module_reads_it_or_is_a_bad_row(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, bytes]]
) -> None:
    path = tmp_path_factory.mktemp("csv") / "trips.csv"
    path.write_bytes(HEADER + b"".join(text for _, text in lines))
    table = read_csv_table(path, block_bytes=256)  # many small blocks
    assert table.num_rows == len(lines)
    bad = table.column(BAD_ROW_COLUMN).to_pylist()
    for index, (kind, text) in enumerate(lines):
        if kind == "bad":
            assert bad[index] is not None
            continue
        assert bad[index] is None
        expected = next(csv.reader(io.StringIO(text.decode(), newline="")))
        got = [table.column(c)[index].as_py() for c in range(5)]
        assert got == expected


def test_an_odd_quote_in_a_fully_quoted_file_spoils_only_its_line(
    tmp_path: Path, engine: Engine
) -> None:
    def quoted(i: int) -> bytes:
        return f'"t{i}","u{i}","walk","1.5","2024-05-01T08:{i % 60:02d}:00+08:00"\n'.encode()

    lines = [quoted(i) for i in range(400)]
    lines[10] = lines[10].replace(b'"u10"', b'""u10"')  # three quotes: one left open
    lines[300] = lines[300].replace(b'"u300"', b'"u300""')
    rows = results(engine, write(tmp_path / "trips.csv", lines))
    assert len(rows) == 400
    bad = [i for i, r in enumerate(rows) if r["status"] == "bad_row"]
    assert bad == [10, 300]
    assert all(r["status"] == "ok" for i, r in enumerate(rows) if i not in bad)
