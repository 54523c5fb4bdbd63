"""The audit: does the ledger still say what was written, and do its totals follow from it?

:func:`verify_ledger` reads the whole ledger in one read transaction and runs small
checks in order, stopping at the first problem:

1. the chain: blocks are contiguous, every entry of a block is there, each entry's digest
   matches its content, each block's hash matches its entries and the block before it,
   and the head matches the last block;
2. the runs: each run's id is the hash of its settings, and every entry's run exists;
3. the counts: no entry lies outside the chain;
4. the balances: each stored balance equals the sum of its entries.

The report names the problem and, where there is one, the first bad entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from attrs import frozen

from carbonfoot.ledger.chain import block_hash, canonical_rows, digests, entries_hash, run_id
from carbonfoot.ledger.entries import ENTRY_COLUMNS
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


def verify_ledger(store: Store, *, page_blocks: int = 200) -> VerifyReport:
    """Check the chain block by block, the runs, the entry count and every balance."""
    walk = _Walk()
    with store.read() as cursor:
        try:
            _check_chain(cursor, walk, page_blocks)
            _check_runs(cursor)
            _check_count(cursor, walk.entries)
            _check_balances(cursor)
        except _Found as found:
            return VerifyReport(
                False, walk.entries, walk.blocks, found.problem, found.first_bad_entry
            )
    return VerifyReport(True, walk.entries, walk.blocks)


def _pages(cursor: Any, last_block: int, page_blocks: int) -> Iterator[list[tuple[Any, ...]]]:
    """The blocks in order, a page at a time."""
    start = 1
    while start <= last_block:
        page = cursor.execute(
            "SELECT block, first_seq, last_seq, prev_hash, entries_hash, block_hash FROM blocks "
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
        for block, first, last, prev_hash, content_hash, chained in page:
            walk.blocks += 1
            if int(first) != next_seq:
                raise _Found(
                    f"block {block} starts at entry {first}, expected {next_seq}", f"seq {next_seq}"
                )
            records = _block_entries(by_seq, int(block), int(first), int(last))
            _check_block(records, block, prev_hash, previous, content_hash)
            if block_hash(previous, int(block), int(first), int(last), content_hash) != chained:
                raise _Found(f"block {block} hash is wrong", str(records[0][1]))
            previous = chained
            walk.entries += len(records)
            next_seq = int(last) + 1
    if previous != head_hash or next_seq - 1 != int(head_seq):
        raise _Found("the chain's head does not match its last block")


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
    records: list[tuple[Any, ...]], block: int, prev_hash: str, previous: str, content_hash: str
) -> None:
    """Each entry's digest, then the block's content hash and its link to the last block."""
    columns = {name: [record[i] for record in records] for i, name in enumerate(ENTRY_COLUMNS)}
    canonical = canonical_rows(columns)
    for digest, stored, record in zip(digests(canonical), columns["digest"], records, strict=True):
        if digest != stored:
            raise _Found(f"entry {record[1]} (seq {record[0]}) was changed", str(record[1]))
    if entries_hash(canonical) != content_hash or prev_hash != previous:
        raise _Found(f"block {block} does not match its hash", str(records[0][1]))


def _check_runs(cursor: Any) -> None:
    for identifier, *fields in cursor.execute(
        "SELECT run_id, factor_set, factor_set_hash, baseline, policy, policy_params FROM runs"
    ):
        if run_id(*fields) != identifier:
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
    mismatched = cursor.execute(
        "SELECT b.user_id, b.account FROM balances b LEFT JOIN ("
        "SELECT user_id, account, SUM(amount_minor) AS total FROM entries GROUP BY user_id, account) e "
        "ON b.user_id = e.user_id AND b.account = e.account "
        "WHERE COALESCE(e.total, 0) <> b.balance_minor"
    )
    if mismatched:
        user, account = mismatched[0]
        raise _Found(f"the {account} balance of {user} differs from its entries")
