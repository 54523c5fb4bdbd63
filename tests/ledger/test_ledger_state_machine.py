"""The ledger against an in-memory model, under random sequences of what a service does.

Rules: credit new trips (some late, some replayed), redeem (new and retried requests),
advance the clock across midnight in Asia/Shanghai, reopen the database, recompute with
other factors. After every step: no balance below zero, no trip credited twice, no user-day
over the cap, and the database's balances equal the model's.
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
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from carbonfoot import Engine, InsufficientBalanceError, TripConflictError
from carbonfoot.ledger import Ledger

CAP = 400
SHANGHAI = ZoneInfo("Asia/Shanghai")
FACTOR_SETS = ("uk-desnz-2025", "uk-desnz-2024")
MODES = ("walk", "bicycle", "bus", "metro", "car")
USERS = ("u1", "u2", "u3")
_ENGINES: dict[str, Engine] = {}


def engine_for(factor_set: str) -> Engine:
    if factor_set not in _ENGINES:
        _ENGINES[factor_set] = Engine(factor_set, policy_params={"daily_cap": str(CAP)})
    return _ENGINES[factor_set]


class ModelTrip:
    def __init__(
        self, trip_id: str, user: str, mode: str, km: float, at: dt.datetime, factors: str
    ):
        self.trip_id, self.user, self.mode, self.km, self.at = trip_id, user, mode, km, at
        self.factors = factors  # the factor set it was credited with
        self.day = at.astimezone(SHANGHAI).date()
        self.award = 0  # what the trip is entitled to now

    def uncapped(self, factor_set: str) -> int:
        return int(engine_for(factor_set).trip(self.mode, self.km, on=self.day).credits)


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
        self.balance: dict[str, int] = defaultdict(int)
        self.issued: dict[tuple[str, dt.date], int] = defaultdict(int)
        self.receipts: dict[str, tuple[str, int]] = {}
        self.count = 0

    def teardown(self) -> None:
        self.book.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    def _payload(self, trips: list[ModelTrip]) -> dict[str, list[object]]:
        return {
            "trip_id": [t.trip_id for t in trips],
            "user_id": [t.user for t in trips],
            "mode": [t.mode for t in trips],
            "distance": [t.km for t in trips],
            "started_at": [t.at.isoformat() for t in trips],
        }

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
            at = self.clock + dt.timedelta(minutes=minutes, seconds=self.count)
            batch.append(ModelTrip(f"t{self.count}", user, mode, km, at, self.factor_set))
        report = self.book.credit(self._payload(batch))
        assert report.credited == len(batch)
        # Within one batch, the cap is applied in trip-time order.
        for trip in sorted(batch, key=lambda t: (t.at, int(t.trip_id[1:]))):
            room = CAP - self.issued[(trip.user, trip.day)]
            trip.award = max(0, min(trip.uncapped(self.factor_set), room))
            self.issued[(trip.user, trip.day)] += trip.award
            self.balance[trip.user] += trip.award
        got = dict(
            zip(
                report.outcomes["trip_id"].to_pylist(),
                report.outcomes["amount"].to_pylist(),
                strict=True,
            )
        )
        assert got == {t.trip_id: t.award for t in batch}
        self.credited.extend(batch)
        return batch[0]

    @rule(trip=trips)
    def replay_a_trip(self, trip: ModelTrip) -> None:
        if trip.factors != self.factor_set:
            with pytest.raises(TripConflictError, match="factor_set_hash"):
                self.book.credit(self._payload([trip]))
            return
        report = self.book.credit(self._payload([trip]))
        assert (report.credited, report.replayed) == (0, 1)

    @rule(target=requests, user=st.sampled_from(USERS), share=st.floats(0.0, 1.5))
    def redeem(self, user: str, share: float) -> str:
        amount = max(1, int(self.balance[user] * share))
        request_id = f"r{len(self.receipts)}"
        if amount > self.balance[user]:
            with pytest.raises(InsufficientBalanceError):
                self.book.redeem(user, amount, request_id, "bus pass")
            return request_id
        receipt = self.book.redeem(user, amount, request_id, "bus pass")
        self.balance[user] -= amount
        assert receipt.balance_after == self.balance[user]
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
        report = self.book.recompute(engine_for(factor_set), since)
        # The model: each user-day from `since`, re-awarded in trip-time order under the cap.
        by_day: dict[tuple[str, dt.date], list[ModelTrip]] = defaultdict(list)
        for trip in self.credited:
            if trip.day >= since:
                by_day[(trip.user, trip.day)].append(trip)
        adjusted = 0
        net: dict[str, int] = defaultdict(int)
        for (user, day), day_trips in by_day.items():
            used = 0
            for trip in sorted(day_trips, key=lambda t: (t.at, self.credited.index(t))):
                new = max(0, min(trip.uncapped(factor_set), CAP - used))
                used += new
                delta = new - trip.award
                if delta:
                    adjusted += 1
                    net[user] += delta
                    self.issued[(user, day)] += delta
                    trip.award = new
        for user, change in net.items():
            # What was spent stays spent: a balance goes to zero at most (the rest is a
            # shortfall the report names), whatever the order of the trips.
            shortfall = max(0, -(self.balance[user] + change))
            self.balance[user] += change + shortfall
        assert report.adjusted == adjusted
        self.factor_set = factor_set
        self.book.close()
        self.book = Ledger.open(self.path, engine_for(factor_set))

    @invariant()
    def balances_match_the_model_and_never_go_below_zero(self) -> None:
        for user in USERS:
            held = self.book.balance(user).get("credit", 0)
            assert held >= 0
            assert held == self.balance[user], user

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
            if kind in ("credit", "adjustment"):
                latest[trip] = (user, day, award)
        per_day: dict[tuple[str, dt.date], int] = defaultdict(int)
        for user, day, award in latest.values():
            per_day[(user, dt.date(1970, 1, 1) + dt.timedelta(days=day))] += award
        assert all(0 <= total <= CAP for total in per_day.values()), per_day
        assert per_day == {key: total for key, total in self.issued.items() if key in per_day}

    @invariant()
    def the_chain_verifies(self) -> None:
        assert self.book.verify().ok


LedgerMachine.TestCase.settings = settings(stateful_step_count=20, deadline=None)
test_ledger_state_machine = LedgerMachine.TestCase
