"""The credit ledger: exactly-once crediting, caps across batches, redemption, audit.

Credits and coins are money-like, so the ledger keeps four promises:

* **exactly once**: the trip id is the idempotency key. A trip credited again with the
  same content is a no-op that returns the original entry; with other content (user,
  mode, distance, time, factor set) it is a :class:`TripConflictError` naming the fields,
  and nothing of it is written;
* **caps hold** across batches, processes and machines: daily totals per user, local day
  and account are kept in the database and read inside the same serialized transaction
  that writes the credits, so the first trip of a day and concurrent writers are safe;
* **balances never go negative**: a redemption larger than the balance is refused with
  :class:`InsufficientBalanceError` (and the database checks it too); a redemption is
  idempotent by its request id;
* **append-only and auditable**: entries are never updated or deleted (the database
  refuses); corrections are compensating entries that point to what they correct; every
  entry records the trip, factor set and hash, baseline, policy and parameters, savings and
  award, and entries are hash-chained in blocks (:meth:`Ledger.verify`).

Credits are written in chunks, one transaction each, cut at user-day boundaries: a crash
loses at most the chunk in flight, and running the same batch again completes it with the
same totals as an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot._kernels.sorting import group_time_order
from carbonfoot.engine import AssessedBatch, Engine
from carbonfoot.errors import (
    InputError,
    InsufficientBalanceError,
    LedgerError,
    RequestConflictError,
    TripConflictError,
)
from carbonfoot.intake import to_arrow_table
from carbonfoot.ledger.chain import run_id
from carbonfoot.ledger.entries import (
    ENTRY_COLUMNS,
    Adjustments,
    Credits,
    Redemption,
    Reversal,
    append_block,
    credit_entry_id,
)
from carbonfoot.ledger.store import Store, open_store
from carbonfoot.ledger.verify import VerifyReport, verify_ledger
from carbonfoot.money import money_column, parse_amount, to_value
from carbonfoot.statuses import STATUSES
from carbonfoot.times import day_number

__all__ = ["CreditReport", "Entitlement", "Ledger", "Receipt", "RecomputeReport"]

#: What a trip's credit records of its content: sending the trip again with other values
#: of these is a conflict, not a replay.
CONTENT_FIELDS = ("user_id", "mode", "distance_km", "started_us", "factor_set_hash")
_QUERY_CHUNK = 5_000


@frozen
class CreditReport:
    """What one ``credit`` call did, trip by trip (``outcomes``) and in total."""

    outcomes: pa.Table
    credited: int
    replayed: int
    not_credited: int
    conflicts: tuple[tuple[str, tuple[str, ...]], ...]
    awarded: Decimal | int
    account: str


@frozen
class Receipt:
    """A redemption: what was spent, on what, and the balance left."""

    request_id: str
    entry_id: str
    user_id: str
    account: str
    amount: Decimal | int
    item: str
    balance_after: Decimal | int
    replayed: bool


@frozen
class RecomputeReport:
    """The delta entries of a recomputation, by mode (written, or only planned)."""

    dry_run: bool
    factor_set: str
    factor_set_hash: str
    trips: int
    adjusted: int
    by_mode: dict[str, tuple[int, Decimal | int]]
    shortfall: Decimal | int
    account: str


@frozen
class Entitlement:
    """A credited trip's standing: its current award (the latest of its credit,
    adjustments and reversal), whether it was reversed, and how many adjustments it has."""

    user_id: str
    local_day: int
    award: int
    reversed: bool
    adjustments: int


class Ledger:
    """A credit ledger on a :class:`Store`, awarding with an :class:`Engine`."""

    def __init__(self, store: Store, engine: Engine) -> None:
        self.store = store
        self.engine = engine
        self.account = engine.policy.unit
        self.decimals = engine.policy.decimals
        with store.read() as cursor:
            found = cursor.execute(
                "SELECT decimals FROM accounts WHERE account = ?", (self.account,)
            )
        if found and int(found[0][0]) != self.decimals:
            raise LedgerError(
                f"this ledger keeps {self.account}s with {found[0][0]} decimal places; the policy has {self.decimals}"
            )
        self._params = json.dumps(dict(engine.run_info.policy_params), sort_keys=True)

    @classmethod
    def open(cls, location: str | None = None, engine: Engine | None = None) -> Ledger:
        """Open (creating if needed) the ledger at ``location`` (path or PostgreSQL URL)."""
        return cls(open_store(location), engine if engine is not None else Engine())

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing entries ---------------------------------------------------------------

    def _run(self, cursor: Any, engine: Engine) -> str:
        """The id of ``engine``'s settings, recorded once in the runs table."""
        info = engine.run_info
        params = json.dumps(dict(info.policy_params), sort_keys=True)
        fields = (info.factor_set, info.factor_set_hash, info.baseline, info.policy, params)
        identifier = run_id(*fields)
        cursor.execute(
            "INSERT INTO runs (run_id, factor_set, factor_set_hash, baseline, policy, policy_params) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING",
            (identifier, *fields),
        )
        return identifier

    def _add_to_balances(
        self, cursor: Any, users: Sequence[str], amounts: Sequence[int], account: str, decimals: int
    ) -> None:
        totals = _sum_by(users, amounts)
        if totals:
            cursor.execute(
                "INSERT INTO accounts (account, decimals) VALUES (?, ?) ON CONFLICT (account) DO NOTHING",
                (account, decimals),
            )
            # Increases may create the row; decreases update it (an insert of a negative
            # amount would fail the table's non-negative check before any upsert applies).
            cursor.executemany(
                "INSERT INTO balances (user_id, account, balance_minor) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, account) DO UPDATE SET balance_minor = balances.balance_minor + excluded.balance_minor",
                [(user, account, amount) for user, amount in totals.items() if amount >= 0],
            )
            cursor.executemany(
                "UPDATE balances SET balance_minor = balance_minor + ? WHERE user_id = ? AND account = ?",
                [(amount, user, account) for user, amount in totals.items() if amount < 0],
            )

    def _add_to_days(
        self, cursor: Any, users: Sequence[str], days: Sequence[int], amounts: Sequence[int]
    ) -> None:
        totals = _sum_by(list(zip(users, days, strict=True)), amounts)
        if totals:
            cursor.executemany(
                "INSERT INTO day_totals (user_id, local_day, account, issued_minor) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (user_id, local_day, account) DO UPDATE SET "
                "issued_minor = day_totals.issued_minor + excluded.issued_minor",
                [(user, day, self.account, amount) for (user, day), amount in totals.items()],
            )

    def _day_totals(
        self, cursor: Any, users: Sequence[str], days: npt.NDArray[np.int64]
    ) -> dict[tuple[str, int], int]:
        found: dict[tuple[str, int], int] = {}
        distinct = sorted(set(users))
        low, high = int(days.min()), int(days.max())
        for part in _parts(distinct):
            condition, params = self.store.in_list("user_id", part)
            for user, day, issued in cursor.execute(
                f"SELECT user_id, local_day, issued_minor FROM day_totals WHERE account = ? AND "
                f"local_day BETWEEN ? AND ? AND {condition}",
                [self.account, low, high, *params],
            ):
                found[(user, int(day))] = int(issued)
        return found

    # -- crediting -----------------------------------------------------------------------

    def credit(
        self,
        trips: Any,
        *,
        distance_unit: str = "km",
        chunk_rows: int = 50_000,
        on_conflict: str = "raise",
    ) -> CreditReport:
        """Credit a batch of trips; safe to repeat, and safe to run from several processes.

        ``on_conflict`` is ``"raise"`` (the chunk holding a conflicting trip is not written
        and :class:`TripConflictError` says why) or ``"skip"`` (conflicting trips are left
        out and listed in the report; the rest is credited).
        """
        if on_conflict not in ("raise", "skip"):
            raise InputError("on_conflict is 'raise' or 'skip'")
        engine = self.engine
        table = to_arrow_table(trips)
        assessed = engine.assess(table, distance_unit=distance_unit)
        prepared = assessed.prepared
        facts = _TripFacts(engine, assessed)
        outcome = np.full(prepared.codes.size, "not_credited", dtype=object)
        amounts = np.zeros(prepared.codes.size, dtype=np.int64)
        entry_ids = np.full(prepared.codes.size, None, dtype=object)
        conflicts: list[tuple[str, tuple[str, ...]]] = []
        for chunk in facts.chunks(chunk_rows):
            with self.store.write() as cursor:
                found = self._existing_credits(cursor, facts.trip_ids[chunk].tolist())
                known = (
                    np.asarray(
                        pc.is_in(
                            facts.trip_id_array.take(pa.array(chunk)),
                            value_set=pa.array(list(found), type=pa.string()),
                        )
                        .fill_null(False)
                        .to_numpy(zero_copy_only=False),
                        dtype=bool,
                    )
                    if found
                    else np.zeros(chunk.size, dtype=bool)
                )
                fresh = chunk[~known]
                chunk_conflicts = []
                for row in chunk[known].tolist():  # only trips sent before: replays and conflicts
                    previous = found[facts.trip_ids[row]]
                    differing = facts.differences(row, previous)
                    if differing:
                        chunk_conflicts.append((facts.trip_ids[row], differing))
                        outcome[row] = "conflict"
                    else:
                        outcome[row], amounts[row], entry_ids[row] = (
                            "replayed",
                            previous["amount_minor"],
                            previous["entry_id"],
                        )
                if chunk_conflicts and on_conflict == "raise":
                    raise TripConflictError(_conflict_message(chunk_conflicts), chunk_conflicts)
                conflicts.extend(chunk_conflicts)
                if fresh.size:
                    rows = fresh
                    self._credit_rows(cursor, facts, rows)
                    outcome[rows] = "credited"
                    amounts[rows] = facts.awards[rows]
                    entry_ids[rows] = [
                        credit_entry_id(trip) for trip in facts.trip_ids[rows].tolist()
                    ]
        statuses = prepared.columns.status
        credited = int(np.count_nonzero(outcome == "credited"))
        outcomes = pa.table(
            {
                "trip_id": prepared.columns.trip_id,
                "user_id": prepared.columns.user_id,
                "outcome": pa.array(outcome.tolist(), type=pa.string()),
                "entry_id": pa.array(entry_ids.tolist(), type=pa.string()),
                "amount": money_column(
                    amounts, self.decimals, (outcome == "credited") | (outcome == "replayed")
                ),
                "status": pa.array(
                    np.asarray(_statuses(statuses), dtype=object).tolist(), type=pa.string()
                ),
            }
        )
        return CreditReport(
            outcomes=outcomes,
            credited=credited,
            replayed=int(np.count_nonzero(outcome == "replayed")),
            not_credited=int(np.count_nonzero(outcome == "not_credited")),
            conflicts=tuple(conflicts),
            awarded=to_value(int(amounts[outcome == "credited"].sum()), self.decimals),
            account=self.account,
        )

    def _existing_credits(self, cursor: Any, trip_ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for part in _parts(trip_ids):
            condition, params = self.store.in_list("trip_id", part)
            for record in cursor.execute(
                f"SELECT e.trip_id, e.entry_id, e.user_id, e.mode, e.distance_km, e.started_us, r.factor_set_hash, "
                f"e.amount_minor FROM entries e JOIN runs r ON r.run_id = e.run_id "
                f"WHERE e.kind = 'credit' AND {condition.replace('trip_id', 'e.trip_id')}",
                params,
            ):
                found[record[0]] = dict(
                    zip(
                        (
                            "trip_id",
                            "entry_id",
                            "user_id",
                            "mode",
                            "distance_km",
                            "started_us",
                            "factor_set_hash",
                            "amount_minor",
                        ),
                        record,
                        strict=True,
                    )
                )
        return found

    def _credit_rows(self, cursor: Any, facts: _TripFacts, rows: npt.NDArray[np.intp]) -> None:
        users = facts.user_ids[rows].tolist()
        days = facts.local_day[rows]
        prior = self._day_totals(cursor, users, days)
        already = np.array(
            [
                prior.get((user, int(day)), 0)
                for user, day in zip(users, days.tolist(), strict=True)
            ],
            dtype=np.int64,
        )
        awards = self.engine.awards(facts.assessed, rows, already)
        facts.awards[rows] = awards
        credits = Credits(
            trip_ids=facts.trip_ids[rows].tolist(),
            user_ids=users,
            account=self.account,
            awards=awards,
            local_day=days,
            modes=facts.modes[rows].tolist(),
            distance_km=facts.distance_km[rows],
            started_us=facts.started_us[rows],
            savings_mg=facts.assessed.savings_mg[rows],
            run_id=self._run(cursor, self.engine),
        )
        append_block(cursor, credits)
        self._add_to_balances(cursor, users, awards.tolist(), self.account, self.decimals)
        self._add_to_days(cursor, users, days.tolist(), awards.tolist())

    # -- redemption --------------------------------------------------------------------

    def redeem(self, user: str, amount: Any, request_id: str, item: str) -> Receipt:
        """Spend ``amount`` of the user's balance in the green shop; idempotent by request id."""
        user, request_id, item = str(user).strip(), str(request_id).strip(), str(item).strip()
        if not user or not request_id or not item:
            raise InputError("redeem needs a user, a request id and an item")
        minor = parse_amount(amount, self.decimals, self.account)
        with self.store.write() as cursor:
            existing = cursor.execute(
                "SELECT entry_id, user_id, account, amount_minor, item FROM entries "
                "WHERE kind = 'redemption' AND request_id = ?",
                (request_id,),
            )
            if existing:
                entry_id, old_user, account, old_amount, old_item = existing[0]
                decimals = self.decimals
                if (old_user, account, -int(old_amount), old_item) != (
                    user,
                    self.account,
                    minor,
                    item,
                ):
                    raise RequestConflictError(
                        f"request id {request_id!r} was already used for {old_user} spending "
                        f"{to_value(-int(old_amount), decimals)} {account}s on {old_item!r}"
                    )
                return Receipt(
                    request_id,
                    entry_id,
                    user,
                    account,
                    to_value(minor, self.decimals),
                    item,
                    to_value(self._balance_minor(cursor, user), self.decimals),
                    True,
                )
            balance = self._balance_minor(cursor, user)
            if balance < minor:
                raise InsufficientBalanceError(
                    f"insufficient balance: {user} has {to_value(balance, self.decimals)} {self.account}s; cannot spend {to_value(minor, self.decimals)}"
                )
            redemption = Redemption(request_id, user, self.account, minor, item)
            append_block(cursor, redemption)
            cursor.execute(
                "UPDATE balances SET balance_minor = balance_minor - ? WHERE user_id = ? AND account = ?",
                (minor, user, self.account),
            )
        return Receipt(
            request_id,
            redemption.entry_id,
            user,
            self.account,
            to_value(minor, self.decimals),
            item,
            to_value(balance - minor, self.decimals),
            False,
        )

    def _balance_minor(self, cursor: Any, user: str) -> int:
        found = cursor.execute(
            "SELECT balance_minor FROM balances WHERE user_id = ? AND account = ?",
            (user, self.account),
        )
        return int(found[0][0]) if found else 0

    # -- corrections -------------------------------------------------------------------

    def reverse(self, trip_id: str, reason: str) -> Reversal:
        """Take back a trip's credits (e.g. found fraudulent) with a compensating entry.

        Refused with :class:`InsufficientBalanceError` if the user has already spent them.
        """
        with self.store.write() as cursor:
            state = self._entitlements(cursor, [trip_id])
            if trip_id not in state:
                raise LedgerError(f"trip {trip_id!r} has no credit in this ledger")
            record = state[trip_id]
            if record.award == 0 and record.reversed:
                raise LedgerError(f"trip {trip_id!r} is already reversed")
            amount = record.award
            balance = self._balance_minor(cursor, record.user_id)
            if balance < amount:
                raise InsufficientBalanceError(
                    f"{record.user_id} has {to_value(balance, self.decimals)} {self.account}s; reversing {trip_id} needs {to_value(amount, self.decimals)}"
                )
            reversal = Reversal(
                trip_id, record.user_id, self.account, amount, record.local_day, reason
            )
            append_block(cursor, reversal)
            cursor.execute(
                "UPDATE balances SET balance_minor = balance_minor - ? WHERE user_id = ? AND account = ?",
                (amount, record.user_id, self.account),
            )
            self._add_to_days(cursor, [record.user_id], [record.local_day], [-amount])
        return reversal

    def _entitlements(self, cursor: Any, trip_ids: Sequence[str]) -> dict[str, Entitlement]:
        """Each trip's current award: the latest of its credit, adjustments and reversal."""
        state: dict[str, Entitlement] = {}
        for part in _parts(list(trip_ids)):
            condition, params = self.store.in_list("trip_id", part)
            for trip, user, day, kind, award, _seq in cursor.execute(
                f"SELECT trip_id, user_id, local_day, kind, award_minor, seq FROM entries "
                f"WHERE kind IN ('credit', 'adjustment', 'reversal') AND {condition} ORDER BY seq",
                params,
            ):
                earlier = state.get(trip)
                state[trip] = Entitlement(
                    user_id=user if earlier is None else earlier.user_id,
                    local_day=int(day) if earlier is None else earlier.local_day,
                    award=int(award),
                    reversed=kind == "reversal" or (earlier is not None and earlier.reversed),
                    adjustments=(0 if earlier is None else earlier.adjustments)
                    + (kind == "adjustment"),
                )
        return state

    # -- recomputation -------------------------------------------------------------------

    def recompute(
        self, engine: Engine, since: dt.date, *, dry_run: bool = False
    ) -> RecomputeReport:
        """Re-award every credited trip from ``since`` (local days) with ``engine``'s factors.

        Writes only delta entries (``adjustment``), so a second run writes none. Caps are
        applied again over each whole user-day. A negative delta larger than the user's
        balance takes what is there; the rest is reported as a shortfall.
        """
        if engine.policy.unit != self.account or engine.policy.decimals != self.decimals:
            raise LedgerError("recompute with the ledger's own policy unit and decimals")
        with self.store.write() as cursor:
            trips = self._credited_trips(cursor, day_number(since))
            if trips.num_rows == 0:
                return RecomputeReport(
                    dry_run,
                    engine.factor_set.name,
                    engine.factor_set.content_hash,
                    0,
                    0,
                    {},
                    to_value(0, self.decimals),
                    self.account,
                )
            trip_ids = trips.column("trip_id").to_pylist()
            state = self._entitlements(cursor, trip_ids)
            assessed = engine.assess(trips)
            # A reversed trip earns nothing and takes no room under the cap.
            standing = np.array([not state[trip].reversed for trip in trip_ids], dtype=bool)
            rows = np.flatnonzero(assessed.prepared.ok & standing)
            new_awards = np.zeros(trips.num_rows, dtype=np.int64)
            new_awards[rows] = engine.awards(assessed, rows)
            plan = _RecomputePlan(
                Adjustments(
                    account=self.account, run_id=self._run(cursor, engine) if not dry_run else ""
                )
            )
            balances: dict[str, int] = {}
            deltas = [
                (index, int(new_awards[index]) - state[trip].award)
                for index, trip in enumerate(trip_ids)
                if not state[trip].reversed
            ]
            # Increases first, then decreases (each in entry order): a user's balance is
            # short only if the net change is, whatever the order of the trips.
            ordered = [(i, d) for i, d in deltas if d > 0] + [(i, d) for i, d in deltas if d < 0]
            columns = {name: trips.column(name).to_pylist() for name in ("user_id", "mode")}
            distance_km = trips.column("distance").to_numpy()
            started_us = trips.column("started_at").cast(pa.int64()).to_numpy()
            for index, delta in ordered:
                trip, user = trip_ids[index], columns["user_id"][index]
                if user not in balances:
                    balances[user] = self._balance_minor(cursor, user)
                applied = max(delta, -balances[user])  # a decrease takes at most what is left
                balances[user] += applied
                record = state[trip]
                shortfall = (
                    f"; shortfall {to_value(applied - delta, self.decimals)}"
                    if applied != delta
                    else ""
                )
                plan.add(
                    trip_id=trip,
                    sequence=record.adjustments + 1,
                    user_id=user,
                    amount=applied,
                    delta=delta,
                    local_day=record.local_day,
                    mode=columns["mode"][index],
                    distance_km=float(distance_km[index]),
                    started_us=int(started_us[index]),
                    savings_mg=int(assessed.savings_mg[index]),
                    award=int(new_awards[index]),
                    note=f"recomputed with {engine.factor_set.id}{shortfall}",
                )
            adjustments = plan.adjustments
            if len(adjustments) and not dry_run:
                append_block(cursor, adjustments)
                self._add_to_balances(
                    cursor, adjustments.user_ids, adjustments.amounts, self.account, self.decimals
                )
                self._add_to_days(cursor, adjustments.user_ids, adjustments.local_day, plan.deltas)
        return RecomputeReport(
            dry_run=dry_run,
            factor_set=engine.factor_set.name,
            factor_set_hash=engine.factor_set.content_hash,
            trips=trips.num_rows,
            adjusted=len(adjustments),
            by_mode={
                mode: (count, to_value(total, self.decimals))
                for mode, (count, total) in sorted(plan.by_mode.items())
            },
            shortfall=to_value(plan.shortfall, self.decimals),
            account=self.account,
        )

    def _credited_trips(self, cursor: Any, since_day: int) -> pa.Table:
        """The credited trips from local day ``since_day`` on, as trip input, in entry order."""
        records = cursor.execute(
            "SELECT trip_id, user_id, mode, distance_km, started_us FROM entries "
            "WHERE kind = 'credit' AND local_day >= ? ORDER BY seq",
            (since_day,),
        )
        return pa.table(
            {
                "trip_id": pa.array([r[0] for r in records], type=pa.string()),
                "user_id": pa.array([r[1] for r in records], type=pa.string()),
                "mode": pa.array([r[2] for r in records], type=pa.string()),
                "distance": pa.array([r[3] for r in records], type=pa.float64()),
                "started_at": pa.array([r[4] for r in records], type=pa.timestamp("us", tz="UTC")),
            }
        )

    # -- reading -------------------------------------------------------------------------

    def balance(self, user: str) -> dict[str, Decimal | int]:
        """The user's balance in each account (credits, coins) they have."""
        with self.store.read() as cursor:
            found = cursor.execute(
                "SELECT b.account, b.balance_minor, a.decimals FROM balances b JOIN accounts a ON a.account = b.account "
                "WHERE b.user_id = ? ORDER BY b.account",
                (str(user).strip(),),
            )
        return {account: to_value(int(minor), int(decimals)) for account, minor, decimals in found}

    def history(self, user: str) -> list[dict[str, Any]]:
        """The user's entries, oldest first."""
        with self.store.read() as cursor:
            found = cursor.execute(
                f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE user_id = ? ORDER BY seq",
                (str(user).strip(),),
            )
        return [self._readable(dict(zip(ENTRY_COLUMNS, record, strict=True))) for record in found]

    def _readable(self, record: dict[str, Any]) -> dict[str, Any]:
        record["amount"] = to_value(int(record["amount_minor"]), self.decimals)
        return record

    def export(self) -> pa.Table:
        """Every entry in chain order, with its run's settings (and without the recording
        time, so the same trips, factors and policy export the same on every backend)."""
        own = list(ENTRY_COLUMNS)
        settings = ["factor_set", "factor_set_hash", "baseline", "policy", "policy_params"]
        columns = own + settings
        with self.store.read() as cursor:
            found = cursor.execute(
                f"SELECT {','.join('e.' + name for name in own)}, {','.join('r.' + name for name in settings)} "
                "FROM entries e LEFT JOIN runs r ON r.run_id = e.run_id ORDER BY e.seq"
            )
        table = {name: [record[i] for record in found] for i, name in enumerate(columns)}
        types = {
            "distance_km": pa.float64(),
            "seq": pa.int64(),
            "amount_minor": pa.int64(),
            "local_day": pa.int32(),
            "started_us": pa.int64(),
            "savings_mg": pa.int64(),
            "award_minor": pa.int64(),
        }
        return pa.table(
            {
                name: pa.array(values, type=types.get(name, pa.string()))
                for name, values in table.items()
            }
        )

    def verify(self, *, page_blocks: int = 200) -> VerifyReport:
        """Check the chain block by block, entry counts, and balances against the entries
        (:mod:`carbonfoot.ledger.verify`)."""
        return verify_ledger(self.store, page_blocks=page_blocks)


class _RecomputePlan:
    """The adjustments a recomputation writes, and what it reports by mode."""

    def __init__(self, adjustments: Adjustments) -> None:
        self.adjustments = adjustments
        self.deltas: list[int] = []  # the full change of each trip's award (the day totals')
        self.by_mode: dict[str, list[int]] = {}
        self.shortfall = 0

    def add(self, *, delta: int, **adjustment: Any) -> None:
        self.adjustments.add(**adjustment)
        self.deltas.append(delta)
        self.shortfall += adjustment["amount"] - delta
        counted = self.by_mode.setdefault(adjustment["mode"], [0, 0])
        counted[0] += 1
        counted[1] += delta


class _TripFacts:
    """The per-trip arrays the ledger writes, for the computed rows of a batch."""

    def __init__(self, engine: Engine, assessed: AssessedBatch) -> None:
        prepared = assessed.prepared
        columns = prepared.columns
        self.engine = engine
        self.assessed = assessed
        self.prepared = prepared
        self.trip_id_array = columns.trip_id
        self.trip_ids = np.asarray(columns.trip_id.to_pylist(), dtype=object)
        self.user_ids = np.asarray(columns.user_id.to_pylist(), dtype=object)
        self.modes = np.asarray([*engine.modes.ids, ""], dtype=object)[prepared.codes]
        self.distance_km = prepared.distance_km
        self.started_us = columns.started_us
        self.local_day = prepared.local_day
        self.awards = np.zeros(prepared.codes.size, dtype=np.int64)
        self.factor_set_hash = engine.factor_set.content_hash

    def chunks(self, chunk_rows: int) -> Iterator[npt.NDArray[np.intp]]:
        """The computed rows, ordered by user, day and time, cut between user-days."""
        rows = np.flatnonzero(self.prepared.ok)
        if rows.size == 0:
            return
        days = self.local_day[rows]
        first_day = int(days.min())
        user_day = self.prepared.users()[rows] * (int(days.max()) - first_day + 1) + (
            days - first_day
        )
        order = group_time_order(user_day, self.started_us[rows])
        rows, user_day = rows[order], user_day[order]
        boundaries = np.flatnonzero(np.r_[True, user_day[1:] != user_day[:-1], True])
        start = 0
        while start < rows.size:
            target = start + max(1, chunk_rows)
            cut = (
                boundaries[np.searchsorted(boundaries, target)] if target < rows.size else rows.size
            )
            yield rows[start:cut]
            start = cut

    def differences(self, row: int, previous: dict[str, Any]) -> tuple[str, ...]:
        mine = {
            "user_id": self.user_ids[row],
            "mode": self.modes[row],
            "distance_km": float(self.distance_km[row]),
            "started_us": int(self.started_us[row]),
            "factor_set_hash": self.factor_set_hash,
        }
        return tuple(
            name
            for name in CONTENT_FIELDS
            if (float(previous[name]) if name == "distance_km" else previous[name]) != mine[name]
        )


def _statuses(status: npt.NDArray[np.int8]) -> list[str]:
    return [STATUSES[int(code)] for code in status.tolist()]


def _sum_by(keys: Sequence[Any], amounts: Sequence[int]) -> dict[Any, int]:
    """Integer sums of ``amounts`` per key (a key may be a tuple), via an Arrow group-by."""
    if not len(keys):
        return {}
    tuples = isinstance(keys[0], tuple)
    columns = (
        {f"k{i}": [key[i] for key in keys] for i in range(len(keys[0]))}
        if tuples
        else {"k0": list(keys)}
    )
    table = pa.table({**columns, "amount": pa.array(amounts, type=pa.int64())})
    grouped = table.group_by(list(columns)).aggregate([("amount", "sum")])
    key_columns = [grouped.column(name).to_pylist() for name in columns]
    sums = grouped.column("amount_sum").to_pylist()
    found = zip(*key_columns, strict=True) if tuples else key_columns[0]
    return {key: int(total) for key, total in zip(found, sums, strict=True)}


def _parts(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), _QUERY_CHUNK):
        yield values[start : start + _QUERY_CHUNK]


def _conflict_message(conflicts: list[tuple[str, tuple[str, ...]]]) -> str:
    shown = "; ".join(
        f"trip {trip!r} differs in {', '.join(fields)}" for trip, fields in conflicts[:5]
    )
    more = f" (and {len(conflicts) - 5} more)" if len(conflicts) > 5 else ""
    return f"{len(conflicts)} trip(s) already credited with other content: {shown}{more}; nothing of their chunk was written"
