"""The credit ledger: exactly-once crediting, caps across batches, redemption, audit.

Credits and coins are money-like, so the ledger keeps these promises:

* **exactly once**: the trip id (in its canonical form) is the idempotency key. A trip
  credited again with the same content and settings is a replay that returns the original
  entry; with other content (user, mode, distance to the millimetre, time, district) or
  other settings (factor set or content, baseline, policy or any of its parameters) it is
  a :class:`TripConflictError` naming the fields, and nothing of it is written;
* **the ledger remembers how it pays**: the settings new trips are credited under are the
  ledger's (a ``settings`` entry), not the command line's; a batch under other settings is
  refused unless the change is asked for, and then recorded; a ledger issues credits only
  under a daily cap, or with ``daily_cap=unlimited`` said explicitly;
* **caps hold** across batches, processes and machines: daily totals per user, local day
  and account are kept in the database and read inside the same serialized transaction
  that writes the credits;
* **fraud across batches is caught**: a new trip that duplicates or overlaps one the ledger
  already holds for its user is quarantined (:mod:`carbonfoot.ledger.suspects`), and every
  quarantined trip is held for review, paid only if a reviewer approves it;
* **balances never go negative**: a redemption larger than the balance is refused; a
  reversal of spent credits takes the balance to zero and records what the user owes,
  which their next credits repay first;
* **append-only and auditable**: entries are never updated or deleted; corrections are
  new entries pointing to what they correct; entries are hash-chained in blocks, and
  ``verify`` recomputes the chain, every balance and every day total.

Credits are written in chunks, one transaction each, cut at user-day boundaries: a crash
loses at most the chunk in flight, and running the same batch again completes it with the
same totals as an uninterrupted run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import field, frozen

from carbonfoot._kernels.sorting import group_time_order
from carbonfoot.engine import AssessedBatch, Engine, EngineSettings
from carbonfoot.errors import (
    InputError,
    InsufficientBalanceError,
    LedgerError,
    RequestConflictError,
    TripConflictError,
    UnknownTripError,
)
from carbonfoot.factors import FactorSet
from carbonfoot.intake import to_arrow_table
from carbonfoot.ledger.entries import (
    ENTRY_COLUMNS,
    Adjustments,
    Credits,
    Quarantines,
    Redemption,
    Refusal,
    Reversal,
    Settings,
    TripFacts,
    append_block,
    credit_entry_id,
    quarantine_entry_id,
)
from carbonfoot.ledger.keys import record_reporters
from carbonfoot.ledger.positions import (
    Balances,
    Position,
    add_to_days,
    add_to_positions,
    balance_minor,
    day_totals,
    in_parts,
)
from carbonfoot.ledger.runs import adopt_settings, current_settings, record_run, run_settings
from carbonfoot.ledger.store import Store, open_store
from carbonfoot.ledger.suspects import held_daily_distance, held_suspects
from carbonfoot.ledger.verify import VerifyReport, verify_ledger
from carbonfoot.money import money_column, parse_amount, to_value, whole_milligrams
from carbonfoot.statuses import QUARANTINED, STATUSES
from carbonfoot.times import date_of, day_number

#: The entries' stored time fields (UTC microseconds) and the names they are read out as.
_TIME_FIELDS: Final = {"started_us": "started_at", "ended_us": "ended_at"}
_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")
_UTC_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

__all__ = [
    "CreditReport",
    "Entitlement",
    "Ledger",
    "Quarantined",
    "Receipt",
    "RecomputeReport",
    "ReviewDecision",
    "conflict_message",
]

#: What a trip's credit records of its content: sending the trip again with other values
#: of these is a conflict, not a replay (besides the settings it was credited under).
CONTENT_FIELDS: Final = ("user_id", "mode", "distance_km", "started_us", "district")
#: Distances are compared to the millimetre: ``5100 m`` and ``5.1 km`` are one trip.
DISTANCE_PLACES: Final = 6
#: Outcomes of a trip in :attr:`CreditReport.outcomes`.
OUTCOMES: Final = ("credited", "replayed", "quarantined", "rejected", "conflict")
_QUARANTINED_CODES: Final = np.array([STATUSES.index(name) for name in QUARANTINED])


@frozen
class CreditReport:
    """What one ``credit`` call did, trip by trip (``outcomes``) and in total.

    ``outcomes`` has one row per input row: ``trip_id``, ``user_id``, ``outcome`` (one of
    :data:`OUTCOMES`), ``entry_id``, ``amount`` (credited or replayed), ``status`` and
    ``message`` (why a trip was rejected, quarantined or in conflict).
    """

    outcomes: pa.Table
    credited: int
    replayed: int
    quarantined: int
    rejected: int
    conflicts: tuple[tuple[str, tuple[str, ...]], ...]
    awarded: Decimal | int
    account: str
    settings_changed: tuple[str, ...] = ()

    @property
    def not_credited(self) -> int:
        """Rejected or quarantined trips: neither credited nor replayed."""
        return self.rejected + self.quarantined


@frozen
class Receipt:
    """A redemption: what was spent, on what, and the balance left (a replay returns the
    original receipt, balance then included)."""

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
    """The delta entries of a recomputation, by mode (written, or only planned).

    ``kept`` counts, by mode, trips the new factors cannot compute (their award stands);
    ``reused`` describes the credited settings each group of trips was recomputed with.
    """

    dry_run: bool
    factor_set: str
    factor_set_hash: str
    trips: int
    adjusted: int
    by_mode: dict[str, tuple[int, Decimal | int]]
    shortfall: Decimal | int
    account: str
    kept: dict[str, int] = field(factory=dict)
    reused: tuple[str, ...] = ()


@frozen
class Entitlement:
    """A credited trip's standing: its current award (the latest of its credit,
    adjustments and reversal), whether it was reversed, and how many adjustments it has."""

    user_id: str
    local_day: int
    award: int
    reversed: bool
    adjustments: int


@frozen
class Quarantined:
    """A trip held for review: why, and what it would be computed from."""

    trip_id: str
    user_id: str
    mode: str
    distance_km: float
    started_us: int
    status: str
    message: str
    local_day: int


@frozen
class ReviewDecision:
    """A reviewer's decision on a quarantined trip: ``approved`` (paid) or ``refused``."""

    trip_id: str
    decision: str
    entry_id: str
    amount: Decimal | int
    replayed: bool


class Ledger:
    """A credit ledger on a :class:`Store`, awarding with an :class:`Engine`.

    Without an engine, the ledger uses the settings it records for its account (the
    default policy's, or its only one), else a default engine.
    """

    def __init__(self, store: Store, engine: Engine | None = None) -> None:
        self.store = store
        self.engine = engine if engine is not None else self._recorded_engine()
        self.account = self.engine.policy.unit
        self.decimals = self.engine.policy.decimals
        with store.read() as cursor:
            found = cursor.execute(
                "SELECT decimals FROM accounts WHERE account = ?", (self.account,)
            )
        if found and int(found[0][0]) != self.decimals:
            raise LedgerError(
                f"this ledger keeps {self.account}s with {found[0][0]} decimal places; the policy has {self.decimals}"
            )

    @classmethod
    def open(
        cls,
        location: str | Path | None = None,
        engine: Engine | None = None,
        *,
        create: bool = True,
    ) -> Ledger:
        """Open the ledger at ``location`` (path or PostgreSQL URL), creating it if there is
        none (``create=False``: only an existing one; what read-only commands use)."""
        return cls(open_store(location, create=create), engine)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- settings ----------------------------------------------------------------------

    def _recorded_engine(self) -> Engine:
        default = Engine()
        with self.store.read() as cursor:
            accounts = [
                row[0]
                for row in cursor.execute(
                    "SELECT DISTINCT account FROM entries WHERE kind = 'settings'"
                )
            ]
            chosen = (
                default.policy.unit
                if default.policy.unit in accounts
                else (accounts[0] if len(accounts) == 1 else None)
            )
            current = None if chosen is None else current_settings(cursor, chosen)
            settings = None if current is None else run_settings(cursor, current[0])
        if settings is None:
            return default
        return Engine.from_settings(settings, catalog=default.catalog)

    def settings(self) -> EngineSettings | None:
        """The settings new trips of this ledger's account are credited under (None before
        the first credit)."""
        with self.store.read() as cursor:
            current = current_settings(cursor, self.account)
            return None if current is None else run_settings(cursor, current[0])

    # -- crediting -----------------------------------------------------------------------

    def credit(
        self,
        trips: Any,
        *,
        distance_unit: str = "km",
        chunk_rows: int = 50_000,
        on_conflict: str = "raise",
        change_settings: str | None = None,
        reported_by: str | None = None,
    ) -> CreditReport:
        """Credit a batch of trips; safe to repeat, and safe to run from several processes.

        ``on_conflict`` is ``"raise"`` (the chunk holding a conflicting trip is not written
        and :class:`TripConflictError` says why) or ``"skip"`` (conflicting trips are left
        out and listed in the report; the rest is credited). ``change_settings`` gives the
        reason for paying new trips under this engine's settings when they differ from
        the ledger's (the change is recorded as an entry); without it, other settings are
        refused. ``reported_by`` names the API key that sent the trips: it is recorded for
        each trip written (credited or quarantined), in the same transaction.
        """
        if on_conflict not in ("raise", "skip"):
            raise InputError("on_conflict is 'raise' or 'skip'")
        engine = self.engine
        assessed = engine.assess(to_arrow_table(trips), distance_unit=distance_unit)
        prepared = assessed.prepared
        run, changed = self.store.transaction(
            lambda cursor: adopt_settings(cursor, engine, self.account, change_settings)
        )
        facts = _BatchFacts(engine, assessed, run)
        size = prepared.codes.size
        outcome = np.where(prepared.computed, "", "rejected").astype(object)
        amounts = np.zeros(size, dtype=np.int64)
        entry_ids = np.full(size, None, dtype=object)
        messages = np.asarray(prepared.columns.rejections.messages().to_pylist(), dtype=object)
        statuses = np.asarray(STATUSES, dtype=object)[prepared.columns.status]
        conflicts: list[tuple[str, tuple[str, ...]]] = []
        skip = on_conflict == "skip"
        for chunk in facts.chunks(chunk_rows):
            done = self.store.transaction(
                partial(
                    self._credit_chunk,
                    facts=facts,
                    chunk=chunk,
                    skip=skip,
                    reported_by=reported_by,
                )
            )
            if done.conflicts and not skip:
                raise TripConflictError(conflict_message(done.conflicts), list(done.conflicts))
            conflicts.extend(done.conflicts)
            decided = done.outcome != ""
            rows = chunk[decided]
            outcome[rows] = done.outcome[decided]
            amounts[rows] = done.amounts[decided]
            entry_ids[rows] = done.entry_ids[decided]
            said = done.statuses != None  # noqa: E711 - elementwise on an object array
            statuses[chunk[said]] = done.statuses[said]
            said = done.messages != None  # noqa: E711
            messages[chunk[said]] = done.messages[said]
        paid = (outcome == "credited") | (outcome == "replayed")
        outcomes = pa.table(
            {
                "trip_id": prepared.columns.trip_id,
                "user_id": prepared.columns.user_id,
                "outcome": pa.array(outcome.tolist(), type=pa.string()),
                "entry_id": pa.array(entry_ids.tolist(), type=pa.string()),
                "amount": money_column(amounts, self.decimals, paid),
                "savings_g": pa.array(assessed.savings_g, mask=~prepared.computed),
                "status": pa.array(statuses.tolist(), type=pa.string()),
                "message": pa.array(messages.tolist(), type=pa.string()),
            }
        )
        return CreditReport(
            outcomes=outcomes,
            credited=int(np.count_nonzero(outcome == "credited")),
            replayed=int(np.count_nonzero(outcome == "replayed")),
            quarantined=int(np.count_nonzero(outcome == "quarantined")),
            rejected=int(np.count_nonzero(outcome == "rejected")),
            conflicts=tuple(conflicts),
            awarded=to_value(int(amounts[outcome == "credited"].sum()), self.decimals),
            account=self.account,
            settings_changed=tuple(changed),
        )

    def _credit_chunk(
        self,
        cursor: Any,
        facts: _BatchFacts,
        chunk: npt.NDArray[np.intp],
        *,
        skip: bool,
        reported_by: str | None = None,
    ) -> _ChunkResult:
        """One chunk in one transaction: replays and conflicts; then quarantine (the batch's
        suspects, and trips suspect against what the ledger holds); then the credits.

        With conflicts and not ``skip``, nothing is written (the caller raises)."""
        result = _ChunkResult(chunk)
        known = self._known_trips(cursor, facts.trip_ids[chunk].tolist())
        fresh_mask = np.ones(chunk.size, dtype=np.bool_)
        settings_of: dict[str, EngineSettings] = {}

        def settings(run: str) -> EngineSettings:
            if run not in settings_of:
                settings_of[run] = run_settings(cursor, run)
            return settings_of[run]

        for position in np.flatnonzero(
            np.isin(facts.trip_ids[chunk], list(known)) if known else np.zeros(0, np.intp)
        ).tolist():  # only trips sent before: replays and conflicts
            row = int(chunk[position])
            previous = known[facts.trip_ids[row]]
            fresh_mask[position] = False
            differing = facts.differences(row, previous, settings)
            if differing:
                result.conflicts.append((facts.trip_ids[row], differing))
                result.record(position, "conflict", 0, None)
                result.messages[position] = f"credited before with other {', '.join(differing)}"
            else:
                result.record(position, previous.outcome, previous.amount, previous.entry_id)
                result.statuses[position] = previous.status
                result.messages[position] = previous.message
        if result.conflicts and not skip:
            return result
        at = np.flatnonzero(fresh_mask)  # positions in the chunk of the trips new to the ledger
        fresh = chunk[at]
        held = facts.quarantined[fresh].copy()
        statuses = np.full(fresh.size, None, dtype=object)
        messages = np.full(fresh.size, None, dtype=object)
        statuses[held] = np.asarray(STATUSES, dtype=object)[facts.status[fresh[held]]]
        messages[held] = facts.messages(fresh[held])
        if (~held).any():
            self._held_daily_distance(cursor, facts, fresh, held, statuses, messages)
        candidates = np.flatnonzero(~held)
        if candidates.size:
            rows = fresh[candidates]
            found, why = held_suspects(
                cursor,
                self.store,
                self.engine.plausibility,
                users=facts.user_ids[rows].tolist(),
                modes=facts.modes[rows].tolist(),
                started_us=facts.started_us[rows],
                ended_us=facts.ended_us[rows],
            )
            suspect = found != None  # noqa: E711 - elementwise on an object array
            held[candidates[suspect]] = True
            statuses[candidates[suspect]] = found[suspect]
            messages[candidates[suspect]] = facts.row_prefix(rows[suspect]) + why[suspect]
        if held.any():
            self._quarantine(cursor, facts, fresh[held], statuses[held], messages[held])
            result.outcome[at[held]] = "quarantined"
            result.entry_ids[at[held]] = [
                quarantine_entry_id(trip) for trip in facts.trip_ids[fresh[held]].tolist()
            ]
            result.statuses[at[held]] = statuses[held]
            result.messages[at[held]] = messages[held]
        paying = fresh[~held]
        if paying.size:
            awards = self._pay(cursor, facts, paying)
            result.outcome[at[~held]] = "credited"
            result.amounts[at[~held]] = awards
            result.entry_ids[at[~held]] = [
                credit_entry_id(trip) for trip in facts.trip_ids[paying].tolist()
            ]
        if reported_by is not None and fresh.size:
            record_reporters(cursor, facts.trip_ids[fresh].tolist(), reported_by)
        return result

    def _held_daily_distance(
        self,
        cursor: Any,
        facts: _BatchFacts,
        fresh: npt.NDArray[np.intp],
        held: npt.NDArray[np.bool_],
        statuses: npt.NDArray[np.object_],
        messages: npt.NDArray[np.object_],
    ) -> None:
        """Hold (in place) the new trips of a user's day whose distance by a mode, with what
        the ledger already holds for that day, passes the mode's daily limit."""
        rules = self.engine.plausibility
        held_km, total_km = held_daily_distance(
            cursor,
            self.store,
            rules,
            self.engine.modes,
            account=self.account,
            users=facts.user_ids[fresh].tolist(),
            codes=facts.prepared.codes[fresh],
            local_day=facts.local_day[fresh],
            distance_km=facts.distance_km[fresh],
            candidates=~held,
        )
        codes = facts.prepared.codes[fresh]
        limits = np.array([limit.max_daily_km for limit in rules.limits] or [np.inf])
        over = ~held & ~np.isnan(total_km)
        over[over] = total_km[over] > limits[codes[over]]
        positions = np.flatnonzero(over)
        if not positions.size:
            return
        prefixes = facts.row_prefix(fresh[positions], column="distance")
        held[positions] = True
        statuses[positions] = "suspect_daily_distance"
        messages[positions] = [
            f"{prefix}this user's {facts.modes[fresh[i]]} distance that day, "
            f"{total_km[i]:.3f} km with the {held_km[i]:.3f} km the ledger already holds, "
            f"is over the daily maximum of {limits[codes[i]]:g} km"
            for prefix, i in zip(prefixes.tolist(), positions.tolist(), strict=True)
        ]

    def _pay(
        self, cursor: Any, facts: _BatchFacts, rows: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.int64]:
        """Award and write the credits of ``rows``: the daily cap counts what was issued."""
        users = facts.user_ids[rows].tolist()
        days = facts.local_day[rows]
        prior = day_totals(cursor, self.store, users, days, self.account)
        already = np.array(
            [
                prior.get((user, int(day)), 0)
                for user, day in zip(users, days.tolist(), strict=True)
            ],
            dtype=np.int64,
        )
        awards = self.engine.awards(facts.assessed, rows, already)
        append_block(cursor, Credits(facts.trip_facts(rows), self.account, awards))
        add_to_positions(cursor, self.store, users, awards.tolist(), self.account, self.decimals)
        add_to_days(cursor, users, days, awards.tolist(), self.account)
        return awards

    def _quarantine(
        self,
        cursor: Any,
        facts: _BatchFacts,
        rows: npt.NDArray[np.intp],
        statuses: npt.NDArray[np.object_],
        messages: npt.NDArray[np.object_],
    ) -> None:
        if rows.size:
            append_block(
                cursor,
                Quarantines(
                    facts.trip_facts(rows), self.account, statuses.tolist(), messages.tolist()
                ),
            )

    def _known_trips(self, cursor: Any, trip_ids: list[str]) -> dict[str, _Known]:
        """The trips of ``trip_ids`` the ledger holds: credited, or held or refused in review."""
        found: dict[str, _Known] = {}
        for part in in_parts(trip_ids):
            condition, params = self.store.in_list("trip_id", part)
            for (
                trip,
                kind,
                entry_id,
                user,
                mode,
                km,
                started,
                district,
                run,
                amount,
                status,
                note,
            ) in cursor.execute(
                "SELECT trip_id, kind, entry_id, user_id, mode, distance_km, started_us, district, "
                "run_id, amount_minor, status, note FROM entries WHERE kind IN "
                f"('credit', 'quarantine', 'refusal') AND {condition} ORDER BY seq",
                params,
            ):
                earlier = found.get(trip)
                if kind == "refusal" and earlier is not None:
                    found[trip] = _Known(
                        earlier.content, earlier.run, "rejected", 0, entry_id, "refused", note
                    )
                    continue
                if kind == "credit":
                    found[trip] = _Known(
                        (user, mode, km, started, district),
                        run,
                        "replayed",
                        int(amount),
                        entry_id,
                        "ok",
                        None,
                    )
                elif earlier is None:
                    found[trip] = _Known(
                        (user, mode, km, started, district),
                        run,
                        "quarantined",
                        0,
                        entry_id,
                        status,
                        note,
                    )
        return found

    # -- review ------------------------------------------------------------------------

    def pending_review(self) -> list[Quarantined]:
        """Trips held for review and not yet decided, oldest first."""
        with self.store.read() as cursor:
            found = cursor.execute(
                "SELECT q.trip_id, q.user_id, q.mode, q.distance_km, q.started_us, q.status, q.note, "
                "q.local_day FROM entries q WHERE q.kind = 'quarantine' AND q.account = ? AND NOT EXISTS "
                "(SELECT 1 FROM entries d WHERE d.trip_id = q.trip_id AND d.kind IN ('credit', 'refusal')) "
                "ORDER BY q.seq",
                (self.account,),
            )
        return [
            Quarantined(trip, user, mode, float(km), int(started), status, note, int(day))
            for trip, user, mode, km, started, status, note, day in found
        ]

    def approve(self, trip_id: str, reason: str, reviewer: str) -> ReviewDecision:
        """Pay a quarantined trip what it would have earned (the cap still holds), with the
        reviewer and the reason recorded. Repeating the approval replays it."""
        note = _decision_note("approved", reviewer, reason)
        return self.store.transaction(lambda cursor: self._approve(cursor, trip_id, note))

    def _approve(self, cursor: Any, trip_id: str, note: str) -> ReviewDecision:
        held, decided = self._review_state(cursor, trip_id)
        if decided is not None:
            kind, entry_id, amount, previous_note = decided
            if kind == "credit" and previous_note and previous_note.startswith("approved"):
                return ReviewDecision(
                    trip_id, "approved", entry_id, to_value(amount, self.decimals), True
                )
            raise LedgerError(
                f"trip {trip_id!r} was {'refused' if kind == 'refusal' else 'credited'} already"
                + (f" ({previous_note})" if previous_note else "")
                + ("; a refusal is final" if kind == "refusal" else "")
            )
        settings = run_settings(cursor, held["run_id"])
        engine = Engine.from_settings(settings, catalog=self.engine.catalog)
        trips = _trip_table([held])
        assessed = engine.assess(trips, check_plausibility=False)
        if not assessed.prepared.ok[0]:
            raise LedgerError(
                f"trip {trip_id!r} cannot be computed under its settings any more: "
                f"{assessed.prepared.columns.rejections.messages()[0].as_py()}"
            )
        rows = np.array([0], dtype=np.intp)
        prior = day_totals(
            cursor, self.store, [held["user_id"]], np.array([held["local_day"]]), self.account
        )
        already = np.array([prior.get((held["user_id"], held["local_day"]), 0)], dtype=np.int64)
        awards = engine.awards(assessed, rows, already)
        facts = TripFacts(
            trip_ids=[trip_id],
            user_ids=[held["user_id"]],
            local_day=np.array([held["local_day"]]),
            modes=[held["mode"]],
            distance_km=np.array([held["distance_km"]]),
            started_us=np.array([held["started_us"]]),
            ended_us=[held["ended_us"]],
            districts=[held["district"]],
            savings_mg=assessed.savings_mg,
            run_id=held["run_id"],
        )
        append_block(cursor, Credits(facts, self.account, awards, approvals=[note]))
        add_to_positions(
            cursor, self.store, [held["user_id"]], awards.tolist(), self.account, self.decimals
        )
        add_to_days(cursor, [held["user_id"]], [held["local_day"]], awards.tolist(), self.account)
        return ReviewDecision(
            trip_id,
            "approved",
            credit_entry_id(trip_id),
            to_value(int(awards[0]), self.decimals),
            False,
        )

    def refuse(self, trip_id: str, reason: str, reviewer: str) -> ReviewDecision:
        """Refuse a quarantined trip for good, with the reviewer and the reason recorded.
        Repeating the refusal replays it."""
        note = _decision_note("refused", reviewer, reason)

        def work(cursor: Any) -> ReviewDecision:
            held, decided = self._review_state(cursor, trip_id)
            if decided is not None:
                kind, entry_id, _, previous_note = decided
                if kind == "refusal":
                    return ReviewDecision(
                        trip_id, "refused", entry_id, to_value(0, self.decimals), True
                    )
                raise LedgerError(
                    f"trip {trip_id!r} was approved and credited already ({previous_note}); "
                    "to take its credits back, reverse it"
                )
            refusal = Refusal(trip_id, held["user_id"], self.account, note)
            append_block(cursor, refusal)
            return ReviewDecision(
                trip_id, "refused", refusal.entry_id, to_value(0, self.decimals), False
            )

        return self.store.transaction(work)

    def _review_state(
        self, cursor: Any, trip_id: str
    ) -> tuple[dict[str, Any], tuple[str, str, int, str | None] | None]:
        """The trip's quarantine entry, and the decision on it if there is one."""
        columns = (
            "user_id",
            "mode",
            "distance_km",
            "started_us",
            "ended_us",
            "district",
            "local_day",
            "run_id",
        )
        held = cursor.execute(
            f"SELECT {', '.join(columns)} FROM entries WHERE kind = 'quarantine' AND trip_id = ?",
            (trip_id,),
        )
        if not held:
            raise LedgerError(f"trip {trip_id!r} is not held for review in this ledger")
        record = dict(zip(columns, held[0], strict=True))
        record["trip_id"] = trip_id
        decided = cursor.execute(
            "SELECT kind, entry_id, amount_minor, note FROM entries WHERE trip_id = ? AND kind IN "
            "('credit', 'refusal') ORDER BY seq",
            (trip_id,),
        )
        decision = None
        if decided:
            kind, entry_id, amount, note = decided[0]
            decision = (kind, entry_id, int(amount), note)
        return record, decision

    # -- redemption --------------------------------------------------------------------

    def redeem(self, user: str, amount: Any, request_id: str, item: str) -> Receipt:
        """Spend ``amount`` of the user's balance in the green shop; idempotent by request
        id (a retry returns the original receipt)."""
        user, request_id, item = str(user).strip(), str(request_id).strip(), str(item).strip()
        if not user or not request_id or not item:
            raise InputError("redeem needs a user, a request id and an item")
        minor = parse_amount(amount, self.decimals, self.account)

        def work(cursor: Any) -> Receipt:
            existing = cursor.execute(
                "SELECT entry_id, user_id, account, amount_minor, item, seq FROM entries "
                "WHERE kind = 'redemption' AND request_id = ?",
                (request_id,),
            )
            if existing:
                entry_id, old_user, account, old_amount, old_item, seq = existing[0]
                if (old_user, account, -int(old_amount), old_item) != (
                    user,
                    self.account,
                    minor,
                    item,
                ):
                    raise RequestConflictError(
                        f"request id {request_id!r} was already used for {old_user} spending "
                        f"{to_value(-int(old_amount), self.decimals)} {account}s on {old_item!r}"
                    )
                after = _position_at(cursor, user, account, int(seq))
                return Receipt(
                    request_id,
                    entry_id,
                    user,
                    account,
                    to_value(minor, self.decimals),
                    item,
                    to_value(max(0, after), self.decimals),
                    True,
                )
            balance = balance_minor(cursor, user, self.account)
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

        return self.store.transaction(work)

    # -- corrections -------------------------------------------------------------------

    def reverse(self, trip_id: str, reason: str) -> Reversal:
        """Take back a trip's credits (e.g. found fraudulent) with a compensating entry.

        Where the user has spent them, the balance goes to zero and the rest is owed
        (``Reversal.owed_minor``): later credits repay it first. Reversing the same trip
        again returns the original reversal.
        """

        def work(cursor: Any) -> Reversal:
            done = cursor.execute(
                "SELECT user_id, amount_minor, local_day, note, seq FROM entries "
                "WHERE kind = 'reversal' AND trip_id = ?",
                (trip_id,),
            )
            if done:
                user, amount, day, note, seq = done[0]
                owed = max(0, -_position_at(cursor, user, self.account, int(seq)))
                return Reversal(trip_id, user, self.account, -int(amount), int(day), note, owed)
            state = self._entitlements(cursor, [trip_id])
            if trip_id not in state:
                raise UnknownTripError(f"trip {trip_id!r} has no credit in this ledger")
            record = state[trip_id]
            amount = record.award
            held = balance_minor(cursor, record.user_id, self.account)
            reversal = Reversal(
                trip_id,
                record.user_id,
                self.account,
                amount,
                record.local_day,
                reason,
                max(0, amount - held),
            )
            append_block(cursor, reversal)
            add_to_positions(
                cursor,
                self.store,
                [record.user_id],
                [-amount],
                self.account,
                self.decimals,
                into_debt=True,
            )
            add_to_days(cursor, [record.user_id], [record.local_day], [-amount], self.account)
            return reversal

        return self.store.transaction(work)

    def _entitlements(self, cursor: Any, trip_ids: Sequence[str]) -> dict[str, Entitlement]:
        """Each trip's current award: the latest of its credit, adjustments and reversal."""
        state: dict[str, Entitlement] = {}
        for part in in_parts(list(trip_ids)):
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
        self,
        factors: str | Path | FactorSet | Engine,
        since: dt.date,
        *,
        dry_run: bool = False,
        baseline: str | None = None,
        baseline_params: dict[str, Any] | None = None,
        policy_params: dict[str, Any] | None = None,
        adopt: bool = False,
    ) -> RecomputeReport:
        """Re-award every credited trip from ``since`` (local days) with new ``factors``.

        Each trip is recomputed under the settings it was credited with (its baseline,
        policy and parameters, time zone among them), with only the factors replaced, unless
        ``baseline``, ``baseline_params`` or ``policy_params`` say otherwise (an engine
        given as ``factors`` brings its baseline and parameters as such overrides). Caps are
        applied again over each user-day in the order the ledger first paid its trips, so
        unchanged inputs change nothing, whatever order the batches came in. A trip the new
        factors cannot compute keeps its award (reported in ``kept``). Writes only delta
        entries (``adjustment``), so a second run writes none; a negative delta larger than
        the user's balance takes what is there and reports the rest as a shortfall.
        ``adopt`` also credits new trips under the new settings from now on.
        """
        new_factors, overrides = _recompute_request(
            factors, baseline, baseline_params, policy_params
        )
        return self.store.transaction(
            lambda cursor: _Recomputation(self, cursor, new_factors, overrides).run(
                day_number(since), dry_run=dry_run, adopt=adopt
            )
        )

    def _credited_trips(self, cursor: Any, since_day: int) -> list[dict[str, Any]]:
        """The credited trips of this account from local day ``since_day`` on, in credit
        order, with the run each was credited under."""
        columns = (
            "trip_id",
            "user_id",
            "mode",
            "distance_km",
            "started_us",
            "ended_us",
            "district",
            "local_day",
            "run_id",
            "seq",
        )
        return [
            dict(zip(columns, record, strict=True))
            for record in cursor.execute(
                f"SELECT {', '.join(columns)} FROM entries "
                "WHERE kind = 'credit' AND account = ? AND local_day >= ? ORDER BY seq",
                (self.account, since_day),
            )
        ]

    # -- reading -------------------------------------------------------------------------

    def balance(self, user: str) -> int | Decimal:
        """What ``user`` can spend of this ledger's account (its policy's unit): an ``int``,
        or a ``Decimal`` with the account's places; zero for a user it never credited.
        :meth:`balances` gives every account, with what the user owes."""
        with self.store.read() as cursor:
            held = balance_minor(cursor, str(user).strip(), self.account)
        return to_value(held, self.decimals)

    def balances(self, user: str) -> Balances:
        """Every account of ``user``: spendable balance, what they owe, and the net."""
        user = str(user).strip()
        with self.store.read() as cursor:
            found = cursor.execute(
                "SELECT b.account, b.balance_minor, b.owed_minor, a.decimals FROM balances b "
                "JOIN accounts a ON a.account = b.account WHERE b.user_id = ? ORDER BY b.account",
                (user,),
            )
        return Balances(
            user,
            tuple(
                Position(account, int(balance), int(owed), int(decimals))
                for account, balance, owed, decimals in found
            ),
        )

    def history(self, user: str) -> list[dict[str, Any]]:
        """The user's entries, oldest first, as dictionaries: ``amount`` in the account's
        unit beside ``amount_minor``, ``local_day`` a date, ``started_at`` and ``ended_at``
        UTC datetimes (the fields an entry's kind does not fill are None)."""
        with self.store.read() as cursor:
            found = cursor.execute(
                f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE user_id = ? ORDER BY seq",
                (str(user).strip(),),
            )
        return [self._readable(dict(zip(ENTRY_COLUMNS, record, strict=True))) for record in found]

    def entries_page(
        self, user: str, *, before_seq: int | None = None, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` of the user's entries, newest first, older than ``before_seq``
        (an entry's ``seq``) if given: a page of :meth:`history`, for paginated reads."""
        if limit < 1:
            raise InputError("a page holds at least one entry")
        since = "" if before_seq is None else " AND seq < ?"
        params: tuple[Any, ...] = (str(user).strip(),) + (
            () if before_seq is None else (int(before_seq),)
        )
        with self.store.read() as cursor:
            found = cursor.execute(
                f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE user_id = ?{since} "
                f"ORDER BY seq DESC LIMIT {int(limit)}",
                params,
            )
        return [self._readable(dict(zip(ENTRY_COLUMNS, record, strict=True))) for record in found]

    def _readable(self, record: dict[str, Any]) -> dict[str, Any]:
        record["amount"] = to_value(int(record["amount_minor"]), self.decimals)
        day = record["local_day"]
        record["local_day"] = None if day is None else date_of(int(day))
        for stored, shown in _TIME_FIELDS.items():
            micros = record.pop(stored)
            record[shown] = (
                None if micros is None else _UTC_EPOCH + dt.timedelta(microseconds=int(micros))
            )
        return record

    def export(self) -> pa.Table:
        """Every entry in chain order, with its run's settings (and without the recording
        time, so the same trips, factors and policy export the same on every backend).

        ``local_day`` is a date32 column, ``started_at`` and ``ended_at`` UTC timestamps
        (microseconds); amounts stay integers of the smallest unit (``amount_minor``).
        """
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
            "ended_us": pa.int64(),
            "savings_mg": pa.int64(),
            "award_minor": pa.int64(),
        }
        arrays = {
            name: pa.array(values, type=types.get(name, pa.string()))
            for name, values in table.items()
        }
        arrays["local_day"] = arrays["local_day"].cast(pa.date32())
        return pa.table(
            {
                _TIME_FIELDS.get(name, name): (
                    array.cast(_TIMESTAMP) if name in _TIME_FIELDS else array
                )
                for name, array in arrays.items()
            }
        )

    def verify(self, *, head: str = "", page_blocks: int = 200) -> VerifyReport:
        """Check the chain block by block (against the anchor ``head``, a block hash
        recorded earlier, if given), entry counts, balances and day totals against the
        entries (:mod:`carbonfoot.ledger.verify`)."""
        return verify_ledger(self.store, head=head, page_blocks=page_blocks)


# -- the pieces of a credit -------------------------------------------------------------


@frozen
class _Known:
    """A trip the ledger already holds: its content, its run, and what a replay returns."""

    content: tuple[Any, ...]
    run: str
    outcome: str
    amount: int
    entry_id: str
    status: str | None
    message: str | None


class _ChunkResult:
    """What one chunk's transaction decided, by position in the chunk."""

    def __init__(self, chunk: npt.NDArray[np.intp]) -> None:
        self.rows = chunk
        self.conflicts: list[tuple[str, tuple[str, ...]]] = []
        self.outcome = np.full(chunk.size, "", dtype=object)
        self.amounts = np.zeros(chunk.size, dtype=np.int64)
        self.entry_ids = np.full(chunk.size, None, dtype=object)
        self.statuses = np.full(chunk.size, None, dtype=object)
        self.messages = np.full(chunk.size, None, dtype=object)

    def record(self, position: int, outcome: str, amount: int, entry_id: str | None) -> None:
        self.outcome[position] = outcome
        self.amounts[position] = amount
        self.entry_ids[position] = entry_id


class _BatchFacts:
    """The per-trip arrays the ledger reads and writes, for the computed rows of a batch."""

    def __init__(self, engine: Engine, assessed: AssessedBatch, run: str) -> None:
        prepared = assessed.prepared
        columns = prepared.columns
        self.engine = engine
        self.assessed = assessed
        self.prepared = prepared
        self.run = run
        self.settings = engine.settings
        self.trip_ids = np.asarray(columns.trip_id.to_pylist(), dtype=object)
        self.user_ids = np.asarray(columns.user_id.to_pylist(), dtype=object)
        self.modes = np.asarray([*engine.modes.ids, ""], dtype=object)[prepared.codes]
        self.distance_km = prepared.distance_km
        self.started_us = columns.started_us
        self.ended_us = (
            columns.ended_us
            if columns.ended_us is not None
            else np.asarray(columns.started_us, dtype=np.int64)
        )
        self.has_end = columns.ended_us is not None
        self.districts = (
            np.asarray(columns.district.to_pylist(), dtype=object)
            if columns.district is not None
            else np.full(prepared.codes.size, None, dtype=object)
        )
        self.local_day = prepared.local_day
        self.status = columns.status
        self.quarantined = np.isin(columns.status, _QUARANTINED_CODES)
        self._messages = columns.rejections.messages()

    def messages(self, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.object_]:
        """The batch's messages of ``rows``."""
        return np.asarray(self._messages.take(pa.array(rows)).to_pylist(), dtype=object)

    def row_prefix(
        self, rows: npt.NDArray[np.intp], column: str = "started_at"
    ) -> npt.NDArray[np.object_]:
        """``row N: column 'started_at': `` (or another column) for each of ``rows``, as the
        batch's messages begin."""
        numbers = self.prepared.columns.rejections.row_numbers[rows] + 1
        return np.asarray([f"row {n}: column '{column}': " for n in numbers.tolist()], dtype=object)

    def trip_facts(self, rows: npt.NDArray[np.intp]) -> TripFacts:
        ended: Sequence[int | None] = (
            self.ended_us[rows].tolist() if self.has_end else [None] * rows.size
        )
        return TripFacts(
            trip_ids=self.trip_ids[rows].tolist(),
            user_ids=self.user_ids[rows].tolist(),
            local_day=self.local_day[rows],
            modes=self.modes[rows].tolist(),
            distance_km=self.distance_km[rows],
            started_us=self.started_us[rows],
            ended_us=ended,
            districts=self.districts[rows].tolist(),
            savings_mg=self.assessed.savings_mg[rows]
            if not self.quarantined[rows].any()
            else _quarantine_savings(self.assessed, rows),
            run_id=self.run,
        )

    def chunks(self, chunk_rows: int) -> Iterator[npt.NDArray[np.intp]]:
        """The computed rows, ordered by user, day and time, cut between user-days."""
        rows = np.flatnonzero(self.prepared.computed)
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

    def differences(self, row: int, previous: _Known, settings_of: Any) -> tuple[str, ...]:
        """The content fields and settings in which ``row`` differs from a held trip."""
        user, mode, km, started, district = previous.content
        mine = (
            self.user_ids[row],
            self.modes[row],
            round(float(self.distance_km[row]), DISTANCE_PLACES),
            int(self.started_us[row]),
            self.districts[row],
        )
        theirs = (user, mode, round(float(km), DISTANCE_PLACES), int(started), district)
        fields = [name for name, a, b in zip(CONTENT_FIELDS, mine, theirs, strict=True) if a != b]
        if district is None and self.districts[row] is not None and "district" in fields:
            fields.remove("district")  # recorded before the ledger kept districts
        if previous.run != self.run:
            fields += [
                phrase.split(" (")[0]
                for phrase in self.settings.differences(settings_of(previous.run))
            ]
        return tuple(fields)


def _quarantine_savings(
    assessed: AssessedBatch, rows: npt.NDArray[np.intp]
) -> npt.NDArray[np.int64]:
    """Savings in whole mg of rows that may be quarantined: computed, but not awarded (the
    assessed batch gives whole milligrams only to rows that may earn)."""
    savings_g = assessed.savings_g[rows]
    return whole_milligrams(np.where(np.isnan(savings_g), 0.0, savings_g))


def _position_at(cursor: Any, user: str, account: str, seq: int) -> int:
    """The user's position (sum of entries) in ``account`` just after entry ``seq``."""
    found = cursor.execute(
        "SELECT SUM(amount_minor) FROM entries WHERE user_id = ? AND account = ? AND seq <= ?",
        (user, account, seq),
    )
    return int(found[0][0] or 0)


def _consecutive_runs(
    trips: Sequence[dict[str, Any]],
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The trips (in credit order) cut where the run they were credited under changes."""
    group: list[dict[str, Any]] = []
    for trip in trips:
        if group and trip["run_id"] != group[0]["run_id"]:
            yield group[0]["run_id"], group
            group = []
        group.append(trip)
    if group:
        yield group[0]["run_id"], group


def _decision_note(decision: str, reviewer: str, reason: str) -> str:
    reviewer, reason = str(reviewer).strip(), str(reason).strip()
    if not reviewer or not reason:
        raise InputError(f"a review decision needs a reviewer and a reason ({decision})")
    return f"{decision} by {reviewer}: {reason}"


def _trip_table(records: Sequence[dict[str, Any]]) -> pa.Table:
    """Trip input rebuilt from what the ledger recorded of each trip."""
    return pa.table(
        {
            "trip_id": pa.array([r["trip_id"] for r in records], type=pa.string()),
            "user_id": pa.array([r["user_id"] for r in records], type=pa.string()),
            "mode": pa.array([r["mode"] for r in records], type=pa.string()),
            "distance": pa.array([r["distance_km"] for r in records], type=pa.float64()),
            "started_at": pa.array(
                [r["started_us"] for r in records], type=pa.timestamp("us", tz="UTC")
            ),
            "ended_at": pa.array(
                [r["ended_us"] for r in records], type=pa.timestamp("us", tz="UTC")
            ),
            "district": pa.array([r["district"] for r in records], type=pa.string()),
        }
    )


def _recompute_request(
    factors: str | Path | FactorSet | Engine,
    baseline: str | None,
    baseline_params: dict[str, Any] | None,
    policy_params: dict[str, Any] | None,
) -> tuple[str | Path | FactorSet, dict[str, Any]]:
    """The new factors and the overrides of the credited settings."""
    overrides: dict[str, Any] = {
        "baseline": baseline,
        "baseline_params": dict(baseline_params or {}),
        "policy_params": dict(policy_params or {}),
    }
    if isinstance(factors, Engine):
        settings = factors.settings
        overrides["policy"] = settings.policy
        overrides["baseline"] = baseline if baseline is not None else settings.baseline
        overrides["baseline_params"] = {**settings.baseline_params, **overrides["baseline_params"]}
        overrides["policy_params"] = {**settings.policy_params, **overrides["policy_params"]}
        overrides["catalog"] = factors.catalog
        return factors.factor_set, overrides
    return factors, overrides


#: How a conflict message names a content field: as the trip's column, not as stored.
_FIELD_NAMES: Final = {"started_us": "started_at"}


def conflict_message(conflicts: Sequence[tuple[str, tuple[str, ...]]]) -> str:
    """The message of a :class:`TripConflictError`: each trip (the first five) and the
    fields it differs in, named as the trip's columns and settings are."""
    shown = "; ".join(
        f"trip {trip!r} differs in {', '.join(_FIELD_NAMES.get(name, name) for name in fields)}"
        for trip, fields in conflicts[:5]
    )
    more = f" (and {len(conflicts) - 5} more)" if len(conflicts) > 5 else ""
    return (
        f"{len(conflicts)} trip(s) already credited with other content or settings: {shown}{more}; "
        "nothing of their chunk was written (to pay credited trips under other settings, use "
        "`ledger recompute`)"
    )


class _Recomputation:
    """One recomputation, in one transaction: the plan, then (unless a dry run) the writes."""

    def __init__(
        self,
        ledger: Ledger,
        cursor: Any,
        factors: str | Path | FactorSet,
        overrides: dict[str, Any],
    ) -> None:
        self.ledger = ledger
        self.cursor = cursor
        self.factors = factors
        self.overrides = overrides
        self.engines: dict[str, Engine] = {}

    def engine_for(self, run: str) -> Engine:
        """The engine of a run with the new factors (and the overrides)."""
        if run not in self.engines:
            settings = run_settings(self.cursor, run)
            policy = self.overrides.get("policy")
            if policy is not None and policy != settings.policy:
                raise LedgerError(
                    f"recompute keeps each trip's policy: trips were credited under {settings.policy!r}, "
                    f"not {policy!r}"
                )
            self.engines[run] = Engine.from_settings(
                settings,
                catalog=self.overrides.get("catalog") or self.ledger.engine.catalog,
                factors=self.factors,
                baseline=self.overrides["baseline"],
                baseline_params=self.overrides["baseline_params"],
                policy_params=self.overrides["policy_params"],
            )
            engine = self.engines[run]
            if (
                engine.policy.unit != self.ledger.account
                or engine.policy.decimals != self.ledger.decimals
            ):
                raise LedgerError("recompute with the ledger's own policy unit and decimals")
        return self.engines[run]

    def run(self, since_day: int, *, dry_run: bool, adopt: bool) -> RecomputeReport:
        ledger, cursor = self.ledger, self.cursor
        trips = ledger._credited_trips(cursor, since_day)
        state = ledger._entitlements(cursor, [trip["trip_id"] for trip in trips])
        standing = [trip for trip in trips if not state[trip["trip_id"]].reversed]
        new_award: dict[str, int] = {}
        kept: dict[str, int] = {}
        savings: dict[str, int] = {}
        issued: dict[tuple[str, int], int] = {}  # per user-day: kept awards, then new ones
        # Runs of consecutive trips credited under the same settings, in credit order: each
        # is one policy call, and the order a day was paid in is kept across them.
        segments: list[tuple[str, list[dict[str, Any]], AssessedBatch]] = []
        for run, group in _consecutive_runs(standing):
            assessed = self.engine_for(run).assess(_trip_table(group), check_plausibility=False)
            segments.append((run, group, assessed))
            for index in np.flatnonzero(~assessed.prepared.ok).tolist():
                trip = group[index]  # the new set cannot compute it: its award stands
                kept[trip["mode"]] = kept.get(trip["mode"], 0) + 1
                key = (trip["user_id"], int(trip["local_day"]))
                issued[key] = issued.get(key, 0) + state[trip["trip_id"]].award
        for run, group, assessed in segments:
            rows = np.flatnonzero(assessed.prepared.ok)
            if rows.size == 0:
                continue
            already = np.array(
                [
                    issued.get((group[i]["user_id"], int(group[i]["local_day"])), 0)
                    for i in rows.tolist()
                ],
                dtype=np.int64,
            )
            order = np.array([group[i]["seq"] for i in rows.tolist()], dtype=np.int64)
            awards = self.engine_for(run).awards(assessed, rows, already, order)
            for i, award in zip(rows.tolist(), awards.tolist(), strict=True):
                trip = group[i]
                new_award[trip["trip_id"]] = award
                savings[trip["trip_id"]] = int(assessed.savings_mg[i])
                key = (trip["user_id"], int(trip["local_day"]))
                issued[key] = issued.get(key, 0) + award
        runs = list(dict.fromkeys(run for run, _, _ in segments))
        plan = _RecomputePlan(Adjustments(account=ledger.account))
        deltas = [
            (trip, new_award[trip["trip_id"]] - state[trip["trip_id"]].award)
            for trip in standing
            if trip["trip_id"] in new_award
        ]
        # Increases first, then decreases (each in entry order): a user's balance is short
        # only if the net change is, whatever the order of the trips.
        ordered = [(t, d) for t, d in deltas if d > 0] + [(t, d) for t, d in deltas if d < 0]
        balances: dict[str, int] = {}
        for trip, delta in ordered:
            user = trip["user_id"]
            if user not in balances:
                balances[user] = balance_minor(cursor, user, ledger.account)
            applied = max(delta, -balances[user])  # a decrease takes at most what is left
            balances[user] += applied
            record = state[trip["trip_id"]]
            engine = self.engine_for(trip["run_id"])
            shortfall = (
                f"; shortfall {to_value(applied - delta, ledger.decimals)}"
                if applied != delta
                else ""
            )
            plan.add(
                delta=delta,
                trip_id=trip["trip_id"],
                sequence=record.adjustments + 1,
                user_id=user,
                amount=applied,
                local_day=int(trip["local_day"]),
                mode=trip["mode"],
                distance_km=float(trip["distance_km"]),
                started_us=int(trip["started_us"]),
                ended_us=trip["ended_us"],
                district=trip["district"],
                savings_mg=savings[trip["trip_id"]],
                award=new_award[trip["trip_id"]],
                run_id=record_run(cursor, engine) if not dry_run else "",
                note=f"recomputed with {engine.factor_set.id}{shortfall}",
            )
        adjustments = plan.adjustments
        if not dry_run:
            if len(adjustments):
                append_block(cursor, adjustments)
                add_to_positions(
                    cursor,
                    ledger.store,
                    adjustments.user_ids,
                    adjustments.amounts,
                    ledger.account,
                    ledger.decimals,
                )
                add_to_days(
                    cursor, adjustments.user_ids, adjustments.local_day, plan.deltas, ledger.account
                )
            if adopt:
                self._adopt()
        factor_set = self._factor_set()
        return RecomputeReport(
            dry_run=dry_run,
            factor_set=factor_set.name,
            factor_set_hash=factor_set.content_hash,
            trips=len(trips),
            adjusted=len(adjustments),
            by_mode={
                mode: (count, to_value(total, ledger.decimals))
                for mode, (count, total) in sorted(plan.by_mode.items())
            },
            shortfall=to_value(plan.shortfall, ledger.decimals),
            account=ledger.account,
            kept=dict(sorted(kept.items())),
            reused=tuple(run_settings(cursor, run).describe() for run in runs),
        )

    def _factor_set(self) -> FactorSet:
        if self.engines:
            return next(iter(self.engines.values())).factor_set
        if isinstance(self.factors, FactorSet):
            return self.factors
        catalog = self.overrides.get("catalog") or self.ledger.engine.catalog
        return catalog.factor_set(self.factors)

    def _adopt(self) -> None:
        """Pay new trips under the current settings with the new factors from now on."""
        current = current_settings(self.cursor, self.ledger.account)
        if current is None:
            return
        engine = self.engine_for(current[0])
        run = record_run(self.cursor, engine)
        if run != current[0]:
            append_block(
                self.cursor,
                Settings(
                    self.ledger.account,
                    run,
                    current[1] + 1,
                    f"recomputed with {engine.factor_set.id}",
                ),
            )


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
