"""The ledger's entries: four kinds, the fields each fills, and how a block is appended.

Every movement of credits is an entry, and entries are never changed: a correction is a
new entry pointing to what it corrects (``corrects``). There are four kinds:

=============  ========================================================================
kind           what it records
=============  ========================================================================
``credit``     a trip's award, once per trip id: the trip, its mode, distance, start,
               local day, savings in mg, the award, and the run (factor set and hash,
               baseline, policy and parameters) that computed it
``redemption`` credits spent in the green shop, once per request id: the item
``reversal``   a trip's credits taken back (found fraudulent), with the reason
``adjustment`` the change of a trip's award when it is recomputed with other factors
=============  ========================================================================

Which fields each kind fills (:data:`FIELDS_BY_KIND`; every other field is null):

=============  ==========================================================================
kind           fields besides ``seq, entry_id, kind, user_id, account, amount_minor``
=============  ==========================================================================
credit         trip_id, local_day, mode, distance_km, started_us, savings_mg,
               award_minor, run_id
redemption     request_id, item
reversal       trip_id, corrects, local_day, award_minor (0), note (the reason)
adjustment     trip_id, corrects, local_day, mode, distance_km, started_us, savings_mg,
               award_minor (the new award), run_id, note
=============  ==========================================================================

``amount_minor`` is what the entry adds to the user's balance (negative for a
redemption, a reversal, or a lowered award); ``award_minor`` is the trip's award after
the entry. Entries are written in blocks, one block per transaction, each block
hash-chained to the last (:mod:`carbonfoot.ledger.chain`). The entry kinds below are
columnar: one value holds a whole block's entries of that kind, as arrays, so crediting a
million trips builds no Python object per trip.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar, Final, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import define, field, frozen

from carbonfoot.ledger.chain import (
    CHAINED_FIELDS,
    block_hash,
    canonical_rows,
    digests,
    entries_hash,
)

__all__ = [
    "ENTRY_COLUMNS",
    "FIELDS_BY_KIND",
    "Adjustments",
    "Credits",
    "Redemption",
    "Reversal",
    "append_block",
]

#: The columns of the entries table, in order: the chained fields, then the digest.
ENTRY_COLUMNS: Final = (*CHAINED_FIELDS, "digest")
_COMMON: Final = ("seq", "entry_id", "kind", "user_id", "account", "amount_minor")
#: The fields each kind of entry fills; the others are null.
FIELDS_BY_KIND: Final = {
    "credit": (
        *_COMMON,
        "trip_id",
        "local_day",
        "mode",
        "distance_km",
        "started_us",
        "savings_mg",
        "award_minor",
        "run_id",
    ),
    "redemption": (*_COMMON, "request_id", "item"),
    "reversal": (*_COMMON, "trip_id", "corrects", "local_day", "award_minor", "note"),
    "adjustment": (
        *_COMMON,
        "trip_id",
        "corrects",
        "local_day",
        "mode",
        "distance_km",
        "started_us",
        "savings_mg",
        "award_minor",
        "run_id",
        "note",
    ),
}

Column = Sequence[Any] | npt.NDArray[Any]


def _as_list(values: Column) -> list[Any]:
    if isinstance(values, np.ndarray):
        return cast("list[Any]", values.tolist())
    return list(values)


class _Entries:
    """What the entry kinds share: their kind and the columns they fill."""

    kind: ClassVar[str]

    def columns(self) -> dict[str, Column]:  # pragma: no cover - each kind defines it
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.columns()["entry_id"])


@frozen
class Credits(_Entries):
    """Credit entries, one per trip of ``trip_ids`` (all arrays one entry per trip)."""

    kind: ClassVar[str] = "credit"
    trip_ids: Sequence[str]
    user_ids: Sequence[str]
    account: str
    awards: npt.NDArray[np.int64]
    local_day: npt.NDArray[np.int64]
    modes: Sequence[str]
    distance_km: npt.NDArray[np.float64]
    started_us: npt.NDArray[np.int64]
    savings_mg: npt.NDArray[np.int64]
    run_id: str

    def columns(self) -> dict[str, Column]:
        size = len(self.trip_ids)
        return {
            "entry_id": [credit_entry_id(trip) for trip in self.trip_ids],
            "kind": [self.kind] * size,
            "user_id": self.user_ids,
            "account": [self.account] * size,
            "amount_minor": self.awards,
            "trip_id": self.trip_ids,
            "local_day": self.local_day,
            "mode": self.modes,
            "distance_km": self.distance_km,
            "started_us": self.started_us,
            "savings_mg": self.savings_mg,
            "award_minor": self.awards,
            "run_id": [self.run_id] * size,
        }


@frozen
class Redemption(_Entries):
    """One redemption: ``amount_minor`` (positive) spent by a user on ``item``."""

    kind: ClassVar[str] = "redemption"
    request_id: str
    user_id: str
    account: str
    amount_minor: int
    item: str

    @property
    def entry_id(self) -> str:
        return f"redeem:{self.request_id}"

    def columns(self) -> dict[str, Column]:
        return {
            "entry_id": [self.entry_id],
            "kind": [self.kind],
            "user_id": [self.user_id],
            "account": [self.account],
            "amount_minor": [-self.amount_minor],
            "request_id": [self.request_id],
            "item": [self.item],
        }


@frozen
class Reversal(_Entries):
    """A trip's credits taken back: ``amount_minor`` (positive) leaves the balance."""

    kind: ClassVar[str] = "reversal"
    trip_id: str
    user_id: str
    account: str
    amount_minor: int
    local_day: int
    reason: str

    @property
    def entry_id(self) -> str:
        return f"reverse:{self.trip_id}"

    def columns(self) -> dict[str, Column]:
        return {
            "entry_id": [self.entry_id],
            "kind": [self.kind],
            "user_id": [self.user_id],
            "account": [self.account],
            "amount_minor": [-self.amount_minor],
            "trip_id": [self.trip_id],
            "corrects": [credit_entry_id(self.trip_id)],
            "local_day": [self.local_day],
            "award_minor": [0],
            "note": [self.reason],
        }


@define
class Adjustments(_Entries):
    """Adjustment entries of a recomputation, one per trip whose award changed; built up
    with :meth:`add` as the recomputation finds them.

    ``sequence`` numbers a trip's adjustments (1 for its first); ``amounts`` is what each
    entry moves (the change, or less where the user's balance cannot cover a decrease);
    ``awards`` the trip's award after it.
    """

    kind: ClassVar[str] = "adjustment"
    trip_ids: list[str] = field(factory=list)
    sequence: list[int] = field(factory=list)
    user_ids: list[str] = field(factory=list)
    amounts: list[int] = field(factory=list)
    local_day: list[int] = field(factory=list)
    modes: list[str] = field(factory=list)
    distance_km: list[float] = field(factory=list)
    started_us: list[int] = field(factory=list)
    savings_mg: list[int] = field(factory=list)
    awards: list[int] = field(factory=list)
    notes: list[str] = field(factory=list)
    account: str = ""
    run_id: str = ""

    def add(
        self,
        *,
        trip_id: str,
        sequence: int,
        user_id: str,
        amount: int,
        local_day: int,
        mode: str,
        distance_km: float,
        started_us: int,
        savings_mg: int,
        award: int,
        note: str,
    ) -> None:
        """Record one more adjustment."""
        self.trip_ids.append(trip_id)
        self.sequence.append(sequence)
        self.user_ids.append(user_id)
        self.amounts.append(amount)
        self.local_day.append(local_day)
        self.modes.append(mode)
        self.distance_km.append(distance_km)
        self.started_us.append(started_us)
        self.savings_mg.append(savings_mg)
        self.awards.append(award)
        self.notes.append(note)

    def columns(self) -> dict[str, Column]:
        size = len(self.trip_ids)
        return {
            "entry_id": [
                f"adjust:{trip}:{n}" for trip, n in zip(self.trip_ids, self.sequence, strict=True)
            ],
            "kind": [self.kind] * size,
            "user_id": self.user_ids,
            "account": [self.account] * size,
            "amount_minor": self.amounts,
            "trip_id": self.trip_ids,
            "corrects": [credit_entry_id(trip) for trip in self.trip_ids],
            "local_day": self.local_day,
            "mode": self.modes,
            "distance_km": self.distance_km,
            "started_us": self.started_us,
            "savings_mg": self.savings_mg,
            "award_minor": self.awards,
            "run_id": [self.run_id] * size,
            "note": self.notes,
        }


def credit_entry_id(trip_id: str) -> str:
    """The entry id of a trip's credit: the trip id is the idempotency key."""
    return f"credit:{trip_id}"


def append_block(cursor: Any, entries: _Entries) -> tuple[int, int]:
    """Add ``entries`` as one block of the hash chain; returns (first seq, block number).

    Must run inside the store's write transaction, which serializes writers: the block
    takes the next sequence numbers and chains to the head it reads.
    """
    columns: dict[str, Any] = dict(entries.columns())
    unexpected = set(columns) - set(FIELDS_BY_KIND[entries.kind])
    if unexpected:  # a kind filling a field its row of the table does not list
        raise ValueError(f"{entries.kind} entries do not fill {', '.join(sorted(unexpected))}")
    size = len(columns["entry_id"])
    last_seq, last_block, last_hash = cursor.execute(
        "SELECT last_seq, last_block, last_hash FROM ledger_head WHERE id = 1"
    )[0]
    first = int(last_seq) + 1
    block = int(last_block) + 1
    columns["seq"] = np.arange(first, first + size, dtype=np.int64)
    for name in CHAINED_FIELDS:
        columns.setdefault(name, [None] * size)
    rows = canonical_rows(columns)
    columns["digest"] = digests(rows)
    content = entries_hash(rows)
    chained = block_hash(last_hash, block, first, first + size - 1, content)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    values = [_python(columns[name]) for name in ENTRY_COLUMNS]
    marks = ",".join("?" * len(ENTRY_COLUMNS))
    cursor.executemany(
        f"INSERT INTO entries ({','.join(ENTRY_COLUMNS)}) VALUES ({marks})",
        list(zip(*values, strict=True)),
    )
    cursor.execute(
        "INSERT INTO blocks (block, first_seq, last_seq, prev_hash, entries_hash, block_hash, recorded_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (block, first, first + size - 1, last_hash, content, chained, now),
    )
    cursor.execute(
        "UPDATE ledger_head SET last_seq = ?, last_block = ?, last_hash = ? WHERE id = 1",
        (first + size - 1, block, chained),
    )
    return first, block


def _python(values: Any) -> list[Any]:
    if isinstance(values, pa.Array):
        return cast("list[Any]", values.to_pylist())
    return _as_list(values)
