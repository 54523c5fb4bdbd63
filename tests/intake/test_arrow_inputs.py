"""Trips from where people work: any Arrow stream producer computes as its pyarrow Table.

The promise: ``Engine.compute`` (and so the ledger's ``credit``) reads a polars DataFrame or
LazyFrame, a DuckDB relation, or any object exporting ``__arrow_c_stream__`` (the Arrow
PyCapsule interface), and gives row for row what the same trips give as a pyarrow Table.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot import Engine, InputError
from carbonfoot.intake import to_arrow_table


class StreamOnly:
    """The smallest Arrow producer: nothing but ``__arrow_c_stream__`` (no pyarrow type)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


class BrokenStream:
    """A producer whose capsule is not a stream: refused as an InputError, not a crash."""

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return object()


def demo_trips() -> pa.Table:
    """The bundled example trips, read as text so that every form starts from the same cells."""
    path = files("carbonfoot.demo").joinpath("trips.csv")
    with path.open("rb") as handle:
        table = pacsv.read_csv(handle)
    return table.cast(pa.schema([pa.field(name, pa.string()) for name in table.column_names]))


def computed(engine: Engine, trips: Any) -> list[dict[str, Any]]:
    return engine.compute(trips).table.to_pylist()


def test_a_stream_producer_computes_as_its_table(engine: Engine) -> None:
    table = demo_trips()
    assert computed(engine, StreamOnly(table)) == computed(engine, table)


def test_polars_frames_compute_as_their_table(engine: Engine) -> None:
    pl = pytest.importorskip("polars")
    table = demo_trips()
    frame = pl.from_arrow(table)
    assert frame.schema["mode"] == pl.String  # exported as string views: the case to read
    expected = computed(engine, table)
    assert computed(engine, frame) == expected
    assert computed(engine, frame.lazy()) == expected
    categorical = frame.with_columns(pl.col("mode").cast(pl.Categorical))
    assert computed(engine, categorical) == expected


def test_a_duckdb_relation_computes_as_its_table(engine: Engine) -> None:
    duckdb = pytest.importorskip("duckdb")
    table = demo_trips()
    connection = duckdb.connect()
    connection.register("trips", table)
    relation = connection.sql("SELECT * FROM trips")
    assert computed(engine, relation) == computed(engine, table)


def test_a_typed_duckdb_relation_is_read(engine: Engine) -> None:
    """Typed columns (decimal distance, a time zone aware timestamp) as SQL gives them."""
    duckdb = pytest.importorskip("duckdb")
    relation = duckdb.sql(
        "SELECT 't1' AS trip_id, 'u1' AS user_id, 'bus' AS mode, 5.25 AS distance, "
        "TIMESTAMPTZ '2024-05-01 08:00:00+08' AS started_at"
    )
    expected = computed(
        engine,
        {
            "trip_id": ["t1"],
            "user_id": ["u1"],
            "mode": ["bus"],
            "distance": [5.25],
            "started_at": ["2024-05-01T08:00:00+08:00"],
        },
    )
    assert computed(engine, relation) == expected
    assert expected[0]["status"] == "ok"


def test_string_views_become_plain_strings() -> None:
    table = pa.table({"mode": pa.array(["bus", None], type=pa.string_view())})
    plain = to_arrow_table(StreamOnly(table))
    assert plain.schema.field("mode").type == pa.large_string()
    assert plain.column("mode").to_pylist() == ["bus", None]


def test_a_broken_stream_is_an_input_error(engine: Engine) -> None:
    with pytest.raises(InputError, match="Arrow stream of BrokenStream"):
        engine.compute(BrokenStream())


def test_an_unreadable_value_names_the_ways_in(engine: Engine) -> None:
    with pytest.raises(InputError, match="__arrow_c_stream__"):
        engine.compute(42)


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["bus", "metro", "bicycle", "共享单车", "teleport", ""]),
            st.one_of(st.none(), st.floats(min_value=-1, max_value=50, allow_nan=False)),
            st.text(alphabet="ab ", max_size=3),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_batch_computes_the_same_through_a_stream(
    engine: Engine, rows: list[tuple[str, float | None, str]]
) -> None:
    table = pa.table(
        {
            "trip_id": [f"t{i}" for i in range(len(rows))],
            "user_id": [user or None for _, _, user in rows],
            "mode": pa.array([mode for mode, _, _ in rows], type=pa.string_view()),
            "distance": [distance for _, distance, _ in rows],
            "started_at": ["2024-05-01T08:00:00+08:00"] * len(rows),
        }
    )
    plain = table.set_column(2, "mode", table.column("mode").cast(pa.string()))
    assert computed(engine, StreamOnly(table)) == computed(engine, plain)
