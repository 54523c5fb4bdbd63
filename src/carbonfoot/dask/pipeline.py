"""The Dask pipeline: number the rows, find repeated ids, shuffle by user, compute, restore order.

Everything the engine decides about a trip depends on the trip, on the other trips of
its user (daily caps, daily distance, overlaps, near-duplicates) and on whether its id
appeared in an earlier row of the batch. So, as :mod:`carbonfoot.streaming` does with
spill files:

1. every row gets its row number in the whole batch (from the partition lengths, by a
   cumulative sum that stays lazy) and the number of its input partition;
2. a narrow frame of (trimmed trip id, row number) is shuffled by trip id; each part
   gives the rows whose id appeared earlier, and where (the first occurrence wins, as in
   one pass); these pairs, few in real data, are gathered into one object that every
   bucket receives;
3. the rows are shuffled by a hash of the trimmed user id, so that all trips of a user
   are in one bucket; each bucket, put back in row order, is computed whole by the
   ordinary :meth:`Engine.compute` with its rows' numbers and the repeated ids, so caps
   are paid in trip-time order (ties: input order) and messages name the batch's rows;
4. results and rejected input rows are shuffled back by input partition and sorted by
   row number: output partition *i* holds the results of input partition *i*, in order.

The engine is built once, by the caller, and enters the graph as one key: each worker
fetches it once and all bucket tasks on that worker use that object. Shuffles use Dask's
task-based method: this Dask's peer-to-peer shuffle turns pyarrow string and decimal
columns into Python objects, which would change what the engine reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from attrs import frozen
from dask.delayed import Delayed, delayed

from carbonfoot._kernels.arrays import one_array
from carbonfoot.dask.columns import FIRST, PART, ROW, TRIP, TRIP_KEY, USER
from carbonfoot.dask.frames import frame_of, public_frame, result_frame
from carbonfoot.dask.summary import BucketNotes, exact_summary
from carbonfoot.engine import Engine
from carbonfoot.errors import InputError
from carbonfoot.intake import to_arrow_table
from carbonfoot.intake.columns import BAD_ROW_COLUMN, RESERVED_PREFIX, find_column
from carbonfoot.intake.ids import ids_as_text, repeated_trip_ids, string_hash
from carbonfoot.results import RunInfo, unknown_label_counts

__all__ = ["SHUFFLE", "DaskResults", "compute"]

SHUFFLE = "tasks"

Duplicates = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]


@frozen
class DaskResults:
    """The lazy outcome of :func:`compute`.

    ``table`` has the columns of :attr:`carbonfoot.Results.table` (pyarrow-backed pandas
    dtypes; dictionary columns as plain values), one row per input row, partition *i*
    holding the results of input partition *i* in order, indexed by row number.
    ``rejected`` holds the input rows that were not computed, with ``status`` and
    ``message``, as :meth:`carbonfoot.Results.rejected` gives them. ``summary`` is a
    Delayed :class:`carbonfoot.Summary` equal to the single-process one. ``schema`` is
    the Arrow schema (with run metadata) of the single-process result table;
    ``partitions`` and ``rejected_partitions`` are the same data as Delayed pandas frames
    (with internal columns), for writers that keep input order
    (:func:`carbonfoot.dask.write_results`). Compute what you need in one call, e.g.
    ``dask_compute(results.table, results.summary)``: the engine then runs once.
    """

    table: dd.DataFrame
    rejected: dd.DataFrame
    summary: Delayed
    info: RunInfo
    schema: pa.Schema
    rejects_schema: pa.Schema
    partitions: tuple[Delayed, ...]
    rejected_partitions: tuple[Delayed, ...]


def compute(
    trips: dd.DataFrame,
    engine: Engine | Mapping[str, Any],
    *,
    distance_unit: str = "km",
    buckets: int | None = None,
) -> DaskResults:
    """Savings and credits of every row of ``trips``, lazily; see :class:`DaskResults`.

    ``engine`` is a built :class:`Engine` or the keyword arguments to build one;
    ``buckets`` is the number of user buckets (default: the number of input partitions).
    The columns and ``distance_unit`` are checked now, on the client, with the engine's
    own errors; nothing else is computed until the results are.
    """
    if not isinstance(engine, Engine):
        engine = Engine(**engine)
    columns = tuple(str(name) for name in trips.columns)
    if any(name.startswith(RESERVED_PREFIX) and name != BAD_ROW_COLUMN for name in columns):
        raise InputError("trip columns must not be named __carbonfoot_*: those are carbonfoot's")
    probe_trips = to_arrow_table(trips._meta)
    probe = engine.compute(probe_trips, distance_unit=distance_unit)  # checks columns and unit
    partitions = int(trips.npartitions)
    buckets = max(1, buckets if buckets is not None else partitions)
    with dask.config.set({"dataframe.convert-string": False}):
        numbered = _numbered(trips)
        fold = engine.fold_id_case
        duplicates = _repeated_ids(numbered, find_column(columns, "trip_id"), buckets, fold)
        by_user = _by_user(numbered, find_column(columns, "user_id"), buckets, fold)
        shipped = delayed(engine, name=f"carbonfoot-engine-{uuid.uuid4().hex}")
        tasks = [
            delayed(_compute_bucket, nout=3)(bucket, shipped, duplicates, distance_unit, columns)
            for bucket in by_user.to_delayed()
        ]
        result_meta = result_frame(
            probe.table, len(engine.modes), np.zeros(0, np.int64), {PART: np.zeros(0, np.int64)}
        )
        rejects_meta = frame_of(probe.rejected).assign(**{ROW: np.int64(0), PART: np.int64(0)})
        results = _in_input_order([task[0] for task in tasks], result_meta, partitions)
        rejected = _in_input_order([task[1] for task in tasks], rejects_meta, partitions)
        result_parts = tuple(results.to_delayed())
        rejected_parts = tuple(rejected.to_delayed())
        public_meta = public_frame(results._meta, probe.table.schema)
        table = dd.from_delayed(list(result_parts), meta=results._meta, verify_meta=False)
        rejected_table = dd.from_delayed(list(rejected_parts), meta=rejected._meta)
    return DaskResults(
        table=table.map_partitions(public_frame, probe.table.schema, meta=public_meta),
        rejected=rejected_table.drop(columns=[ROW]),
        summary=exact_summary(
            result_parts, engine.modes.ids, engine.run_info, [task[2] for task in tasks]
        ),
        info=engine.run_info,
        schema=probe.table.schema,
        rejects_schema=probe.rejected.schema.remove_metadata(),
        partitions=result_parts,
        rejected_partitions=rejected_parts,
    )


# -- 1. row numbers ------------------------------------------------------------------------


def _numbered(trips: dd.DataFrame) -> dd.DataFrame:
    """``trips`` with each row's number in the batch and its partition's number."""
    sizes = trips.map_partitions(_partition_size, meta=pd.Series(dtype=np.int64))
    ends = sizes.cumsum()
    meta = trips._meta.assign(**{ROW: np.int64(0), PART: np.int64(0)})
    return dd.map_partitions(_number_rows, trips, ends, align_dataframes=False, meta=meta)


def _partition_size(part: pd.DataFrame) -> pd.Series:
    return pd.Series([len(part)], dtype=np.int64)


def _number_rows(
    part: pd.DataFrame, ends: pd.Series, partition_info: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    end = int(ends.iloc[0])
    number = 0 if partition_info is None else int(partition_info["number"])
    return part.assign(
        **{
            ROW: np.arange(end - len(part), end, dtype=np.int64),
            PART: np.full(len(part), number, dtype=np.int64),
        }
    )


# -- 2. repeated trip ids ------------------------------------------------------------------
#
# Each branch (ids here, users below) hashes only its own column: Dask fuses the numbering
# into both branches, so a shared step that hashed both would run twice.


def _repeated_ids(
    numbered: dd.DataFrame, trip_column: str, buckets: int, fold_case: bool
) -> Delayed:
    """A Delayed pair: sorted rows whose id appeared earlier, and the row it first did."""
    ids_meta = pd.DataFrame(
        {
            TRIP_KEY: pd.Series(dtype=np.int64),
            TRIP: pd.Series(dtype=pd.ArrowDtype(pa.string())),
            ROW: pd.Series(dtype=np.int64),
        }
    )
    ids = numbered.map_partitions(_trip_ids, trip_column, fold_case, meta=ids_meta)
    by_id = ids.shuffle(on=TRIP_KEY, npartitions=buckets, ignore_index=True, shuffle_method=SHUFFLE)
    pairs_meta = pd.DataFrame({ROW: pd.Series(dtype=np.int64), FIRST: pd.Series(dtype=np.int64)})
    pairs = by_id.map_partitions(_repeated, meta=pairs_meta)
    return delayed(_sorted_pairs)(pairs.to_delayed())


def _trip_ids(part: pd.DataFrame, trip_column: str, fold_case: bool) -> pd.DataFrame:
    """Trip ids in their canonical form (as the engine reads them), their hash, and row
    numbers."""
    ids = ids_as_text(_arrow_column(part, trip_column), fold_case=fold_case)
    return pd.DataFrame(
        {
            TRIP_KEY: string_hash(ids, fold_case=fold_case).view(np.int64),
            TRIP: pd.arrays.ArrowExtensionArray(ids),
            ROW: part[ROW].to_numpy(dtype=np.int64),
        }
    )


def _repeated(part: pd.DataFrame) -> pd.DataFrame:
    ids = pa.array(part[TRIP].array) if len(part) else pa.array([], type=pa.string())
    rows, firsts = repeated_trip_ids(ids, part[ROW].to_numpy(dtype=np.int64))
    return pd.DataFrame({ROW: rows, FIRST: firsts})


def _sorted_pairs(parts: Sequence[pd.DataFrame]) -> Duplicates:
    empty = np.zeros(0, dtype=np.int64)
    rows = np.concatenate([empty, *(part[ROW].to_numpy(dtype=np.int64) for part in parts)])
    firsts = np.concatenate([empty, *(part[FIRST].to_numpy(dtype=np.int64) for part in parts)])
    order = np.argsort(rows, kind="stable")
    return rows[order], firsts[order]


# -- 3. by user ----------------------------------------------------------------------------


def _by_user(
    numbered: dd.DataFrame, user_column: str, buckets: int, fold_case: bool
) -> dd.DataFrame:
    """The rows shuffled so that all trips of a user (canonical id) are in one partition."""
    keyed = numbered.map_partitions(
        _with_user_key, user_column, fold_case, meta=numbered._meta.assign(**{USER: np.int64(0)})
    )
    return keyed.shuffle(on=USER, npartitions=buckets, ignore_index=True, shuffle_method=SHUFFLE)


def _with_user_key(part: pd.DataFrame, user_column: str, fold_case: bool) -> pd.DataFrame:
    text = _arrow_column(part, user_column)
    return part.assign(**{USER: string_hash(text, fold_case=fold_case).view(np.int64)})


def _compute_bucket(
    bucket: pd.DataFrame,
    engine: Engine,
    duplicates: Duplicates,
    distance_unit: str,
    columns: tuple[str, ...],
) -> tuple[pd.DataFrame, pd.DataFrame, BucketNotes]:
    """One user bucket, in row order, through the engine: (results, rejected input rows,
    what the summary needs of the intake: every unknown mode label with its count, and
    the number of naive start times)."""
    rows = bucket[ROW].to_numpy(dtype=np.int64)
    parts = bucket[PART].to_numpy(dtype=np.int64)
    trips = to_arrow_table(bucket[list(columns)])
    if rows.size and not (np.diff(rows) > 0).all():  # the shuffle usually keeps row order
        order = np.argsort(rows, kind="stable")
        rows, parts, trips = rows[order], parts[order], trips.take(pa.array(order))
    results = engine.compute(
        trips, distance_unit=distance_unit, row_numbers=rows, known_duplicates=duplicates
    )
    rejected = results.not_ok
    rejects = frame_of(results.rejected.replace_schema_metadata(None)).assign(
        **{ROW: rows[rejected], PART: parts[rejected]}
    )
    frame = result_frame(results.table, len(engine.modes), rows, {PART: parts})
    mode = results.table.column("mode").combine_chunks()
    index = np.asarray(mode.indices.fill_null(-1).to_numpy(zero_copy_only=False))
    codes = np.where((index >= 0) & (index < len(engine.modes)), index, -1).astype(np.int32)
    labels, _ = unknown_label_counts(mode.cast(pa.string()), codes, keep=len(mode))
    return frame, rejects, (labels, results.summary.naive_times)


# -- 4. back into input order --------------------------------------------------------------


def _in_input_order(parts: Sequence[Delayed], meta: pd.DataFrame, partitions: int) -> dd.DataFrame:
    """Rows of input partition *i* in output partition *i*, sorted by row number."""
    frame = dd.from_delayed(list(parts), meta=meta, verify_meta=False)
    by_part = frame.set_index(PART, divisions=list(range(partitions + 1)), shuffle_method=SHUFFLE)
    return by_part.map_partitions(_sorted_by_row, meta=_sorted_by_row(by_part._meta))


def _sorted_by_row(part: pd.DataFrame) -> pd.DataFrame:
    rows = part[ROW].to_numpy(dtype=np.int64)
    ordered = part if (np.diff(rows) > 0).all() else part.take(np.argsort(rows, kind="stable"))
    return ordered.reset_index(drop=True)


# -- helpers -------------------------------------------------------------------------------


def _arrow_column(part: pd.DataFrame, name: str) -> pa.Array:
    return one_array(to_arrow_table(part[[name]]).column(0))
