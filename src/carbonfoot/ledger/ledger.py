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
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
from attrs import frozen

from carbonfoot.engine import Engine, PreparedBatch
from carbonfoot.errors import (
    InputError,
    InsufficientBalanceError,
    LedgerError,
    RequestConflictError,
    TripConflictError,
)
from carbonfoot.intake import to_arrow_table
from carbonfoot.ledger.chain import (
    CHAINED_FIELDS,
    block_hash,
    canonical_rows,
    digests,
    entries_hash,
    run_id,
)
from carbonfoot.ledger.store import GENESIS, Store, open_store
from carbonfoot.money import money_column, parse_amount, to_value, whole_milligrams
from carbonfoot.statuses import STATUSES
from carbonfoot.times import day_number

__all__ = ["CreditReport", "Ledger", "Receipt", "RecomputeReport", "VerifyReport"]

ENTRY_COLUMNS = (*CHAINED_FIELDS, "digest")
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
class VerifyReport:
    """The result of checking the hash chain, entry counts and balances."""

    ok: bool
    entries: int
    blocks: int
    problem: str = ""
    first_bad_entry: str = ""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


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

    def _append(self, cursor: Any, columns: dict[str, Any]) -> tuple[int, int]:
        """Add entries as one block of the hash chain; returns (first seq, block)."""
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
        now = _now()
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
        prepared = engine.prepare(table, distance_unit=distance_unit)
        _, _, savings_g = engine.savings(prepared)
        savings_mg = whole_milligrams(np.where(prepared.ok, savings_g, 0.0))
        facts = _TripFacts(engine, prepared, savings_mg)
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
                    entry_ids[rows] = [f"credit:{trip}" for trip in facts.trip_ids[rows].tolist()]
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
        awards = self.engine.award(facts.prepared, facts.savings_mg, rows, already)
        facts.awards[rows] = awards
        run = self._run(cursor, self.engine)
        size = rows.size
        self._append(
            cursor,
            {
                "entry_id": [f"credit:{trip}" for trip in facts.trip_ids[rows].tolist()],
                "kind": ["credit"] * size,
                "user_id": users,
                "account": [self.account] * size,
                "amount_minor": awards,
                "trip_id": facts.trip_ids[rows].tolist(),
                "local_day": days,
                "mode": facts.modes[rows].tolist(),
                "distance_km": facts.distance_km[rows],
                "started_us": facts.started_us[rows],
                "savings_mg": facts.savings_mg[rows],
                "award_minor": awards,
                "run_id": [run] * size,
            },
        )
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
            entry_id = f"redeem:{request_id}"
            self._append(
                cursor,
                {
                    "entry_id": [entry_id],
                    "kind": ["redemption"],
                    "user_id": [user],
                    "account": [self.account],
                    "amount_minor": [-minor],
                    "request_id": [request_id],
                    "item": [item],
                },
            )
            cursor.execute(
                "UPDATE balances SET balance_minor = balance_minor - ? WHERE user_id = ? AND account = ?",
                (minor, user, self.account),
            )
        return Receipt(
            request_id,
            entry_id,
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

    def reverse(self, trip_id: str, reason: str) -> dict[str, Any]:
        """Take back a trip's credits (e.g. found fraudulent) with a compensating entry.

        Refused with :class:`InsufficientBalanceError` if the user has already spent them.
        """
        with self.store.write() as cursor:
            state = self._entitlements(cursor, [trip_id])
            if trip_id not in state:
                raise LedgerError(f"trip {trip_id!r} has no credit in this ledger")
            record = state[trip_id]
            if record["award"] == 0 and record["reversed"]:
                raise LedgerError(f"trip {trip_id!r} is already reversed")
            amount = record["award"]
            balance = self._balance_minor(cursor, record["user_id"])
            if balance < amount:
                raise InsufficientBalanceError(
                    f"{record['user_id']} has {to_value(balance, self.decimals)} {self.account}s; reversing {trip_id} needs {to_value(amount, self.decimals)}"
                )
            entry_id = f"reverse:{trip_id}"
            self._append(
                cursor,
                {
                    "entry_id": [entry_id],
                    "kind": ["reversal"],
                    "user_id": [record["user_id"]],
                    "account": [self.account],
                    "amount_minor": [-amount],
                    "trip_id": [trip_id],
                    "corrects": [f"credit:{trip_id}"],
                    "local_day": [record["local_day"]],
                    "award_minor": [0],
                    "note": [reason],
                },
            )
            cursor.execute(
                "UPDATE balances SET balance_minor = balance_minor - ? WHERE user_id = ? AND account = ?",
                (amount, record["user_id"], self.account),
            )
            self._add_to_days(cursor, [record["user_id"]], [record["local_day"]], [-amount])
        return {
            "entry_id": entry_id,
            "trip_id": trip_id,
            "amount": to_value(-amount, self.decimals),
        }

    def _entitlements(self, cursor: Any, trip_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each trip's current award: the latest of its credit, adjustments and reversal."""
        state: dict[str, dict[str, Any]] = {}
        for part in _parts(list(trip_ids)):
            condition, params = self.store.in_list("trip_id", part)
            for trip, user, day, kind, award, _seq in cursor.execute(
                f"SELECT trip_id, user_id, local_day, kind, award_minor, seq FROM entries "
                f"WHERE kind IN ('credit', 'adjustment', 'reversal') AND {condition} ORDER BY seq",
                params,
            ):
                record = state.setdefault(
                    trip,
                    {"user_id": user, "local_day": int(day), "reversed": False, "adjustments": 0},
                )
                record["award"] = int(award)
                record["reversed"] = record["reversed"] or kind == "reversal"
                record["adjustments"] += kind == "adjustment"
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
        since_day = day_number(since)
        by_mode: dict[str, list[int]] = {}
        shortfall_total = 0
        adjusted = 0
        with self.store.write() as cursor:
            records = cursor.execute(
                "SELECT trip_id, user_id, mode, distance_km, started_us FROM entries "
                "WHERE kind = 'credit' AND local_day >= ? ORDER BY seq",
                (since_day,),
            )
            if not records:
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
            trips = pa.table(
                {
                    "trip_id": [r[0] for r in records],
                    "user_id": [r[1] for r in records],
                    "mode": [r[2] for r in records],
                    "distance": pa.array([r[3] for r in records], type=pa.float64()),
                    "started_at": pa.array(
                        [r[4] for r in records], type=pa.timestamp("us", tz="UTC")
                    ),
                }
            )
            state = self._entitlements(cursor, trips.column("trip_id").to_pylist())
            prepared = engine.prepare(trips)
            _, _, savings_g = engine.savings(prepared)
            savings_mg = whole_milligrams(np.where(prepared.ok, savings_g, 0.0))
            # A reversed trip earns nothing and takes no room under the cap.
            standing = np.array([not state[r[0]]["reversed"] for r in records], dtype=bool)
            rows = np.flatnonzero(prepared.ok & standing)
            new_awards = np.zeros(len(records), dtype=np.int64)
            new_awards[rows] = engine.award(prepared, savings_mg, rows)
            balances: dict[str, int] = {}
            changes: dict[str, list[Any]] = {
                name: []
                for name in (
                    "entry_id",
                    "kind",
                    "user_id",
                    "account",
                    "amount_minor",
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
                )
            }
            day_delta: list[tuple[str, int, int]] = []
            run = self._run(cursor, engine) if not dry_run else ""
            deltas = [
                (index, int(new_awards[index]) - state[record[0]]["award"])
                for index, record in enumerate(records)
                if not state[record[0]]["reversed"]
            ]
            # Increases first, then decreases (each in entry order): a user's balance is
            # short only if the net change is, whatever the order of the trips.
            ordered = [(i, d) for i, d in deltas if d > 0] + [(i, d) for i, d in deltas if d < 0]
            for index, delta in ordered:
                trip, user, mode, distance, started = records[index]
                record = state[trip]
                new = int(new_awards[index])
                if user not in balances:
                    balances[user] = self._balance_minor(cursor, user)
                applied = delta
                if delta < 0 and balances[user] + delta < 0:
                    applied = -balances[user]
                    shortfall_total += applied - delta
                balances[user] += applied
                adjusted += 1
                mode_total = by_mode.setdefault(mode, [0, 0])
                mode_total[0] += 1
                mode_total[1] += delta
                changes["entry_id"].append(f"adjust:{trip}:{record['adjustments'] + 1}")
                for name, value in (
                    ("kind", "adjustment"),
                    ("user_id", user),
                    ("account", self.account),
                    ("amount_minor", applied),
                    ("trip_id", trip),
                    ("corrects", f"credit:{trip}"),
                    ("local_day", record["local_day"]),
                    ("mode", mode),
                    ("distance_km", distance),
                    ("started_us", started),
                    ("savings_mg", int(savings_mg[index])),
                    ("award_minor", new),
                    ("run_id", run),
                    (
                        "note",
                        f"recomputed with {engine.factor_set.id}"
                        + (
                            f"; shortfall {to_value(applied - delta, self.decimals)}"
                            if applied != delta
                            else ""
                        ),
                    ),
                ):
                    changes[name].append(value)
                day_delta.append((user, record["local_day"], delta))
            if changes["entry_id"] and not dry_run:
                self._append(cursor, changes)
                self._add_to_balances(
                    cursor, changes["user_id"], changes["amount_minor"], self.account, self.decimals
                )
                self._add_to_days(
                    cursor,
                    [u for u, _, _ in day_delta],
                    [d for _, d, _ in day_delta],
                    [v for _, _, v in day_delta],
                )
        return RecomputeReport(
            dry_run=dry_run,
            factor_set=engine.factor_set.name,
            factor_set_hash=engine.factor_set.content_hash,
            trips=len(records),
            adjusted=adjusted,
            by_mode={
                mode: (count, to_value(total, self.decimals))
                for mode, (count, total) in sorted(by_mode.items())
            },
            shortfall=to_value(shortfall_total, self.decimals),
            account=self.account,
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
        """Check the chain block by block, entry counts, and balances against the entries."""
        entries = blocks = 0
        previous = GENESIS
        with self.store.read() as cursor:
            head_seq, head_block, head_hash = cursor.execute(
                "SELECT last_seq, last_block, last_hash FROM ledger_head WHERE id = 1"
            )[0]
            next_seq = 1
            start = 1
            while start <= int(head_block):
                page = cursor.execute(
                    "SELECT block, first_seq, last_seq, prev_hash, entries_hash, block_hash FROM blocks "
                    "WHERE block BETWEEN ? AND ? ORDER BY block",
                    (start, start + page_blocks - 1),
                )
                if not page:
                    return VerifyReport(False, entries, blocks, f"block {start} is missing")
                rows = cursor.execute(
                    f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq",
                    (int(page[0][1]), int(page[-1][2])),
                )
                by_seq = {int(record[0]): record for record in rows}
                for block, first, last, prev_hash, content_hash, chained in page:
                    blocks += 1
                    if int(first) != next_seq:
                        return VerifyReport(
                            False,
                            entries,
                            blocks,
                            f"block {block} starts at entry {first}, expected {next_seq}",
                            f"seq {next_seq}",
                        )
                    records = [by_seq.get(seq) for seq in range(int(first), int(last) + 1)]
                    missing = [
                        seq
                        for seq, record in zip(
                            range(int(first), int(last) + 1), records, strict=True
                        )
                        if record is None
                    ]
                    if missing:
                        return VerifyReport(
                            False,
                            entries,
                            blocks,
                            f"entry {missing[0]} of block {block} is missing",
                            f"seq {missing[0]}",
                        )
                    found_rows: list[tuple[Any, ...]] = [r for r in records if r is not None]
                    columns = {
                        name: [record[i] for record in found_rows]
                        for i, name in enumerate(ENTRY_COLUMNS)
                    }
                    canonical = canonical_rows(columns)
                    for digest, stored, record in zip(
                        digests(canonical), columns["digest"], found_rows, strict=True
                    ):
                        if digest != stored:
                            return VerifyReport(
                                False,
                                entries,
                                blocks,
                                f"entry {record[1]} (seq {record[0]}) was changed",
                                str(record[1]),
                            )
                    if entries_hash(canonical) != content_hash or prev_hash != previous:
                        return VerifyReport(
                            False,
                            entries,
                            blocks,
                            f"block {block} does not match its hash",
                            str(found_rows[0][1]),
                        )
                    recomputed = block_hash(
                        previous, int(block), int(first), int(last), content_hash
                    )
                    if recomputed != chained:
                        return VerifyReport(
                            False,
                            entries,
                            blocks,
                            f"block {block} hash is wrong",
                            str(found_rows[0][1]),
                        )
                    previous = chained
                    entries += len(found_rows)
                    next_seq = int(last) + 1
                start += len(page)
            if previous != head_hash or next_seq - 1 != int(head_seq):
                return VerifyReport(
                    False, entries, blocks, "the chain's head does not match its last block"
                )
            for identifier, *fields in cursor.execute(
                "SELECT run_id, factor_set, factor_set_hash, baseline, policy, policy_params FROM runs"
            ):
                if run_id(*fields) != identifier:
                    return VerifyReport(
                        False, entries, blocks, f"the settings of run {identifier} were changed"
                    )
            orphans = cursor.execute(
                "SELECT e.entry_id FROM entries e LEFT JOIN runs r ON r.run_id = e.run_id "
                "WHERE e.run_id IS NOT NULL AND r.run_id IS NULL"
            )
            if orphans:
                return VerifyReport(
                    False,
                    entries,
                    blocks,
                    f"entry {orphans[0][0]} points to a missing run",
                    str(orphans[0][0]),
                )
            total = int(cursor.execute("SELECT COUNT(*) FROM entries")[0][0])
            if total != entries:
                return VerifyReport(
                    False, entries, blocks, f"{total - entries} entries are outside the chain"
                )
            mismatched = cursor.execute(
                "SELECT b.user_id, b.account FROM balances b LEFT JOIN ("
                "SELECT user_id, account, SUM(amount_minor) AS total FROM entries GROUP BY user_id, account) e "
                "ON b.user_id = e.user_id AND b.account = e.account "
                "WHERE COALESCE(e.total, 0) <> b.balance_minor"
            )
            if mismatched:
                user, account = mismatched[0]
                return VerifyReport(
                    False,
                    entries,
                    blocks,
                    f"the {account} balance of {user} differs from its entries",
                )
        return VerifyReport(True, entries, blocks)


class _TripFacts:
    """The per-trip arrays the ledger writes, for the computed rows of a batch."""

    def __init__(
        self, engine: Engine, prepared: PreparedBatch, savings_mg: npt.NDArray[np.int64]
    ) -> None:
        columns = prepared.columns
        self.engine = engine
        self.prepared = prepared
        self.savings_mg = savings_mg
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
        users = self.prepared.users()[rows]
        days = self.local_day[rows]
        order = np.lexsort((rows, self.started_us[rows], days, users))
        rows, users, days = rows[order], users[order], days[order]
        boundaries = np.flatnonzero(
            np.r_[True, (users[1:] != users[:-1]) | (days[1:] != days[:-1]), True]
        )
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


def _python(values: Any) -> list[Any]:
    if isinstance(values, np.ndarray):
        return cast("list[Any]", values.tolist())
    if isinstance(values, pa.Array):
        return cast("list[Any]", values.to_pylist())
    return list(values)


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
