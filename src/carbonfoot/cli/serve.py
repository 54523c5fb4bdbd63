"""``carbonfoot serve`` (the HTTP service) and ``carbonfoot keys`` (its API keys).

``serve`` turns its options and config file into one
:class:`carbonfoot.service.ServiceSettings` and runs :func:`carbonfoot.service.create_app`
under uvicorn; with ``--workers N`` each worker process builds the application from the
same settings, handed over as ``CARBONFOOT_SERVICE_SETTINGS``. uvicorn stops gracefully on
SIGTERM: it stops accepting, lets requests in flight finish, then closes the ledgers.

``keys create`` prints the new key alone on stdout (so ``KEY=$(carbonfoot keys create
...)`` works); everything else goes to stderr. Keys live in the ledger database
(:mod:`carbonfoot.ledger.keys`).
"""

from __future__ import annotations

import os
from typing import Any

import click

from carbonfoot.cli.options import EngineRequest, engine_options, parse_params, read_config
from carbonfoot.errors import InputError

__all__ = ["COMMANDS", "keys", "serve"]


def _db_option(function: Any) -> Any:
    return click.option(
        "--db",
        "db",
        metavar="PATH|URL",
        help="SQLite file or postgresql:// URL (default: $CARBONFOOT_DATABASE_URL, else carbonfoot-ledger.db here).",
    )(function)


def _settings(db: str | None, request: EngineRequest, distance_unit: str | None) -> Any:
    """The service's settings: the environment's, then the config file's, then options."""
    from carbonfoot.service import ServiceSettings

    base = ServiceSettings.from_env()
    config = read_config(request.config_path)
    policy = config.get("policy", {})
    same_policy = request.policy is None or request.policy == policy.get("id", request.policy)
    policy_params = dict(policy.get("params", {})) if same_policy else {}
    policy_params.update(parse_params(request.policy_params))
    same_baseline = request.baseline is None or request.baseline == config.get(
        "baseline", request.baseline
    )
    baseline_params = dict(config.get("baseline_params", {})) if same_baseline else {}
    baseline_params.update(parse_params(request.baseline_params, "--baseline-param"))
    distance = dict(config.get("distance", {}))
    distance.update(parse_params(request.distance_options, "--distance-option"))
    if request.gtfs is not None:
        distance["gtfs"] = request.gtfs
    values: dict[str, Any] = {
        "max_body_bytes": base.max_body_bytes,
        "max_batch_trips": base.max_batch_trips,
        "pool_size": base.pool_size,
        "cors_origins": base.cors_origins,
        "rate_limit": base.rate_limit,
        "rate_burst": base.rate_burst,
        "database": db or base.database,
        "factors": request.factors or config.get("factors") or base.factors,
        "baseline": request.baseline or config.get("baseline") or base.baseline,
        "baseline_params": baseline_params or base.baseline_params,
        "policy": request.policy or policy.get("id") or base.policy,
        "policy_params": policy_params or base.policy_params,
        "distance_options": distance or base.distance_options,
        "plausibility": config.get("plausibility", base.plausibility),
        "fold_id_case": bool(config.get("ids", {}).get("fold_case", base.fold_id_case)),
        "distance_unit": distance_unit or config.get("distance_unit") or base.distance_unit,
    }
    return ServiceSettings(**values)


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's and the service's logs as one JSON object a line on stderr."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "carbonfoot.service.app.JsonLogFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            name: {"handlers": ["stderr"], "level": level, "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "carbonfoot.service")
        }
        | {"uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False}},
    }


@click.command()
@_db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes (each with its own ledger connections).",
)
@click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a trip has none (default km)."
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@engine_options
def serve(
    db: str | None,
    host: str,
    port: int,
    workers: int,
    distance_unit: str | None,
    log_level: str,
    request: EngineRequest,
) -> None:
    """Serve the HTTP API over the ledger at --db (created if missing).

    Without engine options, trips are paid under the settings the ledger records. Settings
    also come from CARBONFOOT_* environment variables (README, "The HTTP service").
    """
    try:
        import uvicorn
    except ImportError:
        raise InputError(
            "carbonfoot serve needs the serve extra: pip install 'carbonfoot[serve]'"
        ) from None
    from carbonfoot.service import create_app
    from carbonfoot.service.settings import SETTINGS_ENV

    settings = _settings(db, request, distance_unit)
    logging_config = _log_config(log_level.upper())
    if workers == 1:
        app: Any = create_app(settings)  # errors (a bad database, a bad factor set) show here
        click.echo(f"serving http://{host}:{port} ({app.state.pool.description})", err=True)
        uvicorn.run(
            app, host=host, port=port, log_config=logging_config, timeout_graceful_shutdown=30
        )
        return
    create_app(settings).state.pool.close()  # check the settings once, before forking
    os.environ[SETTINGS_ENV] = settings.to_json()
    click.echo(f"serving http://{host}:{port} with {workers} workers", err=True)
    uvicorn.run(
        "carbonfoot.service:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logging_config,
        timeout_graceful_shutdown=30,
    )


@click.group()
def keys() -> None:
    """API keys of the HTTP service, kept in the ledger database (only their digests)."""


@keys.command(name="create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    metavar="SCOPE",
    help="trips:write, quotes, accounts:read, redemptions:write, reports:read or admin; repeatable.",
)
@_db_option
def create(name: str, scopes: tuple[str, ...], db: str | None) -> None:
    """Register NAME with its scopes and print its new key (shown only this once)."""
    from carbonfoot.ledger import create_key, open_store

    store = open_store(db, create=True)
    try:
        key = create_key(store, name, scopes)
    finally:
        store.close()
    click.echo(key)
    click.echo(
        f"key {name!r} created in {store.description}; keep it: it is not shown again", err=True
    )


@keys.command(name="list")
@_db_option
def list_command(db: str | None) -> None:
    """List keys: name, scopes, created, and revoked (if so)."""
    from carbonfoot.ledger import list_keys, open_store

    store = open_store(db)
    try:
        found = list_keys(store)
    finally:
        store.close()
    for key in found:
        state = f"revoked {key.revoked_at}" if key.revoked_at else "active"
        click.echo(f"{key.name}\t{' '.join(key.scopes)}\t{key.created_at}\t{state}")


@keys.command()
@click.argument("name")
@_db_option
def revoke(name: str, db: str | None) -> None:
    """Revoke the key NAME: requests with it are refused from now on."""
    from carbonfoot.ledger import open_store, revoke_key

    store = open_store(db)
    try:
        key = revoke_key(store, name)
    finally:
        store.close()
    click.echo(f"key {key.name!r} revoked at {key.revoked_at}", err=True)


COMMANDS = (serve, keys)
