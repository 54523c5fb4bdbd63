"""Results: one row per input row, plus the run's provenance and a summary by mode.

The result table is a pyarrow Table. Numbers are empty (null) for rows that were not
computed. ``credits`` is an int64 column for policies that award whole units, and an
exact ``decimal128(18, decimals)`` column for policies with decimal places (coins);
either way it is built from the policy's integer awards, never from binary floats.
Every row names the factor set (and its content hash), baseline and policy of the run,
and the table's schema metadata records the same as JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import asdict, evolve, field, frozen

from carbonfoot.factors.model import freeze as _freeze
from carbonfoot.intake.columns import BAD_ROW_COLUMN
from carbonfoot.money import money_column, to_value
from carbonfoot.statuses import OK, QUARANTINED, STATUSES

if TYPE_CHECKING:
    from carbonfoot.intake import TripColumns
    from carbonfoot.modes import ModeTable

__all__ = [
    "ModeSummary",
    "Results",
    "RunInfo",
    "Summary",
    "build_results",
    "merge_label_counts",
    "merge_summaries",
    "unknown_label_counts",
]

OUTPUT_COLUMNS = (
    "trip_id",
    "user_id",
    "mode",
    "distance_km",
    "emissions_g",
    "baseline_g",
    "savings_g",
    "credits",
    "status",
    "message",
    "started_at",
    "credit_day",
    "district",
    "distance_source",
    "factor_set",
    "factor_set_hash",
    "baseline",
    "policy",
)


@frozen
class RunInfo:
    """What produced a result: the factor set (name, content hash), baseline and policy."""

    factor_set: str
    factor_set_hash: str
    factor_set_version: str
    gas: str
    baseline: str
    baseline_g_per_pkm: float
    policy: str
    policy_params: Mapping[str, str] = field(converter=_freeze)
    credit_unit: str
    credit_decimals: int
    timezone: str

    def credit_value(self, award: int) -> int | Decimal:
        """An integer award as the policy's unit: an int, or a Decimal with its places."""
        return to_value(award, self.credit_decimals)

    def metadata(self) -> dict[bytes, bytes]:
        """The run info as Arrow/Parquet schema metadata."""
        record = asdict(self)
        record["policy_params"] = dict(self.policy_params)
        return {b"carbonfoot.run": json.dumps(record, sort_keys=True).encode()}


@frozen
class ModeSummary:
    """Totals of one mode over a batch."""

    mode: str
    trips: int
    computed: int
    distance_km: float
    emissions_g: float
    baseline_g: float
    savings_g: float
    credits: int | Decimal


@frozen
class Summary:
    """Totals by mode, counts by status, and grand totals of a batch.

    :meth:`to_arrow` and :meth:`to_pandas` give ``by_mode`` as a table, one row per mode.
    ``computed`` (here and per mode) counts the rows that count in the totals: status
    ``ok``. Quarantined rows are computed too (their numbers are in the table) but earn
    nothing and are left out of the totals; :attr:`quarantined` counts them.
    """

    by_mode: tuple[ModeSummary, ...]
    status_counts: Mapping[str, int] = field(converter=_freeze)
    trips: int
    computed: int
    savings_g: float
    credits: int | Decimal
    credit_unit: str
    credit_decimals: int = 0
    #: Labels that named no installed mode, most frequent first, with their row counts
    #: (at most :data:`UNKNOWN_LABELS_KEPT`), and how many other such labels there were.
    unknown_labels: tuple[tuple[str, int], ...] = ()
    unknown_labels_more: int = 0
    #: Start times without an offset, read as wall-clock time in ``timezone``.
    naive_times: int = 0
    timezone: str = ""

    @property
    def ok(self) -> int:
        """Rows counted in the totals (status ``ok``): what ``computed`` counts."""
        return self.computed

    @property
    def quarantined(self) -> int:
        """Rows computed but earning nothing: the ``suspect_*`` statuses."""
        return sum(self.status_counts.get(name, 0) for name in QUARANTINED)

    @property
    def rejected(self) -> int:
        """Rows that could not be computed."""
        return self.trips - self.computed - self.quarantined

    def to_arrow(self) -> pa.Table:
        """``by_mode`` as a pyarrow Table: one row per mode, in the summary's order.

        Credits are exact, as in the result table: int64 for a policy of whole units,
        ``decimal128(38, places)`` for one with decimal places (a mode's total may outgrow
        a single trip's 18 digits). The schema metadata names the credit unit.
        """
        credits = [row.credits for row in self.by_mode]
        credit_type = (
            pa.int64() if self.credit_decimals == 0 else pa.decimal128(38, self.credit_decimals)
        )
        return pa.table(
            {
                "mode": pa.array([row.mode for row in self.by_mode], type=pa.string()),
                "trips": pa.array([row.trips for row in self.by_mode], type=pa.int64()),
                "computed": pa.array([row.computed for row in self.by_mode], type=pa.int64()),
                **{
                    name: pa.array([getattr(row, name) for row in self.by_mode], type=pa.float64())
                    for name in ("distance_km", "emissions_g", "baseline_g", "savings_g")
                },
                "credits": pa.array(credits, type=credit_type),
            }
        ).replace_schema_metadata({b"carbonfoot.credit_unit": self.credit_unit.encode()})

    def to_pandas(self) -> Any:
        """``by_mode`` as a pandas DataFrame (needs pandas): whole-unit credits as pandas'
        nullable ``Int64``, decimal credits as exact ``Decimal`` objects."""
        return _pandas(self.to_arrow())


@frozen
class Results:
    """The outcome of :meth:`Engine.compute`: the result table, the run info, a summary,
    and the trips as computed (a pyarrow Table), which :attr:`rejected` picks rows of."""

    table: pa.Table
    info: RunInfo
    summary: Summary
    trips: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def column(self, name: str) -> npt.NDArray[Any]:
        """One column as a numpy array (nulls as NaN for floats, None for objects)."""
        return np.asarray(self.table.column(name).to_numpy(zero_copy_only=False))

    def to_pandas(self) -> Any:
        """The result table as a pandas DataFrame (needs pandas installed).

        Whole-unit credits come as pandas' nullable ``Int64`` (empty where a row was not
        computed) rather than float64, decimal credits as exact ``Decimal`` objects.
        """
        return _pandas(self.table)

    @property
    def not_ok(self) -> npt.NDArray[np.bool_]:
        """Which rows are not ``ok``: rejected or quarantined (the rows of :attr:`rejected`)."""
        status = self.table.column("status").combine_chunks()
        if pa.types.is_dictionary(status.type):
            codes = np.asarray(status.indices.to_numpy(zero_copy_only=False))
            is_ok = np.asarray(status.dictionary.to_pylist(), dtype=object) == OK
            return np.asarray(~is_ok[codes], dtype=np.bool_)
        return np.asarray(
            pc.not_equal(status, OK).fill_null(True).to_numpy(zero_copy_only=False), dtype=np.bool_
        )

    @property
    def rejected(self) -> pa.Table:
        """The input rows (as given) that are not ``ok``, with status and message.

        Rejected rows (not computed) and quarantined ones (``suspect_*``: computed, earning
        nothing, waiting for review) both: every row a reviewer needs to look at. A CSV
        row that could not be parsed has no values of its own; its message holds its line
        number and raw text.
        """
        keep = pa.array(self.not_ok)
        rows = self.trips.filter(keep)
        if BAD_ROW_COLUMN in rows.column_names:
            rows = rows.drop_columns([BAD_ROW_COLUMN])
        return rows.append_column(
            "status", self.table.column("status").filter(keep).cast(pa.string())
        ).append_column("message", self.table.column("message").filter(keep))

    def to_pylist(self) -> list[dict[str, Any]]:
        """The result rows as dictionaries."""
        return list(self.table.to_pylist())


def _pandas(table: pa.Table) -> Any:
    """``table`` as pandas, integer columns as pandas' nullable integers (never float64)."""
    import pandas as pd

    nullable = {
        pa.int8(): pd.Int8Dtype(),
        pa.int16(): pd.Int16Dtype(),
        pa.int32(): pd.Int32Dtype(),
        pa.int64(): pd.Int64Dtype(),
    }
    return table.to_pandas(types_mapper=nullable.get)


def _mode_column(codes: npt.NDArray[np.int32], labels: pa.Array, modes: ModeTable) -> pa.Array:
    """Mode ids as a dictionary column; a label that resolved to no mode is kept as given."""
    unknown = np.flatnonzero(codes < 0)
    indices = codes.astype(np.int32, copy=True)
    dictionary = pa.array(modes.ids, type=pa.string())
    if unknown.size:
        raw = labels.take(pa.array(unknown)).dictionary_encode()
        indices[unknown] = len(modes) + np.asarray(
            raw.indices.fill_null(-1 - len(modes)).to_numpy(zero_copy_only=False)
        )
        dictionary = pa.concat_arrays([dictionary, raw.dictionary.cast(pa.string())])
    valid = indices >= 0
    return pa.DictionaryArray.from_arrays(pa.array(indices, mask=~valid), dictionary)


def _constant(value: str, size: int) -> pa.Array:
    return pa.DictionaryArray.from_arrays(np.zeros(size, dtype=np.int8), pa.array([value]))


def _floats(values: npt.NDArray[np.float64], valid: npt.NDArray[np.bool_]) -> pa.Array:
    return pa.array(values, mask=~valid, type=pa.float64())


def build_results(
    *,
    columns: TripColumns,
    modes: ModeTable,
    ok: npt.NDArray[np.bool_],
    computed: npt.NDArray[np.bool_] | None = None,
    distance_km: npt.NDArray[np.float64],
    emissions_g: npt.NDArray[np.float64],
    baseline_g: npt.NDArray[np.float64],
    savings_g: npt.NDArray[np.float64],
    awards: npt.NDArray[np.int64],
    local_day: npt.NDArray[np.int64],
    info: RunInfo,
    trips: pa.Table,
) -> Results:
    """Assemble the result table and summary from the engine's arrays (``trips``: the
    input as the intake read it, kept for :attr:`Results.rejected`).

    ``computed`` rows show their numbers (quarantined rows included, credits 0); ``ok``
    rows are the ones that count in the summary's totals.
    """
    shown = ok if computed is None else computed
    size = columns.size
    codes = columns.mode_code
    mode_text = _mode_column(codes, columns.mode_label, modes)
    credits = money_column(awards, info.credit_decimals, shown)
    has_time = columns.started_valid
    table = pa.table(
        {
            "trip_id": columns.trip_id,
            "user_id": columns.user_id,
            "mode": mode_text,
            "distance_km": _floats(distance_km, shown),
            "emissions_g": _floats(emissions_g, shown),
            "baseline_g": _floats(baseline_g, shown),
            "savings_g": _floats(savings_g, shown),
            "credits": credits,
            "status": pa.DictionaryArray.from_arrays(
                columns.status.astype(np.int8), pa.array(STATUSES, type=pa.string())
            ),
            "message": columns.rejections.messages(),
            "started_at": pa.array(
                columns.started_us, mask=~has_time, type=pa.timestamp("us", tz="UTC")
            ),
            "credit_day": pa.array(
                local_day.astype(np.int32), mask=~has_time, type=pa.int32()
            ).cast(pa.date32()),
            "district": columns.district
            if columns.district is not None
            else pa.nulls(size, pa.string()),
            "distance_source": pa.DictionaryArray.from_arrays(
                pa.array(columns.distance_source, mask=columns.distance_source < 0, type=pa.int8()),
                pa.array(columns.source_names, type=pa.string()),
            ),
            "factor_set": _constant(info.factor_set, size),
            "factor_set_hash": _constant(info.factor_set_hash, size),
            "baseline": _constant(info.baseline, size),
            "policy": _constant(info.policy, size),
        }
    ).replace_schema_metadata(info.metadata())
    summary = summarise(
        codes,
        ok,
        columns.status,
        distance_km,
        emissions_g,
        baseline_g,
        savings_g,
        awards,
        modes,
        info,
    )
    labels, more = unknown_label_counts(columns.mode_label, codes)
    summary = evolve(
        summary,
        unknown_labels=labels,
        unknown_labels_more=more,
        naive_times=columns.naive_times,
        timezone=info.timezone,
    )
    return Results(table=table, info=info, summary=summary, trips=trips)


#: Unknown mode labels a summary lists by name, most frequent first.
UNKNOWN_LABELS_KEPT = 100


def unknown_label_counts(
    labels: pa.Array, codes: npt.NDArray[np.int32], keep: int = UNKNOWN_LABELS_KEPT
) -> tuple[tuple[tuple[str, int], ...], int]:
    """The labels of rows whose mode is unknown, with their counts, most frequent first
    (ties by label), at most ``keep`` of them, and how many other labels there were.

    One ``value_counts`` over the rejected rows; empty and null labels are not listed
    (their rows say "is empty").
    """
    unknown = np.flatnonzero(codes < 0)
    if unknown.size == 0:
        return (), 0
    texts = labels.take(pa.array(unknown)).cast(pa.string())
    texts = texts.filter(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0))
    return _top_labels(pc.value_counts(texts), keep)


def _top_labels(counts: pa.StructArray, keep: int) -> tuple[tuple[tuple[str, int], ...], int]:
    """The ``keep`` most frequent of ``value_counts`` output, and how many were left out."""
    if len(counts) == 0:
        return (), 0
    table = pa.table({"label": counts.field("values"), "count": counts.field("counts")})
    table = table.take(pc.sort_indices(table, [("count", "descending"), ("label", "ascending")]))
    top = table.slice(0, keep)
    pairs = tuple(
        zip(top.column("label").to_pylist(), top.column("count").to_pylist(), strict=True)
    )
    return pairs, table.num_rows - top.num_rows


def merge_label_counts(
    parts: Sequence[tuple[tuple[str, int], ...]], more: int = 0, keep: int = UNKNOWN_LABELS_KEPT
) -> tuple[tuple[tuple[str, int], ...], int]:
    """Unknown labels of disjoint parts of a batch, added up and cut as one batch's are.

    Exact while no part had more than ``keep`` labels (``more`` sums the parts' others:
    then the listed counts are lower bounds and ``more`` an upper bound)."""
    totals: dict[str, int] = {}
    for pairs in parts:
        for label, count in pairs:
            totals[label] = totals.get(label, 0) + count
    if not totals:
        return (), more
    counts = pa.StructArray.from_arrays(
        [pa.array(list(totals), pa.string()), pa.array(list(totals.values()), pa.int64())],
        names=["values", "counts"],
    )
    pairs, left = _top_labels(counts, keep)
    return pairs, left + more


def _exact_sums(slot: npt.NDArray[Any], awards: npt.NDArray[np.int64], bins: int) -> list[int]:
    """Integer sums of ``awards`` per slot, exact: float64 bincount where it cannot round,
    int64 where it cannot overflow, Python integers otherwise (awards near the limit)."""
    largest = int(np.abs(awards).max(initial=0))
    if largest * max(awards.size, 1) < 2**53:
        return [int(value) for value in np.bincount(slot, weights=awards, minlength=bins)]
    if largest * max(awards.size, 1) < 2**63:
        return [int(awards[slot == code].sum(dtype=np.int64)) for code in range(bins)]
    return [sum(awards[slot == code].tolist()) for code in range(bins)]


def summarise(
    codes: npt.NDArray[np.int32],
    ok: npt.NDArray[np.bool_],
    status: npt.NDArray[np.int8],
    distance_km: npt.NDArray[np.float64],
    emissions_g: npt.NDArray[np.float64],
    baseline_g: npt.NDArray[np.float64],
    savings_g: npt.NDArray[np.float64],
    awards: npt.NDArray[np.int64],
    modes: ModeTable,
    info: RunInfo,
) -> Summary:
    """Totals per mode and per status, with bincount: no loop over trips."""
    bins = len(modes) + 1
    slot = np.where(codes >= 0, codes, bins - 1)

    def total(values: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        return np.bincount(slot, weights=np.where(ok, values, 0.0), minlength=bins).astype(
            np.float64
        )

    trips = np.bincount(slot, minlength=bins)
    computed = np.bincount(slot, weights=ok.astype(np.float64), minlength=bins)
    km, emitted, base, saved = (total(v) for v in (distance_km, emissions_g, baseline_g, savings_g))
    award_sums = _exact_sums(slot, np.where(ok, awards, 0), bins)
    by_mode = tuple(
        ModeSummary(
            mode=modes.ids[code] if code < bins - 1 else "(unknown)",
            trips=int(trips[code]),
            computed=int(computed[code]),
            distance_km=float(km[code]),
            emissions_g=float(emitted[code]),
            baseline_g=float(base[code]),
            savings_g=float(saved[code]),
            credits=info.credit_value(award_sums[code]),
        )
        for code in np.flatnonzero(trips)
    )
    counts = np.bincount(status.astype(np.int64), minlength=len(STATUSES))
    return Summary(
        by_mode=by_mode,
        status_counts={STATUSES[i]: int(counts[i]) for i in np.flatnonzero(counts)},
        trips=int(status.size),
        computed=int(np.count_nonzero(ok)),
        savings_g=float(np.sum(np.where(ok, savings_g, 0.0))),
        credits=info.credit_value(sum(award_sums)),
        credit_unit=info.credit_unit,
        credit_decimals=info.credit_decimals,
    )


def merge_summaries(
    summaries: Sequence[Summary], mode_ids: Sequence[str], info: RunInfo
) -> Summary:
    """One summary from the summaries of disjoint parts of a batch (modes in ``mode_ids``
    order). Counts and credits add exactly; float totals with ``math.fsum``, so the merged
    savings may differ from one pass's in the last digit."""
    by_mode: dict[str, ModeSummary] = {}
    counts: dict[str, int] = {}
    for summary in summaries:
        for row in summary.by_mode:
            previous = by_mode.get(row.mode)
            by_mode[row.mode] = (
                row
                if previous is None
                else evolve(
                    previous,
                    trips=previous.trips + row.trips,
                    computed=previous.computed + row.computed,
                    distance_km=previous.distance_km + row.distance_km,
                    emissions_g=previous.emissions_g + row.emissions_g,
                    baseline_g=previous.baseline_g + row.baseline_g,
                    savings_g=previous.savings_g + row.savings_g,
                    credits=previous.credits + row.credits,
                )
            )
        for status, count in summary.status_counts.items():
            counts[status] = counts.get(status, 0) + count
    labels, more = merge_label_counts(
        [s.unknown_labels for s in summaries], sum(s.unknown_labels_more for s in summaries)
    )
    order = {mode: index for index, mode in enumerate(mode_ids)}
    rows = tuple(sorted(by_mode.values(), key=lambda row: order.get(row.mode, len(order))))
    return Summary(
        by_mode=rows,
        status_counts={status: counts[status] for status in STATUSES if status in counts},
        trips=sum(s.trips for s in summaries),
        computed=sum(s.computed for s in summaries),
        savings_g=math.fsum(s.savings_g for s in summaries),
        credits=sum((s.credits for s in summaries), start=info.credit_value(0)),
        credit_unit=info.credit_unit,
        credit_decimals=info.credit_decimals,
        unknown_labels=labels,
        unknown_labels_more=more,
        naive_times=sum(s.naive_times for s in summaries),
        timezone=info.timezone,
    )
