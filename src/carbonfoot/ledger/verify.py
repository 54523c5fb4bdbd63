"""The audit: does the ledger still say what was written, and do its totals follow from it?

:func:`verify_ledger` reads the whole ledger in one read transaction and runs small
checks in order, stopping at the first problem:

1. the chain: blocks are contiguous, every entry of a block is there, each entry's digest
   matches its content (in the block's format), each block's hash matches its entries and
   the block before it, and the head matches the last block;
2. the anchor, if given: a head recorded elsewhere earlier (``head=``) is a block of this
   chain. A consistent rewrite of the whole chain, or a tail cut off, keeps the chain
   self-consistent; only a hash kept outside the database shows it;
3. the runs: each run's id is the hash of its settings, and every entry's run exists;
4. the counts: no entry lies outside the chain;
5. the balances, both ways: every user's position (balance less what is owed) equals the
   sum of their entries, and no position the entries give is missing;
6. the day totals, both ways: what each user was issued each local day (what the daily
   cap counts) equals the current awards of that day's trips, none missing.

The report names the problem and, where there is one, the first bad entry; on success it
gives the chain's head, the hash to keep elsewhere as the next anchor.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import frozen

from carbonfoot.ledger.chain import (
    FIELDS_OF_FORMAT,
    block_hash,
    canonical_rows,
    digests,
    entries_hash,
    run_id,
    settings_run_id,
)
from carbonfoot.ledger.entries import ENTRY_COLUMNS, LEDGER_WIDE
from carbonfoot.ledger.store import GENESIS, Store

__all__ = ["VerifyReport", "verify_ledger"]


@frozen
class VerifyReport:
    """The result of checking the hash chain, entry counts and balances."""

    ok: bool
    entries: int
    blocks: int
    problem: str = ""
    first_bad_entry: str = ""
    head: str = ""


class _Found(Exception):  # noqa: N818 - a finding, not an error of the program
    """A check's finding: what is wrong, and the first bad entry if one is known."""

    def __init__(self, problem: str, first_bad_entry: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.first_bad_entry = first_bad_entry


class _Walk:
    """How far the chain check got: entries and blocks checked."""

    def __init__(self) -> None:
        self.entries = 0
        self.blocks = 0
        self.hashes: set[str] = set()
        self.head = ""


def verify_ledger(store: Store, *, head: str = "", page_blocks: int = 200) -> VerifyReport:
    """Check the chain block by block, the anchor ``head`` (a block hash recorded earlier),
    the runs, the entry count, every balance and every day total."""
    walk = _Walk()
    with store.read() as cursor:
        try:
            _check_chain(cursor, walk, page_blocks)
            _check_anchor(head.strip().lower(), walk)
            _check_runs(cursor)
            _check_count(cursor, walk.entries)
            _check_balances(cursor)
            _check_day_totals(cursor)
        except _Found as found:
            return VerifyReport(
                False, walk.entries, walk.blocks, found.problem, found.first_bad_entry, walk.head
            )
    return VerifyReport(True, walk.entries, walk.blocks, head=walk.head)


def _pages(cursor: Any, last_block: int, page_blocks: int) -> Iterator[list[tuple[Any, ...]]]:
    """The blocks in order, a page at a time."""
    start = 1
    while start <= last_block:
        page = cursor.execute(
            "SELECT block, first_seq, last_seq, prev_hash, entries_hash, block_hash, format FROM blocks "
            "WHERE block BETWEEN ? AND ? ORDER BY block",
            (start, start + page_blocks - 1),
        )
        if not page:
            raise _Found(f"block {start} is missing")
        yield page
        start += len(page)


def _check_chain(cursor: Any, walk: _Walk, page_blocks: int) -> None:
    head_seq, head_block, head_hash = cursor.execute(
        "SELECT last_seq, last_block, last_hash FROM ledger_head WHERE id = 1"
    )[0]
    previous = GENESIS
    next_seq = 1
    for page in _pages(cursor, int(head_block), page_blocks):
        rows = cursor.execute(
            f"SELECT {','.join(ENTRY_COLUMNS)} FROM entries WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (int(page[0][1]), int(page[-1][2])),
        )
        by_seq = {int(record[0]): record for record in rows}
        for block, first, last, prev_hash, content_hash, chained, chain_format in page:
            walk.blocks += 1
            if int(first) != next_seq:
                raise _Found(
                    f"block {block} starts at entry {first}, expected {next_seq}", f"seq {next_seq}"
                )
            records = _block_entries(by_seq, int(block), int(first), int(last))
            _check_block(records, block, prev_hash, previous, content_hash, int(chain_format))
            if block_hash(previous, int(block), int(first), int(last), content_hash) != chained:
                raise _Found(f"block {block} hash is wrong", str(records[0][1]))
            previous = chained
            walk.hashes.add(chained)
            walk.entries += len(records)
            next_seq = int(last) + 1
    if previous != head_hash or next_seq - 1 != int(head_seq):
        raise _Found("the chain's head does not match its last block")
    walk.head = previous


def _check_anchor(anchor: str, walk: _Walk) -> None:
    if anchor and anchor not in walk.hashes and anchor != walk.head:
        raise _Found(
            f"the anchor head {anchor} is not a block of this chain: the ledger was rewritten "
            "or its tail cut off since that head was recorded"
        )


def _block_entries(
    by_seq: dict[int, tuple[Any, ...]], block: int, first: int, last: int
) -> list[tuple[Any, ...]]:
    """The entries of one block, every one of them present."""
    records = []
    for seq in range(first, last + 1):
        record = by_seq.get(seq)
        if record is None:
            raise _Found(f"entry {seq} of block {block} is missing", f"seq {seq}")
        records.append(record)
    return records


def _check_block(
    records: list[tuple[Any, ...]],
    block: int,
    prev_hash: str,
    previous: str,
    content_hash: str,
    chain_format: int,
) -> None:
    """Each entry's digest, then the block's content hash and its link to the last block."""
    if chain_format not in FIELDS_OF_FORMAT:
        raise _Found(f"block {block} has an unknown format {chain_format}", str(records[0][1]))
    columns = {name: [record[i] for record in records] for i, name in enumerate(ENTRY_COLUMNS)}
    if chain_format == 1 and any(
        value is not None
        for name in set(FIELDS_OF_FORMAT[2]) - set(FIELDS_OF_FORMAT[1])
        for value in columns[name]
    ):
        raise _Found(f"block {block} (format 1) holds fields format 1 has not", str(records[0][1]))
    canonical = canonical_rows(columns, chain_format)
    for digest, stored, record in zip(digests(canonical), columns["digest"], records, strict=True):
        if digest != stored:
            raise _Found(f"entry {record[1]} (seq {record[0]}) was changed", str(record[1]))
    if entries_hash(canonical) != content_hash or prev_hash != previous:
        raise _Found(f"block {block} does not match its hash", str(records[0][1]))


def _check_runs(cursor: Any) -> None:
    for identifier, *fields in cursor.execute(
        "SELECT run_id, factor_set, factor_set_hash, baseline, policy, policy_params, "
        "baseline_request, baseline_params FROM runs"
    ):
        expected = (
            run_id(*fields[:5])
            if fields[5] is None and fields[6] is None
            else settings_run_id(fields)
        )
        if expected != identifier:
            raise _Found(f"the settings of run {identifier} were changed")
    orphans = cursor.execute(
        "SELECT e.entry_id FROM entries e LEFT JOIN runs r ON r.run_id = e.run_id "
        "WHERE e.run_id IS NOT NULL AND r.run_id IS NULL"
    )
    if orphans:
        raise _Found(f"entry {orphans[0][0]} points to a missing run", str(orphans[0][0]))


def _check_count(cursor: Any, chained: int) -> None:
    total = int(cursor.execute("SELECT COUNT(*) FROM entries")[0][0])
    if total != chained:
        raise _Found(f"{total - chained} entries are outside the chain")


def _check_balances(cursor: Any) -> None:
    """Each user's position (balance less what is owed) against the sum of their entries."""
    from_entries = {
        (user, account): int(total)
        for user, account, total in cursor.execute(
            "SELECT user_id, account, SUM(amount_minor) FROM entries WHERE user_id <> ? "
            "GROUP BY user_id, account",
            (LEDGER_WIDE,),
        )
    }
    stored = {}
    for user, account, balance, owed in cursor.execute(
        "SELECT user_id, account, balance_minor, owed_minor FROM balances"
    ):
        if int(owed) and int(balance):
            raise _Found(f"the {account} balance of {user} is positive while the user owes {owed}")
        stored[(user, account)] = int(balance) - int(owed)
    for (user, account), position in sorted(from_entries.items()):
        if stored.get((user, account), 0) != position:
            what = "is missing" if (user, account) not in stored else "differs from its entries"
            raise _Found(f"the {account} balance of {user} {what}")
    for (user, account), position in sorted(stored.items()):
        if position and (user, account) not in from_entries:
            raise _Found(f"the {account} balance of {user} has no entries")


def _check_day_totals(cursor: Any) -> None:
    """What each user was issued each local day against the current awards of its trips."""
    from_entries = {
        (user, int(day), account): int(total)
        for user, day, account, total in cursor.execute(
            "SELECT e.user_id, e.local_day, e.account, SUM(e.award_minor) FROM entries e JOIN ("
            "SELECT trip_id, MAX(seq) AS seq FROM entries "
            "WHERE kind IN ('credit', 'adjustment', 'reversal') GROUP BY trip_id) latest "
            "ON e.seq = latest.seq GROUP BY e.user_id, e.local_day, e.account"
        )
    }
    stored = {
        (user, int(day), account): int(issued)
        for user, day, account, issued in cursor.execute(
            "SELECT user_id, local_day, account, issued_minor FROM day_totals"
        )
    }
    for key in sorted(set(from_entries) | set(stored)):
        if from_entries.get(key, 0) != stored.get(key, 0):
            user, day, account = key
            what = "is missing" if key not in stored else "differs from its trips' awards"
            raise _Found(f"what {user} was issued on day {day} ({account}s) {what}")
