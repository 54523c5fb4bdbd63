"""The engine options every computing command takes, gathered into one request.

``calc``, ``explain``, ``uncertainty``, ``sensitivity`` and ``ledger credit`` take the same
options (factors, baseline and its parameters, policy and its parameters, a GTFS feed,
distance-provider options, a config file). :func:`engine_options` declares them once and
hands the command one frozen :class:`EngineRequest`; :func:`build_engine` turns a request
(and its config file) into an :class:`carbonfoot.Engine`. Commands with fewer options
(``compare``, the ledger's reads) build a request of their own.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from attrs import frozen

from carbonfoot.errors import InputError, unknown_message

if TYPE_CHECKING:
    from carbonfoot.engine import Engine

__all__ = [
    "EngineRequest",
    "build_engine",
    "distance_unit_of",
    "engine_options",
    "parse_params",
    "read_config",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The settings a config file may hold.
CONFIG_KEYS = (
    "factors",
    "baseline",
    "baseline_params",
    "distance_unit",
    "policy",
    "distance",
    "plausibility",
    "ids",
)


@frozen
class EngineRequest:
    """What a command line asks of the engine; ``NAME=VALUE`` pairs not yet parsed."""

    factors: str | None = None
    baseline: str | None = None
    baseline_params: tuple[str, ...] = ()
    policy: str | None = None
    policy_params: tuple[str, ...] = ()
    config_path: Path | None = None
    distance_options: tuple[str, ...] = ()
    gtfs: str | None = None
    gpx: str | None = None


_OPTIONS = (
    click.option(
        "--factors",
        "factors",
        metavar="SET|FILE.toml",
        help="Factor set name (see `carbonfoot factors`), or a TOML file (e.g. overrides that extend a set).",
    ),
    click.option(
        "--baseline",
        metavar="MODE|MIX|METHOD",
        help="Baseline: a mode, a mix like 'car:0.6,taxi:0.1,bus:0.3', or a methodology (see `carbonfoot baselines`).",
    ),
    click.option(
        "--baseline-param",
        "baseline_params",
        multiple=True,
        metavar="NAME=VALUE",
        help="A baseline-methodology parameter; repeatable.",
    ),
    click.option("--policy", metavar="POLICY", help="Credit policy (see `carbonfoot policies`)."),
    click.option(
        "--policy-param",
        "policy_params",
        multiple=True,
        metavar="NAME=VALUE",
        help="A policy parameter; repeatable.",
    ),
    click.option(
        "--gtfs",
        metavar="PATH",
        help="GTFS feed (zip or folder) for trips given as from_stop/to_stop.",
    ),
    click.option(
        "--gpx",
        metavar="DIR",
        help="Folder of the GPX files a gpx column names (default: the trips file's folder).",
    ),
    click.option(
        "--distance-option",
        "distance_options",
        multiple=True,
        metavar="NAME=VALUE",
        help="A distance-provider option, e.g. step_length='0.7 m'; repeatable.",
    ),
    click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="TOML file with factors, baseline, distance_unit and [policy] id and params.",
    ),
)
_FIELDS = (
    "factors",
    "baseline",
    "baseline_params",
    "policy",
    "policy_params",
    "config_path",
    "distance_options",
    "gtfs",
    "gpx",
)


def engine_options(function: F) -> F:
    """Add the engine options to a command; it receives them as ``request=EngineRequest``."""

    @functools.wraps(function)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        request = EngineRequest(**{name: kwargs.pop(name) for name in _FIELDS})
        return function(*args, request=request, **kwargs)

    command: Any = gathered
    for option in reversed(_OPTIONS):
        command = option(command)
    return command  # type: ignore[no-any-return]


def read_config(path: Path | None) -> dict[str, Any]:
    """The settings of a TOML config file, each checked for its type."""
    if path is None:
        return {}
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read config ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise InputError(
            f"{path}: "
            + "; ".join(
                unknown_message("setting", name, sorted(CONFIG_KEYS), known_as="allowed")
                for name in unknown
            )
        )
    for name in ("factors", "baseline", "distance_unit"):
        if name in config and not isinstance(config[name], str):
            raise InputError(f"{path}: {name} must be text, got {config[name]!r}")
    policy = config.get("policy", {})
    if not isinstance(policy, dict) or not isinstance(policy.get("id", ""), str):
        raise InputError(f"{path}: [policy] must be a table with id (text) and [policy.params]")
    strays = sorted(set(policy) - {"id", "params"})
    if strays:
        hint = (
            "; policy parameters go in a [policy.params] table"
            if any(name not in ("param", "parameters") for name in strays)
            else ""
        )
        raise InputError(
            f"{path}: "
            + "; ".join(
                unknown_message(
                    "key",
                    f"policy.{name}",
                    ["policy.id", "policy.params"],
                    known_as="[policy] takes",
                )
                for name in strays
            )
            + hint
        )
    if not isinstance(policy.get("params", {}), dict):
        raise InputError(f"{path}: [policy.params] must be a table of NAME = VALUE")
    for table in ("baseline_params", "distance", "plausibility", "ids"):
        if not isinstance(config.get(table, {}), dict):
            raise InputError(f"{path}: [{table}] must be a table")
    ids = config.get("ids", {})
    if set(ids) - {"fold_case"} or not isinstance(ids.get("fold_case", False), bool):
        raise InputError(
            f"{path}: [ids] takes fold_case = true or false (compare ids ignoring case)"
        )
    return config


def parse_params(pairs: tuple[str, ...], option: str = "--policy-param") -> dict[str, str]:
    """``NAME=VALUE`` pairs of a repeatable option as a mapping (later pairs win)."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InputError(f"{option} {pair!r} is not NAME=VALUE")
        params[name.strip()] = value.strip()
    return params


def build_engine(
    request: EngineRequest, trips_path: Path | None = None
) -> tuple[Engine, dict[str, Any]]:
    """The engine a request asks for, and its config file's settings.

    Options on the command line win over the config file; a config's parameters belong
    to the config's policy (and baseline) and do not follow an override of it. GPX file
    names are relative to ``--gpx``, else the config's ``gpx_folder``, else the folder of
    ``trips_path``, the trips file. Plugins that failed to load are reported as warnings
    on stderr.
    """
    from carbonfoot.engine import Engine

    config = read_config(request.config_path)
    policy_config = config.get("policy", {})
    same_policy = request.policy is None or request.policy == policy_config.get(
        "id", request.policy
    )
    params: dict[str, Any] = dict(policy_config.get("params", {})) if same_policy else {}
    params.update(parse_params(request.policy_params))
    same_baseline = request.baseline is None or request.baseline == config.get(
        "baseline", request.baseline
    )
    method_params: dict[str, Any] = dict(config.get("baseline_params", {})) if same_baseline else {}
    method_params.update(parse_params(request.baseline_params, "--baseline-param"))
    distance = dict(config.get("distance", {}))
    distance.update(parse_params(request.distance_options, "--distance-option"))
    if request.gtfs is not None:
        distance["gtfs"] = request.gtfs
    if request.gpx is not None:
        distance["gpx_folder"] = request.gpx
    elif trips_path is not None and "gpx_folder" not in distance:
        distance["gpx_folder"] = str(trips_path.parent)
    engine = Engine(
        request.factors or config.get("factors"),
        baseline=request.baseline or config.get("baseline"),
        baseline_params=method_params,
        policy=request.policy or policy_config.get("id"),
        policy_params=params,
        distance_options=distance,
        plausibility=config.get("plausibility"),
        fold_id_case=bool(config.get("ids", {}).get("fold_case", False)),
    )
    for error in engine.catalog.errors:
        click.echo(f"warning: {error}", err=True)
    return engine, config


def distance_unit_of(option: str | None, config: dict[str, Any]) -> str:
    """The unit of ``distance`` where a row has none: the option, the config, else km."""
    return option or config.get("distance_unit") or "km"
