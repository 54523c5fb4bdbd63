"""Between Arrow tables and the pandas frames a Dask DataFrame is made of, losslessly.

Partitions are pandas frames whose columns keep their Arrow types (``pd.ArrowDtype``):
strings, decimals, timestamps with their zone and nulls come back unchanged. Dictionary
columns travel as plain values (each partition would have its own dictionary) and get
their dictionary back when a partition is turned into the result table. Result columns
that are one value for the whole run, and ``status``, whose code travels instead, are
left out of the partitions and put back from the run's schema.
"""

from __future__ import annotations

import json

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from carbonfoot.dask.columns import AWARD, CONSTANT, ROW, SLOT, STATUS
from carbonfoot.money import minor_units
from carbonfoot.statuses import STATUSES

__all__ = [
    "frame_of",
    "plain_types",
    "public_frame",
    "rejects_table",
    "result_frame",
    "result_table",
]


def plain_types(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain values."""
    fields = [
        pa.field(field.name, field.type.value_type) if pa.types.is_dictionary(field.type) else field
        for field in table.schema
    ]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def frame_of(table: pa.Table) -> pd.DataFrame:
    """A pandas frame of an Arrow table whose columns keep their Arrow types."""
    return plain_types(table).to_pandas(types_mapper=pd.ArrowDtype, ignore_metadata=True)


def result_frame(
    table: pa.Table,
    modes: int,
    rows: npt.NDArray[np.int64],
    extra: dict[str, npt.NDArray[np.int64]],
) -> pd.DataFrame:
    """An engine result table as a partition: moving columns, plus :data:`HIDDEN` and ``extra``.

    ``modes`` is the number of installed modes: the engine's mode column lists every
    mode id first (index = mode code), then the labels that resolved to no mode.
    """
    mode = table.column("mode").combine_chunks()
    codes = mode.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    status = table.column("status").combine_chunks()
    frame = frame_of(table.drop_columns(["status", *CONSTANT]))
    frame[ROW] = rows
    frame[SLOT] = np.where((codes >= 0) & (codes < modes), codes, modes).astype(np.int16)
    frame[STATUS] = status.indices.to_numpy(zero_copy_only=False).astype(np.int8)
    frame[AWARD] = minor_units(table.column("credits").combine_chunks())
    for name, values in extra.items():
        frame[name] = values
    return frame


def result_table(part: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """A result partition as the engine's result table: same columns, types and metadata."""
    moving = pa.Table.from_pandas(
        part[[name for name in schema.names if name in part.columns]], preserve_index=False
    )
    size = len(part)
    run = json.loads((schema.metadata or {})[b"carbonfoot.run"])  # the constant columns' values
    columns: list[pa.Array | pa.ChunkedArray] = []
    for field in schema:
        if field.name == "status":
            codes = part[STATUS].to_numpy(dtype=np.int8)
            columns.append(
                pa.DictionaryArray.from_arrays(codes, pa.array(STATUSES, type=pa.string()))
            )
        elif field.name in CONSTANT:
            value = pa.array([run[field.name]], type=pa.string())
            columns.append(pa.DictionaryArray.from_arrays(np.zeros(size, dtype=np.int8), value))
        else:
            columns.append(moving.column(field.name).cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def public_frame(part: pd.DataFrame, schema: pa.Schema) -> pd.DataFrame:
    """A result partition with the result table's columns, indexed by row number."""
    frame = frame_of(result_table(part, schema))
    frame.index = pd.Index(part[ROW].to_numpy(dtype=np.int64))
    return frame


def rejects_table(part: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """Rejected input rows of a partition as the engine's ``rejected`` table gives them."""
    table = pa.Table.from_pandas(part.drop(columns=[ROW]), preserve_index=False)
    return table.cast(schema.remove_metadata()).replace_schema_metadata(schema.metadata)
