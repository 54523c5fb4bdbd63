"""``carbonfoot ledger``: init, credit, balance, history, redeem, review, reverse, recompute,
verify, export.

Each command opens the ledger (:mod:`carbonfoot.ledger`) named by ``--db`` and makes one
call on it; the database used is named on stderr. Only ``init`` and ``credit`` create a
ledger; every other command needs one to be there. Commands that only read or spend use
the settings the ledger records (``--policy`` picks another account).
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from carbonfoot.cli.options import (
    EngineRequest,
    FileRequest,
    build_engine,
    distance_unit_of,
    engine_options,
    trip_file_options,
    trip_format_of,
)
from carbonfoot.cli.render import printable
from carbonfoot.errors import InputError
from carbonfoot.money import to_value
from carbonfoot.times import date_of

if TYPE_CHECKING:
    from carbonfoot.engine import Engine
    from carbonfoot.ledger import Ledger

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
        "--policy",
        metavar="POLICY",
        help="The policy whose account to use (default: the ledger's own settings).",
    )(function)


def _open(db: str | None, engine: Engine | None, *, create: bool = False) -> Ledger:
    from carbonfoot.ledger import Ledger, open_store

    store = open_store(db, create=create)
    click.echo(f"ledger: {store.description} ({store.dialect})", err=True)
    try:
        return Ledger(store, engine)
    except BaseException:
        store.close()
        raise


def _engine_of(policy: str | None, policy_params: tuple[str, ...]) -> Engine | None:
    """An engine for another account, or None: the ledger's own settings."""
    if policy is None and not policy_params:
        return None
    engine, _ = build_engine(EngineRequest(policy=policy, policy_params=policy_params))
    return engine


@click.group()
def ledger() -> None:
    """The credit ledger: exactly-once crediting, balances, redemption, review, audit."""


@ledger.command()
@_db_option
def init(db: str | None) -> None:
    """Create an empty ledger at --db (nothing happens to one that is already there)."""
    from carbonfoot.ledger import open_store

    store = open_store(db, create=True)
    click.echo(f"ledger ready: {store.description} ({store.dialect})")
    store.close()


@ledger.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@_db_option
@engine_options
@trip_file_options
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
@click.option(
    "--change-settings",
    metavar="REASON",
    help="Pay new trips under this run's settings from now on, though they differ from the ledger's; the reason is recorded.",
)
def credit(
    input_path: Path,
    db: str | None,
    request: EngineRequest,
    files: FileRequest,
    distance_unit: str | None,
    chunk_rows: int,
    change_settings: str | None,
) -> None:
    """Credit every trip of INPUT once: safe to repeat, and to run from several processes.

    Without engine options, the trips are paid under the settings the ledger records.
    """
    from carbonfoot.io import read_trip_file

    given = request != EngineRequest()
    engine, config = build_engine(request, input_path) if given else (None, {})
    table = read_trip_file(
        input_path,
        trip_format=trip_format_of(files, config),
        known_columns=engine.provider_columns if engine is not None else (),
    )
    with _open(db, engine, create=True) as book:
        report = book.credit(
            table,
            distance_unit=distance_unit_of(distance_unit, config),
            chunk_rows=chunk_rows,
            on_conflict="skip",
            change_settings=change_settings,
        )
    if report.settings_changed:
        click.echo(f"settings changed: {'; '.join(report.settings_changed)}", err=True)
    click.echo(
        f"credited {report.credited:,} trips ({report.awarded} {report.account}s), replayed {report.replayed:,}, "
        f"quarantined {report.quarantined:,} (held for review), rejected {report.rejected:,}, "
        f"conflicts {len(report.conflicts):,}"
    )
    for trip, fields in report.conflicts[:20]:
        click.echo(
            f"conflict: trip {printable(trip)} was credited before with other {', '.join(fields)}",
            err=True,
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
    """Print what USER can spend (a plain number; --json for every account, with what the
    user owes after reversals of spent credits)."""
    with _open(db, _engine_of(policy, policy_params)) as book:
        if as_json:
            click.echo(json.dumps(book.balances(user).as_json(), ensure_ascii=False))
            return
        click.echo(str(book.balance(user)))


@ledger.command()
@click.argument("user")
@_db_option
@_policy_options
def history(user: str, db: str | None, policy: str | None, policy_params: tuple[str, ...]) -> None:
    """USER's entries, oldest first, tab-separated: seq, entry id, amount, local day, trip
    or item, and what it corrects or why (control characters shown escaped)."""
    with _open(db, _engine_of(policy, policy_params)) as book:
        for entry in book.history(user):
            day = entry["local_day"]
            when = day.isoformat() if day is not None else ""
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
            click.echo("\t".join(printable(field) for field in fields))


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
    with _open(db, _engine_of(policy, policy_params)) as book:
        receipt = book.redeem(user, amount, request_id, item)
    again = " (already redeemed: the original receipt)" if receipt.replayed else ""
    click.echo(
        f"redeemed {receipt.amount} {receipt.account}s for {printable(receipt.item)}, request "
        f"{printable(receipt.request_id)}; balance {receipt.balance_after}{again}"
    )


@ledger.group(invoke_without_command=True)
@_db_option
@click.pass_context
def review(ctx: click.Context, db: str | None) -> None:
    """Trips held for review (quarantined as suspect): list them, approve or refuse one."""
    ctx.obj = {"db": db}
    if ctx.invoked_subcommand is not None:
        return
    with _open(db, None) as book:
        pending = book.pending_review()
    for trip in pending:
        click.echo(
            "\t".join(
                printable(field)
                for field in (
                    trip.trip_id,
                    trip.user_id,
                    trip.mode,
                    f"{trip.distance_km:g} km",
                    date_of(trip.local_day).isoformat(),
                    trip.status,
                    trip.message or "",
                )
            )
        )
    click.echo(f"{len(pending):,} trip(s) held for review", err=True)


def _decide(
    ctx: click.Context,
    db: str | None,
    decision: str,
    trip_id: str,
    reason: str,
    reviewer: str | None,
) -> None:
    where = db if db is not None else ctx.obj.get("db") if ctx.obj else None
    who = reviewer or getpass.getuser()
    with _open(where, None) as book:
        done = (book.approve if decision == "approve" else book.refuse)(trip_id, reason, who)
    again = " (already decided: the original decision)" if done.replayed else ""
    click.echo(f"{done.decision} trip {printable(trip_id)}: {done.amount} ({done.entry_id}){again}")


@review.command()
@click.argument("trip_id")
@click.option("--reason", required=True, help="Why it is paid (recorded in the entry).")
@click.option("--reviewer", help="Who decides (default: this user's login name).")
@_db_option
@click.pass_context
def approve(
    ctx: click.Context, trip_id: str, reason: str, reviewer: str | None, db: str | None
) -> None:
    """Pay a quarantined trip what it would have earned (the daily cap still holds)."""
    _decide(ctx, db, "approve", trip_id, reason, reviewer)


@review.command()
@click.argument("trip_id")
@click.option("--reason", required=True, help="Why it is refused (recorded in the entry).")
@click.option("--reviewer", help="Who decides (default: this user's login name).")
@_db_option
@click.pass_context
def refuse(
    ctx: click.Context, trip_id: str, reason: str, reviewer: str | None, db: str | None
) -> None:
    """Refuse a quarantined trip for good."""
    _decide(ctx, db, "refuse", trip_id, reason, reviewer)


@ledger.command()
@_db_option
@click.option(
    "--head",
    "anchor",
    metavar="HASH",
    help="A head printed by an earlier verify (kept elsewhere): it must still be in the chain.",
)
def verify(db: str | None, anchor: str | None) -> None:
    """Check the hash chain, balances and day totals; print the chain's head (keep it
    elsewhere: with --head it shows a rewrite or a cut tail); exit 1 naming the first
    problem."""
    with _open(db, None) as book:
        report = book.verify(head=anchor or "")
    if report.ok:
        click.echo(
            f"ok: {report.entries:,} entries in {report.blocks:,} blocks, chain, balances and day totals intact"
        )
        click.echo(f"head: {report.head}")
        return
    click.echo(
        f"BROKEN: {report.problem}"
        + (
            f" (first bad entry: {printable(report.first_bad_entry)})"
            if report.first_bad_entry
            else ""
        )
    )
    sys.exit(1)


@ledger.command()
@click.option(
    "--factors", "factors", required=True, metavar="SET|FILE.toml", help="The new factor set."
)
@click.option("--since", required=True, help="First local day to recompute, YYYY-MM-DD.")
@click.option("--dry-run", is_flag=True, help="Show the effect by mode; write nothing.")
@click.option(
    "--baseline", metavar="MODE|MIX|METHOD", help="Another baseline (default: each trip's own)."
)
@click.option("--baseline-param", "baseline_params", multiple=True, metavar="NAME=VALUE")
@click.option(
    "--policy-param",
    "policy_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change a policy parameter (default: each trip's own); repeatable.",
)
@click.option("--adopt", is_flag=True, help="Also pay new trips with the new factors from now on.")
@_db_option
def recompute(
    factors: str,
    since: str,
    dry_run: bool,
    baseline: str | None,
    baseline_params: tuple[str, ...],
    policy_params: tuple[str, ...],
    adopt: bool,
    db: str | None,
) -> None:
    """Re-award credited trips from --since with new factors; write only the differences.

    Each trip keeps the settings it was credited under (policy, parameters, time zone,
    baseline) unless an option here says otherwise.
    """
    import datetime as dt

    from carbonfoot.cli.options import parse_params

    try:
        day = dt.date.fromisoformat(since)
    except ValueError:
        raise InputError(f"--since {since!r} is not a date like 2024-05-01") from None
    with _open(db, None) as book:
        report = book.recompute(
            factors,
            day,
            dry_run=dry_run,
            baseline=baseline,
            baseline_params=parse_params(baseline_params, "--baseline-param"),
            policy_params=parse_params(policy_params),
            adopt=adopt,
        )
    for settings in report.reused:
        click.echo(f"reusing the credited settings: {settings}")
    verb = "would adjust" if dry_run else "adjusted"
    click.echo(
        f"{verb} {report.adjusted:,} of {report.trips:,} trips with {report.factor_set}@{report.factor_set_hash[:12]}"
    )
    for mode, (count, total) in report.by_mode.items():
        click.echo(f"{mode}\t{count:,} trips\t{total:+} {report.account}s")
    for mode, count in report.kept.items():
        click.echo(
            f"{mode}\t{count:,} trips kept as credited: the new factor set cannot compute them"
        )
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

    with _open(db, None) as book:
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
    """Take back a trip's credits (e.g. found fraudulent) with a compensating entry; what
    the user already spent becomes owed, repaid from their next credits."""
    with _open(db, _engine_of(policy, policy_params)) as book:
        done = book.reverse(trip_id, reason)
        decimals = book.decimals
    amount = to_value(-done.amount_minor, decimals)
    owed = f"; {to_value(done.owed_minor, decimals)} owed" if done.owed_minor else ""
    click.echo(f"reversed trip {printable(trip_id)}: {amount} ({printable(done.entry_id)}){owed}")


COMMANDS = (ledger,)
