"""``carbonfoot ledger``: credit, balance, history, redeem, verify, recompute, export, reverse.

Each command opens the ledger (:mod:`carbonfoot.ledger`) named by ``--db`` and makes one
call on it; the database used is named on stderr.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from carbonfoot.cli.options import EngineRequest, build_engine, distance_unit_of, engine_options
from carbonfoot.errors import InputError
from carbonfoot.money import to_value
from carbonfoot.times import date_of

__all__ = ["COMMANDS", "ledger"]


def _db_option(function: Any) -> Any:
    return click.option(
        "--db",
        "db",
        metavar="PATH|URL",
        help="SQLite file or postgresql:// URL (default: $CARBONFOOT_DATABASE_URL, else carbonfoot-ledger.db here).",
    )(function)


def _policy_options(function: Any) -> Any:
    function = click.option("--policy-param", "policy_params", multiple=True, metavar="NAME=VALUE")(
        function
    )
    return click.option(
        "--policy", metavar="POLICY", help="The policy whose account to use (default green-credit)."
    )(function)


def _open(db: str | None, engine: Any) -> Any:
    from carbonfoot.ledger import Ledger, open_store

    store = open_store(db)
    click.echo(f"ledger: {store.description} ({store.dialect})", err=True)
    return Ledger(store, engine)


def _simple_engine(policy: str | None, policy_params: tuple[str, ...]) -> Any:
    engine, _ = build_engine(EngineRequest(policy=policy, policy_params=policy_params))
    return engine


@click.group()
def ledger() -> None:
    """The credit ledger: exactly-once crediting, balances, redemption, audit."""


@ledger.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@_db_option
@engine_options
@click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a row has none (default km)."
)
@click.option(
    "--chunk-rows",
    default=50_000,
    show_default=True,
    type=click.IntRange(1),
    help="Trips per transaction.",
)
def credit(
    input_path: Path,
    db: str | None,
    request: EngineRequest,
    distance_unit: str | None,
    chunk_rows: int,
) -> None:
    """Credit every trip of INPUT once: safe to repeat, and to run from several processes."""
    from carbonfoot.io import read_trip_file

    engine, config = build_engine(request)
    table = read_trip_file(input_path)
    with _open(db, engine) as book:
        report = book.credit(
            table,
            distance_unit=distance_unit_of(distance_unit, config),
            chunk_rows=chunk_rows,
            on_conflict="skip",
        )
    click.echo(
        f"credited {report.credited:,} trips ({report.awarded} {report.account}s), replayed {report.replayed:,}, "
        f"not credited {report.not_credited:,} (rejected or quarantined), conflicts {len(report.conflicts):,}"
    )
    for trip, fields in report.conflicts[:20]:
        click.echo(
            f"conflict: trip {trip!r} was credited before with other {', '.join(fields)}", err=True
        )
    if report.conflicts:
        sys.exit(1)


@ledger.command()
@click.argument("user")
@_db_option
@_policy_options
@click.option("--json", "as_json", is_flag=True, help="Every account, as JSON.")
def balance(
    user: str, db: str | None, policy: str | None, policy_params: tuple[str, ...], as_json: bool
) -> None:
    """Print USER's balance (a plain number; --json for every account)."""
    engine = _simple_engine(policy, policy_params)
    with _open(db, engine) as book:
        balances = book.balance(user)
    if as_json:
        click.echo(
            json.dumps({"user_id": user, "balances": {k: str(v) for k, v in balances.items()}})
        )
    else:
        click.echo(str(balances.get(engine.policy.unit, to_value(0, engine.policy.decimals))))


@ledger.command()
@click.argument("user")
@_db_option
@_policy_options
def history(user: str, db: str | None, policy: str | None, policy_params: tuple[str, ...]) -> None:
    """USER's entries, oldest first, tab-separated: seq, entry id, amount, local day, trip
    or item, and what it corrects or why."""
    with _open(db, _simple_engine(policy, policy_params)) as book:
        for entry in book.history(user):
            day = entry["local_day"]
            when = date_of(int(day)).isoformat() if day is not None else ""
            subject = entry["item"] or entry["mode"] or ""
            extra = [f"corrects {entry['corrects']}"] if entry["corrects"] else []
            extra += [entry["note"]] if entry["note"] else []
            fields = [
                str(entry["seq"]),
                entry["entry_id"],
                f"{entry['amount']} {entry['account']}",
                when,
                subject,
                *extra,
            ]
            click.echo("\t".join(fields))


@ledger.command()
@click.argument("user")
@click.argument("amount")
@click.option(
    "--request-id",
    required=True,
    help="Idempotency key: a retry with the same id returns the receipt.",
)
@click.option("--item", required=True, help="What the credits buy in the green shop.")
@_db_option
@_policy_options
def redeem(
    user: str,
    amount: str,
    request_id: str,
    item: str,
    db: str | None,
    policy: str | None,
    policy_params: tuple[str, ...],
) -> None:
    """Spend AMOUNT of USER's balance; never overdraws."""
    with _open(db, _simple_engine(policy, policy_params)) as book:
        receipt = book.redeem(user, amount, request_id, item)
    again = " (already redeemed: the original receipt)" if receipt.replayed else ""
    click.echo(
        f"redeemed {receipt.amount} {receipt.account}s for {receipt.item!r}, request {receipt.request_id}; "
        f"balance {receipt.balance_after}{again}"
    )


@ledger.command()
@_db_option
def verify(db: str | None) -> None:
    """Check the hash chain and balances; exit non-zero naming the first bad entry."""
    with _open(db, _simple_engine(None, ())) as book:
        report = book.verify()
    if report.ok:
        click.echo(
            f"ok: {report.entries:,} entries in {report.blocks:,} blocks, chain and balances intact"
        )
        return
    click.echo(
        f"BROKEN: {report.problem}"
        + (f" (first bad entry: {report.first_bad_entry})" if report.first_bad_entry else "")
    )
    sys.exit(1)


@ledger.command()
@click.option(
    "--factors", "factors", required=True, metavar="SET|FILE.toml", help="The new factor set."
)
@click.option("--since", required=True, help="First local day to recompute, YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="Show the effect by mode; write nothing.")
@click.option("--baseline", metavar="MODE|MIX|METHOD")
@_db_option
@_policy_options
def recompute(
    factors: str,
    since: str,
    dry_run: bool,
    baseline: str | None,
    db: str | None,
    policy: str | None,
    policy_params: tuple[str, ...],
) -> None:
    """Re-award credited trips from --since with new factors; write only the differences."""
    try:
        day = dt.date.fromisoformat(since)
    except ValueError:
        raise InputError(f"--since {since!r} is not a date like 2024-05-01") from None
    engine, _ = build_engine(
        EngineRequest(
            factors=factors, baseline=baseline, policy=policy, policy_params=policy_params
        )
    )
    with _open(db, engine) as book:
        report = book.recompute(engine, day, dry_run=dry_run)
    verb = "would adjust" if dry_run else "adjusted"
    click.echo(
        f"{verb} {report.adjusted:,} of {report.trips:,} trips with {report.factor_set}@{report.factor_set_hash[:12]}"
    )
    for mode, (count, total) in report.by_mode.items():
        click.echo(f"{mode}\t{count:,} trips\t{total:+} {report.account}s")
    if report.shortfall:
        click.echo(
            f"shortfall (already spent, not taken back): {report.shortfall} {report.account}s"
        )


@ledger.command()
@click.option(
    "-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_db_option
def export(output_path: Path, db: str | None) -> None:
    """Write every entry, in chain order, to a .csv or .parquet file."""
    from carbonfoot.io import write_result_file

    with _open(db, _simple_engine(None, ())) as book:
        table = book.export()
    write_result_file(table, output_path)
    click.echo(f"wrote {table.num_rows:,} entries to {output_path}")


@ledger.command()
@click.argument("trip_id")
@click.option(
    "--reason", required=True, help="Why the credits are taken back (recorded in the entry)."
)
@_db_option
@_policy_options
def reverse(
    trip_id: str, reason: str, db: str | None, policy: str | None, policy_params: tuple[str, ...]
) -> None:
    """Take back a trip's credits (e.g. found fraudulent) with a compensating entry."""
    with _open(db, _simple_engine(policy, policy_params)) as book:
        done = book.reverse(trip_id, reason)
    amount = to_value(-done.amount_minor, book.decimals)
    click.echo(f"reversed trip {trip_id}: {amount} ({done.entry_id})")


COMMANDS = (ledger,)
