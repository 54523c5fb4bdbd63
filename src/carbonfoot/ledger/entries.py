"""The ledger's entries: seven kinds, the fields each fills, and how a block is appended.

Every movement of credits, and every decision about a trip, is an entry, and entries are
never changed: a correction is a new entry pointing to what it corrects (``corrects``).

==============  ========================================================================
kind            what it records
==============  ========================================================================
``credit``      a trip's award, once per trip id: the trip (mode, distance, start and
                end, district, local day), savings in mg, the award, and the run (factor
                set and hash, baseline, policy and parameters) that computed it; for a
                trip approved in review, the quarantine it resolves and who approved it
``quarantine``  a trip held for review (a ``suspect_*`` status) with what it would earn
                from, once per trip id; it earns nothing until approved
``refusal``     a quarantined trip finally refused in review, with who and why
``redemption``  credits spent in the green shop, once per request id: the item
``reversal``    a trip's credits taken back (found fraudulent), with the reason, once
``adjustment``  the change of a trip's award when it is recomputed with other factors
``settings``    how the ledger pays from now on: the run (factor set, baseline, policy
                and parameters) new trips are credited under, and why it changed; it
                belongs to no user (``user_id`` is empty)
==============  ========================================================================

Which fields each kind may fill (:data:`FIELDS_BY_KIND`; every other field is null):

==============  =========================================================================
kind            fields besides ``seq, entry_id, kind, user_id, account, amount_minor``
==============  =========================================================================
credit          trip_id, local_day, mode, distance_km, started_us, ended_us, district,
                savings_mg, award_minor, run_id; corrects, note (approved in review)
quarantine      trip_id, local_day, mode, distance_km, started_us, ended_us, district,
                savings_mg, award_minor (0), run_id, status, note (why it is held)
refusal         trip_id, corrects (the quarantine), note (who refused it and why)
redemption      request_id, item
reversal        trip_id, corrects, local_day, award_minor (0), note (the reason)
adjustment      trip_id, corrects, local_day, mode, distance_km, started_us, ended_us,
                district, savings_mg, award_minor (the new award), run_id, note
settings        run_id, note
==============  =========================================================================

``amount_minor`` is what the entry adds to the user's position (negative for a
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
    FORMAT,
    block_hash,
    canonical_rows,
    digests,
    entries_hash,
)

__all__ = [
    "ENTRY_COLUMNS",
    "FIELDS_BY_KIND",
    "LEDGER_WIDE",
    "Adjustments",
    "Credits",
    "Quarantines",
    "Redemption",
    "Refusal",
    "Reversal",
    "Settings",
    "TripFacts",
    "append_block",
    "credit_entry_id",
    "quarantine_entry_id",
]

#: The columns of the entries table, in order: the chained fields, then the digest.
ENTRY_COLUMNS: Final = (*CHAINED_FIELDS, "digest")
_COMMON: Final = ("seq", "entry_id", "kind", "user_id", "account", "amount_minor")
_TRIP: Final = (
    "trip_id",
    "local_day",
    "mode",
    "distance_km",
    "started_us",
    "ended_us",
    "district",
    "savings_mg",
    "award_minor",
    "run_id",
)
#: The fields each kind of entry may fill; the others are null.
FIELDS_BY_KIND: Final = {
    "credit": (*_COMMON, *_TRIP, "corrects", "note"),
    "quarantine": (*_COMMON, *_TRIP, "status", "note"),
    "refusal": (*_COMMON, "trip_id", "corrects", "note"),
    "redemption": (*_COMMON, "request_id", "item"),
    "reversal": (*_COMMON, "trip_id", "corrects", "local_day", "award_minor", "note"),
    "adjustment": (*_COMMON, *_TRIP, "corrects", "note"),
    "settings": (*_COMMON, "run_id", "note"),
}
#: Who an entry that belongs to no user is written for (``settings``).
LEDGER_WIDE: Final = ""

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
class TripFacts:
    """What a block of credit or quarantine entries records of each trip (arrays, one
    entry per trip): the trip as computed, and the run that computed it."""

    trip_ids: Sequence[str]
    user_ids: Sequence[str]
    local_day: npt.NDArray[np.int64]
    modes: Sequence[str]
    distance_km: npt.NDArray[np.float64]
    started_us: npt.NDArray[np.int64]
    ended_us: Sequence[int | None]
    districts: Sequence[str | None]
    savings_mg: npt.NDArray[np.int64]
    run_id: str

    def columns(self) -> dict[str, Column]:
        size = len(self.trip_ids)
        return {
            "user_id": self.user_ids,
            "trip_id": self.trip_ids,
            "local_day": self.local_day,
            "mode": self.modes,
            "distance_km": self.distance_km,
            "started_us": self.started_us,
            "ended_us": self.ended_us,
            "district": self.districts,
            "savings_mg": self.savings_mg,
            "run_id": [self.run_id] * size,
        }


@frozen
class Credits(_Entries):
    """Credit entries, one per trip: ``awards`` (minor units) paid into ``account``.

    ``approvals``, if given, holds for each trip the note of the review that released it
    from quarantine (the entry then ``corrects`` the quarantine entry).
    """

    kind: ClassVar[str] = "credit"
    trips: TripFacts
    account: str
    awards: npt.NDArray[np.int64]
    approvals: Sequence[str] | None = None

    def columns(self) -> dict[str, Column]:
        trips = self.trips.columns()
        size = len(self.trips.trip_ids)
        columns: dict[str, Column] = {
            "entry_id": [credit_entry_id(trip) for trip in self.trips.trip_ids],
            "kind": [self.kind] * size,
            "account": [self.account] * size,
            "amount_minor": self.awards,
            "award_minor": self.awards,
            **trips,
        }
        if self.approvals is not None:
            columns["corrects"] = [quarantine_entry_id(trip) for trip in self.trips.trip_ids]
            columns["note"] = self.approvals
        return columns


@frozen
class Quarantines(_Entries):
    """Trips held for review, one entry each: their ``statuses`` and ``messages`` say why.

    Nothing is paid; the savings and run are kept so that an approval pays exactly what
    the trip would have earned.
    """

    kind: ClassVar[str] = "quarantine"
    trips: TripFacts
    account: str
    statuses: Sequence[str]
    messages: Sequence[str]

    def columns(self) -> dict[str, Column]:
        size = len(self.trips.trip_ids)
        return {
            "entry_id": [quarantine_entry_id(trip) for trip in self.trips.trip_ids],
            "kind": [self.kind] * size,
            "account": [self.account] * size,
            "amount_minor": [0] * size,
            "award_minor": [0] * size,
            "status": self.statuses,
            "note": self.messages,
            **self.trips.columns(),
        }


@frozen
class Refusal(_Entries):
    """A quarantined trip finally refused: ``note`` names the reviewer and the reason."""

    kind: ClassVar[str] = "refusal"
    trip_id: str
    user_id: str
    account: str
    note: str

    @property
    def entry_id(self) -> str:
        return f"refuse:{self.trip_id}"

    def columns(self) -> dict[str, Column]:
        return {
            "entry_id": [self.entry_id],
            "kind": [self.kind],
            "user_id": [self.user_id],
            "account": [self.account],
            "amount_minor": [0],
            "trip_id": [self.trip_id],
            "corrects": [quarantine_entry_id(self.trip_id)],
            "note": [self.note],
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
    """A trip's credits taken back: ``amount_minor`` (positive) leaves the user's position.

    Where the user has already spent them, the balance goes to zero and the rest,
    ``owed_minor``, is owed: later credits repay it first.
    """

    kind: ClassVar[str] = "reversal"
    trip_id: str
    user_id: str
    account: str
    amount_minor: int
    local_day: int
    reason: str
    owed_minor: int = 0

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


@frozen
class Settings(_Entries):
    """How the ledger pays ``account`` from this entry on: the run new trips are credited
    under (``run_id``), and why it changed (``note``)."""

    kind: ClassVar[str] = "settings"
    account: str
    run_id: str
    sequence: int
    note: str

    @property
    def entry_id(self) -> str:
        return f"settings:{self.account}:{self.sequence}"

    def columns(self) -> dict[str, Column]:
        return {
            "entry_id": [self.entry_id],
            "kind": [self.kind],
            "user_id": [LEDGER_WIDE],
            "account": [self.account],
            "amount_minor": [0],
            "run_id": [self.run_id],
            "note": [self.note],
        }


@define
class Adjustments(_Entries):
    """Adjustment entries of a recomputation, one per trip whose award changed; built up
    with :meth:`add` as the recomputation finds them.

    ``sequence`` numbers a trip's adjustments (1 for its first); ``amounts`` is what each
    entry moves (the change, or less where the user's balance cannot cover a decrease);
    ``awards`` the trip's award after it; ``run_ids`` the run that recomputed it.
    """

    kind: ClassVar[str] = "adjustment"
    account: str = ""
    trip_ids: list[str] = field(factory=list)
    sequence: list[int] = field(factory=list)
    user_ids: list[str] = field(factory=list)
    amounts: list[int] = field(factory=list)
    local_day: list[int] = field(factory=list)
    modes: list[str] = field(factory=list)
    distance_km: list[float] = field(factory=list)
    started_us: list[int] = field(factory=list)
    ended_us: list[int | None] = field(factory=list)
    districts: list[str | None] = field(factory=list)
    savings_mg: list[int] = field(factory=list)
    awards: list[int] = field(factory=list)
    run_ids: list[str] = field(factory=list)
    notes: list[str] = field(factory=list)

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
        ended_us: int | None,
        district: str | None,
        savings_mg: int,
        award: int,
        run_id: str,
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
        self.ended_us.append(ended_us)
        self.districts.append(district)
        self.savings_mg.append(savings_mg)
        self.awards.append(award)
        self.run_ids.append(run_id)
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
            "ended_us": self.ended_us,
            "district": self.districts,
            "savings_mg": self.savings_mg,
            "award_minor": self.awards,
            "run_id": self.run_ids,
            "note": self.notes,
        }


def credit_entry_id(trip_id: str) -> str:
    """The entry id of a trip's credit: the trip id is the idempotency key."""
    return f"credit:{trip_id}"


def quarantine_entry_id(trip_id: str) -> str:
    """The entry id of a trip held for review."""
    return f"quarantine:{trip_id}"


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
    if size == 0:
        return 0, 0
    last_seq, last_block, last_hash = cursor.execute(
        "SELECT last_seq, last_block, last_hash FROM ledger_head WHERE id = 1"
    )[0]
    first = int(last_seq) + 1
    block = int(last_block) + 1
    columns["seq"] = np.arange(first, first + size, dtype=np.int64)
    for name in CHAINED_FIELDS:
        columns.setdefault(name, [None] * size)
    rows = canonical_rows(columns, FORMAT)
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
        "INSERT INTO blocks (block, first_seq, last_seq, prev_hash, entries_hash, block_hash, "
        "recorded_at, format) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (block, first, first + size - 1, last_hash, content, chained, now, FORMAT),
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
