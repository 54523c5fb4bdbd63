"""Files as people export them: other encodings, other delimiters, decimal commas and an
operator's own column names all read as the same trips.

Each file is written here with Python's own codecs and csv module from the same rows, so
the expected values are the rows themselves, not carbonfoot's reading of them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from carbonfoot import Engine, InputError
from carbonfoot.cli import main
from carbonfoot.io import (
    BAD_ROW_COLUMN,
    TripFormat,
    csv_encoding,
    iter_trip_batches,
    read_trip_file,
)
from carbonfoot.streaming import stream_calc

COLUMNS = ["trip_id", "user_id", "mode", "distance", "started_at", "district"]
# Nanjing's districts, as a district officer's export names them.
ROWS = [
    ["t1", "张伟", "地铁", "5.5", "2024-05-01T08:00:00+08:00", "玄武区"],
    ["t2", "李娜", "bus", "12.25", "2024-05-01T09:00:00+08:00", "秦淮区"],
    ["t3", "王芳", "walk", "1.2", "2024-05-02T07:30:00+08:00", "鼓楼区"],
    ["t4", "刘洋", "bike", "3", "2024-05-02T18:15:00+08:00", "建邺区"],
]


def text(rows: list[list[str]], *, delimiter: str = ",", columns: list[str] = COLUMNS) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def cells(table: pa.Table) -> list[list[str]]:
    names = [name for name in table.column_names if name != BAD_ROW_COLUMN]
    return [list(row) for row in zip(*(table.column(n).to_pylist() for n in names), strict=True)]


@pytest.mark.parametrize(
    ("codec", "how"),
    [
        ("utf-8", "default"),
        ("utf-8-sig", "byte-order mark"),
        ("gb18030", "detected"),
        ("gbk", "detected"),
        ("utf-16", "byte-order mark"),
        ("utf-16-le", "detected"),
    ],
)
def test_an_encoding_is_told_from_the_bytes_and_the_rows_read_the_same(
    tmp_path: Path, codec: str, how: str
) -> None:
    path = tmp_path / "trips.csv"
    path.write_bytes(text(ROWS).encode(codec))
    encoding = csv_encoding(path)
    assert encoding.how == how
    table = read_trip_file(path)
    assert table.column_names[: len(COLUMNS)] == COLUMNS
    assert cells(table) == ROWS
    assert table.column(BAD_ROW_COLUMN).null_count == len(ROWS)


def test_a_given_encoding_wins_and_a_wrong_one_makes_bad_rows_that_say_how_to_fix_it(
    tmp_path: Path, engine: Engine
) -> None:
    path = tmp_path / "trips.csv"
    path.write_bytes(text(ROWS).encode("gb18030"))
    assert cells(read_trip_file(path, trip_format=TripFormat(encoding="GB18030"))) == ROWS
    table = read_trip_file(path, trip_format=TripFormat(encoding="utf-8"))
    messages = table.column(BAD_ROW_COLUMN).to_pylist()
    assert all("is not valid UTF-8 text" in m and "give it with --encoding" in m for m in messages)
    results = engine.compute(table)
    assert set(results.table.column("status").to_pylist()) == {"bad_row"}


def test_bytes_not_valid_in_a_legacy_encoding_spoil_only_their_row(tmp_path: Path) -> None:
    body = text(ROWS).encode("gb18030").split(b"\r\n")
    body[2] = body[2].replace(b"t2", b"t\xff2")  # 0xFF is no GB18030 lead byte
    path = tmp_path / "trips.csv"
    path.write_bytes(b"\r\n".join(body))
    table = read_trip_file(path, trip_format=TripFormat(encoding="gb18030"))
    messages = table.column(BAD_ROW_COLUMN).to_pylist()
    assert [m is None for m in messages] == [True, False, True, True]
    assert "line 3 is not valid gb18030 text" in messages[1]
    assert cells(table)[2] == ROWS[2]


def test_latin_1_is_not_taken_for_gb18030(tmp_path: Path) -> None:
    path = tmp_path / "trips.csv"
    rows = [["t1", "José", "walk", "1.5", "2024-05-01T08:00:00+08:00", "Café"]]
    path.write_bytes(text(rows).encode("latin-1"))
    assert csv_encoding(path).codec == "utf-8"  # so its rows say how to give the encoding
    assert cells(read_trip_file(path, trip_format=TripFormat(encoding="latin-1"))) == rows


def test_a_header_in_another_encoding_is_named_with_the_option_to_give() -> None:
    with pytest.raises(InputError, match="unknown text encoding 'gbkk'"):
        TripFormat(encoding="gbkk")


def test_semicolons_and_decimal_commas_as_a_european_spreadsheet_saves_them(
    tmp_path: Path,
) -> None:
    rows = [
        ["1,5", "u1", "walk", "2,5", "2024-05-01T08:00:00,5+02:00", "Mitte"],
        ["t2", "u2", "bus", "1.234,5", "2024-05-01T09:00:00+02:00", "Mitte"],
        ["t3", "u3", "bus", "1.234", "2024-05-01T09:00:00+02:00", "Mitte"],
        ["t4", "u4", "bike", "7", "2024-05-01T09:00:00+02:00", "Mitte"],
    ]
    path = tmp_path / "trips.csv"
    path.write_text(text(rows, delimiter=";"), encoding="utf-8")
    table = read_trip_file(path, trip_format=TripFormat(delimiter=";"))
    assert table.column("distance").to_pylist() == ["2.5", "1234.5", "1.234", "7"]
    assert table.column("trip_id").to_pylist()[0] == "1,5"  # an id is never a number
    assert table.column("started_at").to_pylist()[0] == "2024-05-01T08:00:00,5+02:00"
    kept = read_trip_file(path, trip_format=TripFormat(delimiter=";", decimal_comma=False))
    assert kept.column("distance").to_pylist()[0] == "2,5"


def test_tab_separated_utf_16_as_excel_saves_unicode_text(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "trips.csv"
    path.write_bytes(text(ROWS, delimiter="\t").encode("utf-16"))
    table = read_trip_file(path, trip_format=TripFormat(delimiter="tab"))
    assert cells(table) == ROWS
    assert engine.compute(table).table.column("status").to_pylist() == ["ok"] * 4


def test_a_bad_row_in_a_semicolon_file_is_found_by_its_own_delimiter(tmp_path: Path) -> None:
    lines = text(ROWS * 500, delimiter=";").splitlines(keepends=True)
    lines[7] = lines[7].rstrip("\r\n") + ";extra\r\n"
    path = tmp_path / "trips.csv"
    path.write_text("".join(lines), encoding="utf-8")
    table = read_trip_file(path, trip_format=TripFormat(delimiter=";"))
    messages = table.column(BAD_ROW_COLUMN).to_pylist()
    bad = [i for i, m in enumerate(messages) if m is not None]
    assert bad == [6]
    assert "line 8 has 7 fields where the header has 6" in str(messages[6])


OPERATOR = ["id", "user", "transport", "km", "start"]


def test_an_operators_own_column_names_are_mapped(tmp_path: Path, engine: Engine) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text([r[:5] for r in ROWS], columns=OPERATOR), encoding="utf-8")
    mapping = {
        "trip_id": "id",
        "user_id": "User",
        "mode": "transport",
        "distance": "km",
        "started_at": "start",
    }
    table = read_trip_file(path, trip_format=TripFormat.from_settings(columns=mapping))
    assert table.column_names[:5] == COLUMNS[:5]
    statuses = engine.compute(table).table.column("status").to_pylist()
    assert statuses == ["ok"] * 4


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"trip_id": "idd"}, "the file has no column idd; did you mean id"),
        ({"trip_idd": "id"}, "carbonfoot reads no column trip_idd; did you mean trip_id"),
        ({"trip_id": "id", "user_id": "id"}, "mapped to both trip_id and user_id"),
    ],
)
def test_a_mapping_that_cannot_hold_says_why(
    tmp_path: Path, mapping: dict[str, str], message: str
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(text([r[:5] for r in ROWS], columns=OPERATOR), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_trip_file(
            path, trip_format=TripFormat.from_settings(columns=mapping), known_columns=("steps",)
        )


def test_a_mapped_target_the_file_also_holds_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "trips.csv"
    path.write_text(text(ROWS, columns=["trip_id", *COLUMNS[1:5], "km"]), encoding="utf-8")
    with pytest.raises(InputError, match="the file has its own distance column too"):
        read_trip_file(path, trip_format=TripFormat.from_settings(columns={"distance": "km"}))


def test_parquet_takes_the_mapping_and_refuses_text_settings(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({"id": ["t1"], "user": ["u"]}), path)
    mapped = read_trip_file(
        path, trip_format=TripFormat.from_settings(columns={"trip_id": "id", "user_id": "user"})
    )
    assert mapped.column_names == ["trip_id", "user_id"]
    with pytest.raises(InputError, match="a delimiter apply to CSV files"):
        read_trip_file(path, trip_format=TripFormat(delimiter=";"))


def test_streaming_reads_a_legacy_file_as_memory_does(tmp_path: Path, engine: Engine) -> None:
    rows = [
        [f"t{i}", f"用户{i % 7}", "地铁", f"{1 + i % 9},5", ROWS[0][4], "玄武区"]
        for i in range(300)
    ]
    path = tmp_path / "trips.csv"
    path.write_bytes(text(rows, delimiter=";").encode("gb18030"))
    trip_format = TripFormat(delimiter=";")
    batches = list(iter_trip_batches(path, batch_rows=50, trip_format=trip_format))
    assert sum(b.num_rows for b in batches) == 300
    whole = engine.compute(read_trip_file(path, trip_format=trip_format)).table
    out = tmp_path / "streamed.parquet"
    stream_calc(engine, path, out, chunk_rows=50, trip_format=trip_format)
    streamed = pq.read_table(out)
    assert streamed.column("credits").to_pylist() == whole.column("credits").to_pylist()
    assert whole.column("distance_km").to_pylist()[0] == pytest.approx(1.5)


def test_the_cli_reads_an_export_as_its_options_and_config_say(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    rows = [[*r[:3], r[3].replace(".", ","), r[4]] for r in ROWS]
    path.write_bytes(text(rows, delimiter=";", columns=OPERATOR).encode("gb18030"))
    config = tmp_path / "district.toml"
    config.write_text(
        '[input]\ndelimiter = ";"\n\n[columns]\ntrip_id = "id"\nuser_id = "user"\n'
        'mode = "transport"\ndistance = "km"\n\n[policy]\nid = "green-credit"\n\n'
        "[policy.params]\ndaily_cap = 500\n",
        encoding="utf-8",
    )
    out = tmp_path / "results.csv"
    result = CliRunner().invoke(
        main,
        [
            *("calc", str(path), "-o", str(out), "--config", str(config)),
            *("--column", "started_at=start", "--encoding", "gb18030", "-q"),
        ],
    )
    assert result.exit_code == 0, result.output
    done = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [row["status"] for row in done] == ["ok"] * 4
    assert [float(row["distance_km"]) for row in done] == [5.5, 12.25, 1.2, 3.0]
    credit = CliRunner().invoke(
        main,
        [
            *("ledger", "credit", str(path), "--db", str(tmp_path / "l.db")),
            *("--config", str(config), "--column", "started_at=start"),
        ],
    )
    assert credit.exit_code == 0, credit.output
    assert "credited 4 trips" in credit.output


def test_a_mistyped_input_setting_is_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[input]\ndelimeter = ";"\n', encoding="utf-8")
    trips = tmp_path / "t.csv"
    trips.write_text(text(ROWS), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["calc", str(trips), "-o", str(tmp_path / "o.csv"), "--config", str(config)]
    )
    assert result.exit_code != 0
    assert "unknown key 'input.delimeter' (did you mean 'input.delimiter'?)" in result.output
