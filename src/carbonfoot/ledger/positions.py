"""What each user holds and owes, and what they were issued each day: the ledger's totals.

Entries are the truth; these tables are kept in step with them in the same transaction
so that a balance or a daily cap is one read, not a sum over history (``verify`` checks
them against the entries, both ways).

* ``balances``: per user and account, the spendable ``balance_minor`` (never negative) and
  ``owed_minor`` (never negative): what a reversal of credits already spent left the user
  owing. A user's *position* is balance less owed, the sum of their entries. New credits
  repay what is owed first; a user who owes has a balance of zero.
* ``day_totals``: per user, local day and account, what was issued that day (the current
  awards of that day's trips): what the daily cap counts across batches and processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from attrs import frozen

from carbonfoot.errors import LedgerError
from carbonfoot.money import MAX_MINOR, to_value

__all__ = [
    "Balances",
    "Position",
    "add_to_days",
    "add_to_positions",
    "balance_minor",
    "day_totals",
    "in_parts",
    "sum_by",
]

#: Values bound into one query at most (a ``user_id IN (...)`` list).
QUERY_CHUNK: Final = 5_000


@frozen
class Position:
    """One account of a user: what they can spend, what they owe, and the net of the two."""

    account: str
    balance_minor: int
    owed_minor: int
    decimals: int

    @property
    def net_minor(self) -> int:
        return self.balance_minor - self.owed_minor

    def as_json(self) -> dict[str, str]:
        """Money as decimal strings: ``balance`` (spendable), ``owed``, ``position`` (net)."""
        return {
            "balance": str(to_value(self.balance_minor, self.decimals)),
            "owed": str(to_value(self.owed_minor, self.decimals)),
            "position": str(to_value(self.net_minor, self.decimals)),
        }


@frozen
class Balances:
    """Every account of one user (``Ledger.balances``): the positions, by account name.

    ``spendable``, ``owed`` and ``net`` give each account's amount as its unit (an ``int``,
    or a ``Decimal`` with the account's places); ``position(account)`` the whole
    :class:`Position`. An account the user never held is absent, not zero.
    """

    user: str
    positions: tuple[Position, ...]

    @property
    def accounts(self) -> tuple[str, ...]:
        """The accounts the user holds, in name order."""
        return tuple(position.account for position in self.positions)

    @property
    def spendable(self) -> dict[str, int | Decimal]:
        """What the user can spend of each account."""
        return {p.account: to_value(p.balance_minor, p.decimals) for p in self.positions}

    @property
    def owed(self) -> dict[str, int | Decimal]:
        """What the user owes of each account (reversals of credits already spent)."""
        return {p.account: to_value(p.owed_minor, p.decimals) for p in self.positions}

    @property
    def net(self) -> dict[str, int | Decimal]:
        """Each account's position: spendable less owed."""
        return {p.account: to_value(p.net_minor, p.decimals) for p in self.positions}

    def position(self, account: str) -> Position:
        """The user's :class:`Position` in ``account``; a ``KeyError`` naming the accounts
        held if they hold none of it."""
        for position in self.positions:
            if position.account == account:
                return position
        raise KeyError(f"{self.user!r} holds no {account!r} account; held: {self.accounts}")

    def as_json(self) -> dict[str, Any]:
        """Money as decimal strings: ``balances`` (spendable per account) and ``accounts``
        (balance, owed and position of each)."""
        return {
            "user_id": self.user,
            "balances": {account: str(value) for account, value in self.spendable.items()},
            "accounts": {p.account: p.as_json() for p in self.positions},
        }


def in_parts(values: Sequence[Any]) -> Iterator[list[Any]]:
    """``values`` in lists short enough to bind into one query."""
    for start in range(0, len(values), QUERY_CHUNK):
        yield list(values[start : start + QUERY_CHUNK])


def sum_by(keys: Sequence[Any], amounts: Sequence[int]) -> dict[Any, int]:
    """Exact integer sums of ``amounts`` per key (a key may be a tuple).

    An Arrow group-by where int64 cannot overflow (the largest amount times the count
    stays below 2**63); Python integers otherwise.
    """
    if not len(keys):
        return {}
    largest = max(abs(int(min(amounts))), abs(int(max(amounts))))
    if largest * len(amounts) >= 2**63:
        exact: dict[Any, int] = {}
        for key, amount in zip(keys, amounts, strict=True):
            exact[key] = exact.get(key, 0) + int(amount)
        return exact
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


def balance_minor(cursor: Any, user: str, account: str) -> int:
    """What ``user`` can spend of ``account`` now."""
    found = cursor.execute(
        "SELECT balance_minor FROM balances WHERE user_id = ? AND account = ?", (user, account)
    )
    return int(found[0][0]) if found else 0


def _owed(cursor: Any, store: Any, users: Sequence[str], account: str) -> dict[str, int]:
    """What each of ``users`` owes (only those who owe something)."""
    owed: dict[str, int] = {}
    for part in in_parts(sorted(set(users))):
        condition, params = store.in_list("user_id", part)
        for user, amount in cursor.execute(
            f"SELECT user_id, owed_minor FROM balances WHERE account = ? AND owed_minor > 0 "
            f"AND {condition}",
            [account, *params],
        ):
            owed[user] = int(amount)
    return owed


def add_to_positions(
    cursor: Any,
    store: Any,
    users: Sequence[str],
    amounts: Sequence[int],
    account: str,
    decimals: int,
    *,
    into_debt: bool = False,
) -> dict[str, int]:
    """Add each user's ``amounts`` to their position in ``account``.

    An increase repays what the user owes first, then adds to the balance. A decrease
    takes from the balance; with ``into_debt`` (a reversal) what the balance cannot cover
    becomes owed, else it must be covered (the caller checked). Returns what each user owes
    after. Balances are bounded by :data:`carbonfoot.money.MAX_MINOR`: a batch that would
    exceed it is refused, nothing written.
    """
    totals = sum_by(users, amounts)
    if not totals:
        return {}
    cursor.execute(
        "INSERT INTO accounts (account, decimals) VALUES (?, ?) ON CONFLICT (account) DO NOTHING",
        (account, decimals),
    )
    owed = _owed(cursor, store, list(totals), account)
    largest = max(totals.values())
    if largest > MAX_MINOR // 4:
        _check_bounds(cursor, store, totals, account)
    increases, decreases, debts = [], [], {}
    for user, amount in totals.items():
        owes = owed.get(user, 0)
        if amount >= 0:
            repaid = min(owes, amount)
            if repaid:
                debts[user] = owes - repaid
            increases.append((user, account, amount - repaid))
        else:
            decreases.append((user, -amount))
    if debts:
        cursor.executemany(
            "UPDATE balances SET owed_minor = ? WHERE user_id = ? AND account = ?",
            [(left, user, account) for user, left in debts.items()],
        )
    # Increases may create the row; decreases update it (an insert of a negative amount
    # would fail the table's non-negative check before any upsert applies).
    cursor.executemany(
        "INSERT INTO balances (user_id, account, balance_minor) VALUES (?, ?, ?) "
        "ON CONFLICT (user_id, account) DO UPDATE SET balance_minor = balances.balance_minor + excluded.balance_minor",
        increases,
    )
    if not into_debt:
        # The caller took no more than each balance holds (the table's check backs it up).
        cursor.executemany(
            "UPDATE balances SET balance_minor = balance_minor - ? WHERE user_id = ? AND account = ?",
            [(taken, user, account) for user, taken in decreases],
        )
        return {user: left for user, left in debts.items() if left}
    for user, taken in decreases:
        held = balance_minor(cursor, user, account)
        short = max(0, taken - held)
        cursor.execute(
            "INSERT INTO balances (user_id, account, balance_minor, owed_minor) VALUES (?, ?, 0, ?) "
            "ON CONFLICT (user_id, account) DO UPDATE SET balance_minor = balances.balance_minor - ?, "
            "owed_minor = balances.owed_minor + ?",
            (user, account, short, taken - short, short),
        )
        if short:
            debts[user] = owed.get(user, 0) + short
    return {user: left for user, left in debts.items() if left}


def _check_bounds(cursor: Any, store: Any, totals: dict[str, int], account: str) -> None:
    """Refuse amounts that would take a balance past :data:`MAX_MINOR`."""
    held: dict[str, int] = {}
    for part in in_parts(sorted(totals)):
        condition, params = store.in_list("user_id", part)
        for user, balance in cursor.execute(
            f"SELECT user_id, balance_minor FROM balances WHERE account = ? AND {condition}",
            [account, *params],
        ):
            held[user] = int(balance)
    for user, amount in totals.items():
        if held.get(user, 0) + amount > MAX_MINOR:
            raise LedgerError(
                f"crediting {user} {amount} more minor units of {account}s would take the balance "
                f"past {MAX_MINOR}, more than the ledger keeps exactly; nothing was written "
                "(check the factor set and the policy rate)"
            )


def add_to_days(
    cursor: Any,
    users: Sequence[str],
    days: Sequence[int] | npt.NDArray[np.int64],
    amounts: Sequence[int],
    account: str,
) -> None:
    """Add to what each user was issued on each local day."""
    totals = sum_by(list(zip(users, [int(day) for day in days], strict=True)), amounts)
    if totals:
        cursor.executemany(
            "INSERT INTO day_totals (user_id, local_day, account, issued_minor) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_id, local_day, account) DO UPDATE SET "
            "issued_minor = day_totals.issued_minor + excluded.issued_minor",
            [(user, day, account, amount) for (user, day), amount in totals.items()],
        )


def day_totals(
    cursor: Any, store: Any, users: Sequence[str], days: npt.NDArray[np.int64], account: str
) -> dict[tuple[str, int], int]:
    """What each of ``users`` was issued on the local days ``days`` span."""
    found: dict[tuple[str, int], int] = {}
    if not len(users):
        return found
    low, high = int(days.min()), int(days.max())
    for part in in_parts(sorted(set(users))):
        condition, params = store.in_list("user_id", part)
        for user, day, issued in cursor.execute(
            f"SELECT user_id, local_day, issued_minor FROM day_totals WHERE account = ? AND "
            f"local_day BETWEEN ? AND ? AND {condition}",
            [account, low, high, *params],
        ):
            found[(user, int(day))] = int(issued)
    return found
