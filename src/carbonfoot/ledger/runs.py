"""Runs and settings: how the ledger pays, remembered by the ledger itself.

A *run* is one engine's settings (:class:`carbonfoot.engine.EngineSettings`: factor set
and content hash, baseline and its parameters, policy and its parameters, time zone
among them), stored once in the ``runs`` table under an id that is the hash of its
content; every credit, quarantine and adjustment names the run that computed it.

The *settings* of an account are the run its new trips are credited under: a ``settings``
entry records each change (the first credit adopts the run it brings). A batch under other
settings is refused unless the change is asked for and recorded, so that a cap, a rate or
a time zone is a property of the ledger, not of whoever runs the next command.
"""

from __future__ import annotations

import json
from typing import Any

from carbonfoot.engine import Engine, EngineSettings
from carbonfoot.errors import LedgerError
from carbonfoot.ledger.chain import settings_run_id
from carbonfoot.ledger.entries import Settings, append_block

__all__ = ["adopt_settings", "current_settings", "record_run", "run_settings"]


def _stored(engine: Engine) -> tuple[str, ...]:
    """A run's fields as the ``runs`` table stores them."""
    settings = engine.settings
    return (
        settings.factor_set,
        settings.factor_set_hash,
        engine.run_info.baseline,
        settings.policy,
        json.dumps(dict(settings.policy_params), sort_keys=True),
        settings.baseline,
        json.dumps(dict(settings.baseline_params), sort_keys=True),
    )


def record_run(cursor: Any, engine: Engine) -> str:
    """The id of ``engine``'s settings, recorded once in the runs table."""
    fields = _stored(engine)
    identifier = settings_run_id(fields)
    cursor.execute(
        "INSERT INTO runs (run_id, factor_set, factor_set_hash, baseline, policy, policy_params, "
        "baseline_request, baseline_params) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (run_id) DO NOTHING",
        (identifier, *fields),
    )
    return identifier


def run_settings(cursor: Any, identifier: str) -> EngineSettings:
    """The settings of a recorded run (a run of schema 1 has its baseline as resolved)."""
    found = cursor.execute(
        "SELECT factor_set, factor_set_hash, baseline, policy, policy_params, baseline_request, "
        "baseline_params FROM runs WHERE run_id = ?",
        (identifier,),
    )
    if not found:
        raise LedgerError(f"the ledger names run {identifier}, which it does not hold")
    factor_set, digest, baseline, policy, params, request, baseline_params = found[0]
    return EngineSettings(
        factor_set=factor_set,
        factor_set_hash=digest,
        baseline=request if request is not None else baseline,
        baseline_params=json.loads(baseline_params) if baseline_params else {},
        policy=policy,
        policy_params=json.loads(params),
    )


def current_settings(cursor: Any, account: str) -> tuple[str, int] | None:
    """The run new trips of ``account`` are credited under and how many changes there have
    been, or None before the first credit."""
    found = cursor.execute(
        "SELECT run_id, entry_id FROM entries WHERE kind = 'settings' AND account = ? "
        "ORDER BY seq DESC LIMIT 1",
        (account,),
    )
    if not found:
        return None
    run, entry_id = found[0]
    return str(run), int(str(entry_id).rsplit(":", 1)[-1])


def adopt_settings(
    cursor: Any, engine: Engine, account: str, change: str | None
) -> tuple[str, list[str]]:
    """Make sure new trips of ``account`` are paid under ``engine``'s settings.

    The first credit of an account adopts them; after that, other settings are refused
    unless ``change`` gives the reason for the change, which is then recorded. Returns the
    run id and the settings that changed (empty if none did).
    """
    run = record_run(cursor, engine)
    current = current_settings(cursor, account)
    if current is not None and current[0] == run:
        return run, []
    differences = (
        [] if current is None else engine.settings.differences(run_settings(cursor, current[0]))
    )
    if current is not None and change is None:
        recorded = run_settings(cursor, current[0])
        raise LedgerError(
            f"this ledger pays {account}s under {recorded.describe()}; this run differs in "
            f"{'; '.join(differences)}. To pay new trips under this run's settings from now on, "
            "credit with --change-settings REASON (the change is recorded in the ledger); to "
            "pay credited trips again under other factors, use `ledger recompute`"
        )
    _require_cap(engine)
    note = change or "the first credit of this account"
    sequence = 1 if current is None else current[1] + 1
    append_block(cursor, Settings(account, run, sequence, note))
    return run, differences


def _require_cap(engine: Engine) -> None:
    """A ledger never issues credits with no daily cap unless the settings say so."""
    params = engine.policy.params
    if "daily_cap" in params and params["daily_cap"] is None:
        raise LedgerError(
            f"policy {engine.policy.id!r} has no daily cap; the ledger issues credits only under "
            "a cap: give daily_cap=N, or daily_cap=unlimited to issue without one "
            "(--policy-param daily_cap=..., or daily_cap in the config's [policy.params])"
        )
