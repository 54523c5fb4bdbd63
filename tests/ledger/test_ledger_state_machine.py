"""The ledger against an in-memory model, under random sequences of what a service does.

Rules: credit new trips (some late, some replayed), redeem (new and retried requests),
advance the clock across midnight in Asia/Shanghai, reopen the database, recompute with
other factors (one of them lacking a mode), resend a credited ride under another id,
credit under other settings (refused, then a conflict when the change is asked for),
reverse a trip after its credits were spent, and review quarantined trips. After every
step: no spendable balance below zero, no trip credited twice, no user-day over the cap,
the database's positions equal the model's, and the chain verifies.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow.compute as pc
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from carbonfoot import Engine, InputError, InsufficientBalanceError, LedgerError, TripConflictError
from carbonfoot.ledger import Ledger

CAP = 400
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: us-epa-2025 has no ferry factor: a recompute onto it keeps ferry awards.
FACTOR_SETS = ("uk-desnz-2025", "uk-desnz-2024", "us-epa-2025")
MODES = ("walk", "bicycle", "bus", "metro", "car", "ferry")
USERS = ("u1", "u2", "u3")
REVIEWED = "u-review"  # trips held for review belong to this user alone
_ENGINES: dict[tuple[str, int], Engine] = {}


def engine_for(factor_set: str, cap: int = CAP) -> Engine:
    if (factor_set, cap) not in _ENGINES:
        _ENGINES[(factor_set, cap)] = Engine(factor_set, policy_params={"daily_cap": str(cap)})
    return _ENGINES[(factor_set, cap)]


class ModelTrip:
    def __init__(
        self, trip_id: str, user: str, mode: str, km: float, at: dt.datetime, factors: str
    ):
        self.trip_id, self.user, self.mode, self.km, self.at = trip_id, user, mode, km, at
        self.factors = factors  # the factor set it was credited with
        self.day = at.astimezone(SHANGHAI).date()
        self.award = 0  # what the trip is entitled to now
        self.reversed = False

    def uncapped(self, factor_set: str) -> int | None:
        """The trip's award alone in its day, or None if the set cannot compute it."""
        try:
            return int(engine_for(factor_set).trip(self.mode, self.km, on=self.day).credits)
        except InputError:
            return None


class LedgerMachine(RuleBasedStateMachine):
    """A ledger on SQLite, and what it should hold."""

    trips = Bundle("trips")
    requests = Bundle("requests")

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="cf-ledger-sm-"))
        self.path = str(self.directory / "ledger.db")
        self.factor_set = FACTOR_SETS[0]
        self.book = Ledger.open(self.path, engine_for(self.factor_set))
        # 15:00 UTC is 23:00 in Shanghai: the first hours cross local midnight.
        self.clock = dt.datetime(2024, 5, 1, 15, 0, tzinfo=dt.UTC)
        self.credited: list[ModelTrip] = []  # in credit order
        self.net: dict[str, int] = defaultdict(int)  # position: balance less what is owed
        self.issued: dict[tuple[str, dt.date], int] = defaultdict(int)
        self.receipts: dict[str, tuple[str, int]] = {}
        self.held: list[ModelTrip] = []  # quarantined, awaiting review
        self.count = 0

    def teardown(self) -> None:
        self.book.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _payload(self, trips: list[ModelTrip], ends: bool = False) -> dict[str, list[object]]:
        payload: dict[str, list[object]] = {
            "trip_id": [t.trip_id for t in trips],
            "user_id": [t.user for t in trips],
            "mode": [t.mode for t in trips],
            "distance": [t.km for t in trips],
            "started_at": [t.at.isoformat() for t in trips],
        }
        if ends:  # ten minutes a trip: too fast for a long walk
            payload["ended_at"] = [(t.at + dt.timedelta(minutes=10)).isoformat() for t in trips]
        return payload

    def _pay(self, trip: ModelTrip) -> None:
        room = CAP - self.issued[(trip.user, trip.day)]
        trip.award = max(0, min(trip.uncapped(self.factor_set) or 0, room))
        self.issued[(trip.user, trip.day)] += trip.award
        self.net[trip.user] += trip.award

    @rule(
        target=trips,
        new=st.lists(
            st.tuples(
                st.sampled_from(USERS),
                st.sampled_from(MODES),
                st.floats(0.1, 12.0).map(lambda km: round(km, 3)),
                st.integers(-180, 0),  # minutes before the clock: late uploads
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def credit_new_trips(self, new: list[tuple[str, str, float, int]]) -> object:
        batch = []
        for user, mode, km, minutes in new:
            self.count += 1
            # A distinct instant per trip: no two are the same ride by accident.
            at = self.clock + dt.timedelta(minutes=minutes, microseconds=self.count)
            batch.append(ModelTrip(f"t{self.count}", user, mode, km, at, self.factor_set))
        report = self.book.credit(self._payload(batch))
        # A mode the ledger's factor set cannot compute is rejected (no_factor).
        paid = [trip for trip in batch if trip.uncapped(self.factor_set) is not None]
        assert report.credited == len(paid)
        assert report.rejected == len(batch) - len(paid)
        # Within one batch, the cap is applied in trip-time order.
        for trip in sorted(paid, key=lambda t: (t.at, int(t.trip_id[1:]))):
            self._pay(trip)
            self.credited.append(trip)
        got = {
            trip: amount
            for trip, amount, outcome in zip(
                report.outcomes["trip_id"].to_pylist(),
                report.outcomes["amount"].to_pylist(),
                report.outcomes["outcome"].to_pylist(),
                strict=True,
            )
            if outcome == "credited"
        }
        assert got == {t.trip_id: t.award for t in paid}
        return multiple(*paid)

    @rule(trip=trips)
    def replay_a_trip(self, trip: ModelTrip) -> None:
        if trip.uncapped(self.factor_set) is None:  # the ledger's set cannot compute it now
            assert self.book.credit(self._payload([trip])).rejected == 1
            return
        if trip.factors != self.factor_set:
            with pytest.raises(TripConflictError, match="factor_set_hash"):
                self.book.credit(self._payload([trip]))
            return
        report = self.book.credit(self._payload([trip]))
        assert (report.credited, report.replayed) == (0, 1)

    @rule(trip=trips)
    def resend_a_ride_under_another_id(self, trip: ModelTrip) -> None:
        self.count += 1
        copy = ModelTrip(
            f"copy{self.count}", trip.user, trip.mode, trip.km, trip.at, self.factor_set
        )
        report = self.book.credit(self._payload([copy]))
        if copy.uncapped(self.factor_set) is None:  # the ledger's set cannot compute it now
            assert report.rejected == 1
            return
        assert (report.credited, report.quarantined) == (0, 1)
        assert report.outcomes["status"].to_pylist() == ["suspect_duplicate"]

    @rule(trip=trips)
    def credit_under_other_settings(self, trip: ModelTrip) -> None:
        if trip.uncapped(self.factor_set) is None:  # rejected before the ledger sees it
            return
        other = engine_for(self.factor_set, CAP + 100)
        with Ledger.open(self.path, other) as book:
            with pytest.raises(LedgerError, match=r"policy_params\.daily_cap"):
                book.credit(self._payload([trip]))
            with pytest.raises(TripConflictError, match="daily_cap"):
                book.credit(self._payload([trip]), change_settings="a higher cap")
        # Back to the model's cap, recorded as a change too.
        self.book.credit(self._payload([]), change_settings="back to the cap")

    @rule(target=requests, user=st.sampled_from(USERS), share=st.floats(0.0, 1.5))
    def redeem(self, user: str, share: float) -> str:
        balance = max(0, self.net[user])
        amount = max(1, int(balance * share))
        request_id = f"r{len(self.receipts)}"
        if amount > balance:
            with pytest.raises(InsufficientBalanceError):
                self.book.redeem(user, amount, request_id, "bus pass")
            return request_id
        receipt = self.book.redeem(user, amount, request_id, "bus pass")
        self.net[user] -= amount
        assert receipt.balance_after == self.net[user]
        self.receipts[request_id] = (user, amount)
        return request_id

    @rule(request_id=requests)
    def retry_a_redemption(self, request_id: str) -> None:
        if request_id not in self.receipts:
            return
        user, amount = self.receipts[request_id]
        receipt = self.book.redeem(user, amount, request_id, "bus pass")
        assert receipt.replayed
        assert receipt.amount == amount

    @rule(trip=trips)
    def reverse_a_trip_even_if_spent(self, trip: ModelTrip) -> None:
        reversal = self.book.reverse(trip.trip_id, "fraud")
        if trip.reversed:  # a replay
            assert reversal.entry_id == f"reverse:{trip.trip_id}"
            return
        assert reversal.amount_minor == trip.award
        spendable = max(0, self.net[trip.user])
        assert reversal.owed_minor == max(0, trip.award - spendable)
        self.net[trip.user] -= trip.award
        self.issued[(trip.user, trip.day)] -= trip.award
        trip.award, trip.reversed = 0, True

    @rule(km=st.floats(8.0, 12.0).map(lambda km: round(km, 3)))
    def hold_a_trip_for_review(self, km: float) -> None:
        self.count += 1
        at = self.clock + dt.timedelta(seconds=self.count)
        trip = ModelTrip(f"fast{self.count}", REVIEWED, "walk", km, at, self.factor_set)
        report = self.book.credit(self._payload([trip], ends=True))
        assert report.quarantined == 1
        self.held.append(trip)

    @precondition(lambda self: bool(self.held))
    @rule(approve=st.booleans())
    def review_the_oldest(self, approve: bool) -> None:
        trip = self.held.pop(0)
        if approve:
            decision = self.book.approve(trip.trip_id, "checked", "the machine")
            room = CAP - self.issued[(trip.user, trip.day)]
            trip.award = max(0, min(trip.uncapped(self.factor_set) or 0, room))
            assert decision.amount == trip.award
            self.issued[(trip.user, trip.day)] += trip.award
            self.net[trip.user] += trip.award
            self.credited.append(trip)
        else:
            assert self.book.refuse(trip.trip_id, "impossible", "the machine").decision == "refused"

    @rule(minutes=st.integers(1, 900))
    def advance_the_clock(self, minutes: int) -> None:
        self.clock += dt.timedelta(minutes=minutes)

    @rule()
    def reopen(self) -> None:
        self.book.close()
        self.book = Ledger.open(self.path, engine_for(self.factor_set))

    @rule(factor_set=st.sampled_from(FACTOR_SETS), days_back=st.integers(0, 2))
    def recompute(self, factor_set: str, days_back: int) -> None:
        since = self.clock.astimezone(SHANGHAI).date() - dt.timedelta(days=days_back)
        report = self.book.recompute(engine_for(factor_set), since, adopt=True)
        # The model: each user-day from `since`, re-awarded in the order the ledger paid
        # its trips, under the cap; a trip the set cannot compute keeps its award (and its
        # room under the cap).
        by_day: dict[tuple[str, dt.date], list[ModelTrip]] = defaultdict(list)
        for trip in self.credited:
            if trip.day >= since and not trip.reversed:
                by_day[(trip.user, trip.day)].append(trip)
        adjusted = 0
        kept = 0
        change: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # increases, decreases
        for (user, day), day_trips in by_day.items():
            computable = [t for t in day_trips if t.uncapped(factor_set) is not None]
            used = sum(t.award for t in day_trips if t.uncapped(factor_set) is None)
            kept += len(day_trips) - len(computable)
            for trip in computable:  # in credit order
                new = max(0, min(trip.uncapped(factor_set) or 0, CAP - used))
                used += new
                delta = new - trip.award
                if delta:
                    adjusted += 1
                    change[user][0 if delta > 0 else 1] += delta
                    self.issued[(user, day)] += delta
                    trip.award = new
        for user, (increases, decreases) in change.items():
            # What was spent stays spent: a decrease takes at most what can be spent.
            self.net[user] += increases
            self.net[user] += max(decreases, -max(0, self.net[user]))
        assert report.adjusted == adjusted
        assert sum(report.kept.values()) == kept
        self.factor_set = factor_set
        self.book.close()
        self.book = Ledger.open(self.path, engine_for(factor_set))

    @invariant()
    def positions_match_the_model_and_no_balance_goes_below_zero(self) -> None:
        for user in (*USERS, REVIEWED):
            positions = {p.account: p for p in self.book.balances(user).positions}
            held = positions.get("credit")
            balance = held.balance_minor if held else 0
            net = held.net_minor if held else 0
            assert balance >= 0
            assert net == self.net[user], user
            assert balance == max(0, self.net[user]), user

    @invariant()
    def each_trip_is_credited_once_and_no_day_is_over_the_cap(self) -> None:
        export = self.book.export()
        credits = export.filter(pc.equal(export["kind"], "credit"))
        ids = credits["trip_id"].to_pylist()
        assert len(ids) == len(set(ids)) == len(self.credited)
        latest: dict[str, tuple[str, int, int]] = {}  # trip -> (user, day, entitlement)
        for kind, trip, user, day, award in zip(
            *(
                export[name].to_pylist()
                for name in ("kind", "trip_id", "user_id", "local_day", "award_minor")
            ),
            strict=True,
        ):
            if kind in ("credit", "adjustment", "reversal"):
                latest[trip] = (user, day, award)
        per_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        for user, day, award in latest.values():
            per_day[(user, day)] += award
        assert all(0 <= total <= CAP for total in per_day.values()), per_day
        assert per_day == {key: total for key, total in self.issued.items() if key in per_day}

    @invariant()
    def the_chain_verifies(self) -> None:
        report = self.book.verify()
        assert report.ok, report.problem


LedgerMachine.TestCase.settings = settings(stateful_step_count=20, deadline=None)
test_ledger_state_machine = LedgerMachine.TestCase
