"""The summary of a batch computed in partitions, equal to the single-process one to the bit.

:func:`carbonfoot.results.summarise` adds floats in a definite order: per mode with
``np.bincount`` (one running sum per mode, in row order) and the grand total of savings
with ``np.sum`` (numpy's pairwise summation over the whole column). Adding the
partitions' own totals would round differently, and a printed total could differ in its
last digit. So the partitions, in input order, are folded into the per-mode running
sums one after the other (each fold continues the sums exactly where the previous
partition left them), and the grand total follows numpy's pairwise tree over the whole
batch: every subtree that lies inside one partition is that partition's ``np.sum`` of
the slice (the tree of a slice depends only on its length), the few leaves of at most
128 values that straddle two partitions are summed from their values, and the tree is
added up from there. Counts and awards are integers and add up in any order.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from attrs import define, evolve
from dask.delayed import Delayed, delayed

from carbonfoot.dask.columns import AWARD, SLOT, STATUS
from carbonfoot.results import ModeSummary, RunInfo, Summary, merge_label_counts
from carbonfoot.statuses import STATUSES

__all__ = ["BucketNotes", "PairwisePlan", "exact_summary", "pairwise_plan", "pairwise_sum"]

FLOAT_COLUMNS = ("distance_km", "emissions_g", "baseline_g", "savings_g")
#: numpy's pairwise summation: blocks of at most 128 values, split in halves rounded to 8.
_BLOCK = 128
_UNROLL = 8

Node = tuple[Any, ...]
#: What one user bucket tells the summary of its intake: every unknown mode label with
#: its row count, and how many start times were naive.
BucketNotes = tuple[tuple[tuple[str, int], ...], int]


def exact_summary(
    parts: Sequence[Delayed],
    mode_ids: tuple[str, ...],
    info: RunInfo,
    notes: Sequence[Delayed] = (),
) -> Delayed:
    """A Delayed :class:`Summary` of result partitions given in input order, with the
    buckets' ``notes`` (:data:`BucketNotes`: unknown labels, naive times)."""
    bins = len(mode_ids) + 1
    totals: Delayed | None = None
    for part in parts:  # the float sums go on in row order: one partition after the other
        totals = delayed(_fold)(totals, delayed(_prepare)(part, bins), bins)
    plan = delayed(pairwise_plan)([delayed(len)(part) for part in parts])
    pieces = [delayed(_pairwise_pieces)(part, plan, i) for i, part in enumerate(parts)]
    savings = delayed(_pairwise_total)(plan, pieces)
    return delayed(_with_notes)(delayed(_summary)(totals, savings, mode_ids, info), list(notes))


def _with_notes(summary: Summary, notes: Sequence[BucketNotes]) -> Summary:
    """The summary with the buckets' unknown labels (cut as one pass cuts them) and
    naive times added up."""
    labels, more = merge_label_counts([labels for labels, _ in notes])
    return evolve(
        summary,
        unknown_labels=labels,
        unknown_labels_more=more,
        naive_times=sum(naive for _, naive in notes),
    )


@define
class _Totals:
    """Running totals over the partitions folded so far."""

    trips: npt.NDArray[np.int64]
    computed: npt.NDArray[np.int64]
    sums: npt.NDArray[np.float64]  # one row per FLOAT_COLUMNS, one column per mode slot
    awards: list[int]
    statuses: npt.NDArray[np.int64]

    @classmethod
    def zero(cls, bins: int) -> _Totals:
        return cls(
            trips=np.zeros(bins, np.int64),
            computed=np.zeros(bins, np.int64),
            sums=np.zeros((len(FLOAT_COLUMNS), bins)),
            awards=[0] * bins,
            statuses=np.zeros(len(STATUSES), np.int64),
        )


@define
class _Part:
    """One partition's share: its counts and awards, and its rows' floats still to be added.

    ``values[slot]`` holds the :data:`FLOAT_COLUMNS` of the partition's ok rows of that
    mode slot, in row order (one row per column).
    """

    totals: _Totals
    values: dict[int, npt.NDArray[np.float64]]


def _prepare(part: pd.DataFrame, bins: int) -> _Part:
    """What the fold needs of one partition; computed beside the other partitions."""
    zero = _Totals.zero(bins)
    if not len(part):
        return _Part(zero, {})
    slot = part[SLOT].to_numpy(dtype=np.int64)
    status = part[STATUS].to_numpy(dtype=np.int64)
    ok = status == 0
    awards = part[AWARD].to_numpy(dtype=np.int64)
    rows = np.flatnonzero(ok)
    rows = rows[np.argsort(slot[rows], kind="stable")]  # by mode slot, each in row order
    values = np.stack(
        [part[name].to_numpy(dtype=np.float64, na_value=np.nan)[rows] for name in FLOAT_COLUMNS]
    )
    codes = slot[rows]
    bounds = np.r_[np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]), rows.size]
    by_slot: dict[int, npt.NDArray[np.float64]] = {}
    award_sums = [0] * bins
    for start, stop in pairwise(bounds.tolist() if rows.size else []):
        code = int(codes[start])
        by_slot[code] = values[:, start:stop]
        award_sums[code] = int(awards[rows[start:stop]].sum(dtype=np.int64))
    totals = _Totals(
        trips=np.bincount(slot, minlength=bins),
        computed=np.bincount(slot[ok], minlength=bins),
        sums=zero.sums,
        awards=award_sums,
        statuses=np.bincount(status, minlength=len(STATUSES)),
    )
    return _Part(totals, by_slot)


def _fold(totals: _Totals | None, part: _Part, bins: int) -> _Totals:
    """``totals`` continued by one partition, whose rows come after theirs."""
    totals = totals if totals is not None else _Totals.zero(bins)
    sums = totals.sums.copy()
    for code, values in part.values.items():
        # np.bincount adds each row to its mode's running sum in row order: continue it.
        running = np.concatenate([sums[:, code : code + 1], values], axis=1)
        sums[:, code] = np.cumsum(running, axis=1)[:, -1]
    return _Totals(
        trips=totals.trips + part.totals.trips,
        computed=totals.computed + part.totals.computed,
        sums=sums,
        awards=[a + b for a, b in zip(totals.awards, part.totals.awards, strict=True)],
        statuses=totals.statuses + part.totals.statuses,
    )


def _summary(
    totals: _Totals | None, savings_g: float, mode_ids: tuple[str, ...], info: RunInfo
) -> Summary:
    bins = len(mode_ids) + 1
    totals = totals if totals is not None else _Totals.zero(bins)
    by_mode = tuple(
        ModeSummary(
            mode=mode_ids[code] if code < bins - 1 else "(unknown)",
            trips=int(totals.trips[code]),
            computed=int(totals.computed[code]),
            distance_km=float(totals.sums[0, code]),
            emissions_g=float(totals.sums[1, code]),
            baseline_g=float(totals.sums[2, code]),
            savings_g=float(totals.sums[3, code]),
            credits=info.credit_value(totals.awards[code]),
        )
        for code in np.flatnonzero(totals.trips)
    )
    return Summary(
        by_mode=by_mode,
        status_counts={
            STATUSES[i]: int(totals.statuses[i]) for i in np.flatnonzero(totals.statuses)
        },
        trips=int(totals.statuses.sum()),
        computed=int(totals.computed.sum()),
        savings_g=savings_g,
        credits=info.credit_value(sum(totals.awards)),
        credit_unit=info.credit_unit,
        credit_decimals=info.credit_decimals,
        timezone=info.timezone,
    )


# -- numpy's pairwise sum over a column split into partitions ------------------------------


@define
class PairwisePlan:
    """numpy's pairwise tree over a column cut into partitions, and what each must give.

    ``tree`` holds nodes ``("sum", partition, start, stop)`` (a whole subtree inside one
    partition), ``("raw", ((partition, start, stop), ...))`` (a leaf of at most 128
    values across partitions) and ``("add", left, right)``; ``sums[i]`` and ``raws[i]``
    list the slices partition ``i`` must sum or give as values.
    """

    tree: Node | None
    sums: list[list[tuple[int, int]]]
    raws: list[list[tuple[int, int]]]


def pairwise_plan(lengths: Sequence[int]) -> PairwisePlan:
    """The tree of ``np.sum`` over partitions of these ``lengths``, cut at their bounds.

    Only the paths through partition boundaries are split (about 2 log2(n) nodes per
    boundary); every other subtree is one ``"sum"`` node, summed where its rows are.
    """
    offsets = np.concatenate([[0], np.cumsum(np.asarray(lengths, dtype=np.int64))])
    plan = PairwisePlan(None, [[] for _ in lengths], [[] for _ in lengths])

    def partition_at(position: int) -> tuple[int, int, int]:
        index = int(np.searchsorted(offsets, position, side="right")) - 1
        return index, int(offsets[index]), int(offsets[index + 1])

    def node(start: int, stop: int) -> Node:
        index, base, end = partition_at(start)
        if stop <= end:
            plan.sums[index].append((start - base, stop - base))
            return ("sum", index, start - base, stop - base)
        if stop - start <= _BLOCK:
            pieces = []
            position = start
            while position < stop:
                index, base, end = partition_at(position)
                piece = (position - base, min(stop, end) - base)
                plan.raws[index].append(piece)
                pieces.append((index, *piece))
                position = min(stop, end)
            return ("raw", tuple(pieces))
        half = (stop - start) // 2
        half -= half % _UNROLL
        return ("add", node(start, start + half), node(start + half, stop))

    if offsets[-1] > 0:
        plan.tree = node(0, int(offsets[-1]))
    return plan


def _ok_savings(part: pd.DataFrame) -> npt.NDArray[np.float64]:
    """``np.where(ok, savings_g, 0.0)``: the column the single-process total sums."""
    if not len(part):
        return np.zeros(0)
    ok = part[STATUS].to_numpy(dtype=np.int64) == 0
    savings = part["savings_g"].to_numpy(dtype=np.float64, na_value=np.nan)
    return np.ascontiguousarray(np.where(ok, savings, 0.0))


Pieces = dict[tuple[int, int], Any]


def _pairwise_pieces(part: pd.DataFrame, plan: PairwisePlan, index: int) -> Pieces:
    """This partition's share of the plan: sums of whole subtrees, values of short leaves."""
    values = _ok_savings(part)
    found: Pieces = {
        (start, stop): float(np.sum(values[start:stop])) for start, stop in plan.sums[index]
    }
    found.update({(start, stop): values[start:stop] for start, stop in plan.raws[index]})
    return found


def _pairwise_total(plan: PairwisePlan, pieces: Sequence[Pieces]) -> float:
    """The pairwise tree added up from its pieces: ``np.sum`` of the whole column."""

    def value(node: Node) -> float:
        if node[0] == "sum":
            return float(pieces[node[1]][(node[2], node[3])])
        if node[0] == "raw":
            block = np.concatenate([pieces[i][(start, stop)] for i, start, stop in node[1]])
            return float(np.sum(block))
        return value(node[1]) + value(node[2])

    return 0.0 if plan.tree is None else 0.0 + value(plan.tree)


def pairwise_sum(columns: Sequence[npt.NDArray[np.float64]]) -> float:
    """``np.sum`` of the concatenation of ``columns``, computed column by column."""
    plan = pairwise_plan([len(column) for column in columns])
    frames = [
        pd.DataFrame({"savings_g": column, STATUS: np.zeros(len(column), np.int8)})
        for column in columns
    ]
    return _pairwise_total(plan, [_pairwise_pieces(f, plan, i) for i, f in enumerate(frames)])
