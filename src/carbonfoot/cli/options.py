"""The engine options every computing command takes, gathered into one request.

``calc``, ``explain``, ``uncertainty``, ``sensitivity`` and ``ledger credit`` take the same
options (factors, baseline and its parameters, policy and its parameters, a GTFS feed,
distance-provider options, a config file). :func:`engine_options` declares them once and
hands the command one frozen :class:`EngineRequest`; :func:`build_engine` turns a request
(and its config file) into an :class:`carbonfoot.Engine`. ``compare`` takes the same
options for both runs plus per-run ones (:func:`compare_options`: ``--a-policy-param``,
``--b-config``, ...) and receives two requests. Commands with fewer options (the ledger's
reads) build a request of their own.

The commands that read a trip file (``calc``, ``ledger credit``, ``uncertainty``,
``sensitivity``, ``compare``) also take :func:`trip_file_options`: the file's encoding,
delimiter and column mapping, merged with a config's ``[input]`` and ``[columns]`` tables
into one :class:`carbonfoot.io.TripFormat` by :func:`trip_format_of`.
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
    from carbonfoot.io import TripFormat

__all__ = [
    "EngineRequest",
    "FileRequest",
    "build_engine",
    "compare_options",
    "distance_unit_of",
    "engine_options",
    "parse_params",
    "read_config",
    "trip_file_options",
    "trip_format_of",
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
    "input",
    "columns",
)
#: What a config's ``[input]`` table may say about trip files.
INPUT_KEYS = ("encoding", "delimiter", "decimal_comma")


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


#: The per-run options of ``compare``: (field, option suffix, repeatable, metavar, help).
_SIDE_OPTIONS = (
    ("factors", "factors", False, "SET|FILE.toml", "factor set"),
    ("baseline", "baseline", False, "MODE|MIX|METHOD", "baseline"),
    ("baseline_params", "baseline-param", True, "NAME=VALUE", "baseline parameter; repeatable"),
    ("policy", "policy", False, "POLICY", "credit policy"),
    ("policy_params", "policy-param", True, "NAME=VALUE", "policy parameter; repeatable"),
    ("config_path", "config", False, "FILE.toml", "config file (instead of --config)"),
)
#: The options of ``calc`` that ``compare`` takes twice (``--factors A --factors B``).
_PAIRED = ("factors", "baseline", "policy")


def compare_options(function: F) -> F:
    """Add ``calc``'s engine options (for both runs) and per-run ones to ``compare``.

    Every engine option of ``calc`` applies to both runs; ``--factors``, ``--baseline``
    and ``--policy`` may be given twice (the first for A, the second for B); each
    ``--a-NAME`` / ``--b-NAME`` sets run A's or B's own value and wins over the shared
    one (parameters name by name). The command receives ``requests=(A, B)``.
    """

    @functools.wraps(function)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        shared = {name: kwargs.pop(name) for name in _FIELDS}
        sides = {
            side: {name: kwargs.pop(f"{side}_{name}") for name, *_ in _SIDE_OPTIONS}
            for side in ("a", "b")
        }
        return function(*args, requests=_pair_requests(shared, sides), **kwargs)

    command: Any = gathered
    for option in reversed(_side_options()):
        command = option(command)
    for option in reversed(_shared_options()):
        command = option(command)
    return command  # type: ignore[no-any-return]


def _shared_options() -> list[Callable[[Any], Any]]:
    options = []
    for option, name in zip(_OPTIONS, _FIELDS, strict=True):
        if name in _PAIRED:
            flag = "--" + name
            options.append(
                click.option(
                    flag,
                    name,
                    multiple=True,
                    metavar="A [B]",
                    help=f"As in calc, for both runs; give it twice for A and B ({flag} A {flag} B).",
                )
            )
        else:
            options.append(option)
    return options


def _side_options() -> list[Callable[[Any], Any]]:
    options = []
    for side in ("a", "b"):
        for name, suffix, repeatable, metavar, text in _SIDE_OPTIONS:
            options.append(
                click.option(
                    f"--{side}-{suffix}",
                    f"{side}_{name}",
                    multiple=repeatable,
                    metavar=metavar,
                    type=click.Path(dir_okay=False, path_type=Path)
                    if name == "config_path"
                    else None,
                    help=f"Run {side.upper()}'s own {text}.",
                )
            )
    return options


def _pair_requests(
    shared: dict[str, Any], sides: dict[str, dict[str, Any]]
) -> tuple[EngineRequest, EngineRequest]:
    """Run A's and B's requests; :class:`InputError` if they cannot differ or are malformed."""
    for name in _PAIRED:
        if len(shared[name]) > 2:
            raise InputError(f"compare takes --{name} at most twice (A, then B)")
    requests = []
    for index, side in enumerate(("a", "b")):
        own = sides[side]
        fields = dict(shared)
        for name in _PAIRED:
            values = shared[name]
            fields[name] = own[name] or (values[min(index, len(values) - 1)] if values else None)
        for name in ("baseline_params", "policy_params"):
            fields[name] = (*shared[name], *own[name])  # the run's own pairs win
        fields["config_path"] = own["config_path"] or shared["config_path"]
        for name, suffix in (
            ("baseline_params", "baseline-param"),
            ("policy_params", "policy-param"),
        ):
            parse_params(shared[name], f"--{suffix}")  # malformed pairs fail before any work
            parse_params(own[name], f"--{side}-{suffix}")
        parse_params(fields["distance_options"], "--distance-option")
        requests.append(EngineRequest(**fields))
    first, second = requests
    if first == second:
        raise InputError(
            "compare needs two runs that differ: --factors A --factors B (or two --baseline, "
            "two --policy), --a-policy-param/--b-policy-param, or --a-config/--b-config"
        )
    return first, second


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
    _check_input(path, config)
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


def _check_input(path: Path, config: dict[str, Any]) -> None:
    """``[input]`` and ``[columns]``: the trip file's format, each value of its type."""
    for table in ("input", "columns"):
        if not isinstance(config.get(table, {}), dict):
            raise InputError(f"{path}: [{table}] must be a table")
    given = config.get("input", {})
    unknown = sorted(set(given) - set(INPUT_KEYS))
    if unknown:
        raise InputError(
            f"{path}: "
            + "; ".join(
                unknown_message(
                    "key",
                    f"input.{name}",
                    [f"input.{k}" for k in INPUT_KEYS],
                    known_as="[input] takes",
                )
                for name in unknown
            )
        )
    for name in ("encoding", "delimiter"):
        if name in given and not isinstance(given[name], str):
            raise InputError(f"{path}: input.{name} must be text, got {given[name]!r}")
    if "decimal_comma" in given and not isinstance(given["decimal_comma"], bool):
        raise InputError(f"{path}: input.decimal_comma must be true or false")
    for target, source in config.get("columns", {}).items():
        if not isinstance(source, str):
            raise InputError(
                f"{path}: [columns] maps carbonfoot's column to the file's: "
                f'{target} = "{source}" (text), got {source!r}'
            )


@frozen
class FileRequest:
    """How the command line says a trip file was written; None where it says nothing."""

    encoding: str | None = None
    delimiter: str | None = None
    columns: tuple[str, ...] = ()


_FILE_OPTIONS = (
    click.option(
        "--encoding",
        metavar="NAME",
        help="Text encoding of a CSV file: utf-8, utf-16, gb18030 (GBK), ... (default: detected).",
    ),
    click.option(
        "--delimiter",
        metavar="CHAR",
        help="Field delimiter of a CSV file, e.g. ';' or tab (default ','); with one other "
        "than ',', decimal commas (2,5) are read too.",
    ),
    click.option(
        "--column",
        "columns",
        multiple=True,
        metavar="TARGET=SOURCE",
        help="Read the file's column SOURCE as carbonfoot's TARGET, e.g. trip_id=id; repeatable.",
    ),
)


def trip_file_options(function: F) -> F:
    """Add the trip-file options to a command; it receives them as ``files=FileRequest``."""

    @functools.wraps(function)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        files = FileRequest(
            kwargs.pop("encoding"), kwargs.pop("delimiter"), tuple(kwargs.pop("columns"))
        )
        return function(*args, files=files, **kwargs)

    command: Any = gathered
    for option in reversed(_FILE_OPTIONS):
        command = option(command)
    return command  # type: ignore[no-any-return]


def trip_format_of(files: FileRequest, config: dict[str, Any]) -> TripFormat:
    """The trip file's format: the command line over the config's ``[input]`` and
    ``[columns]`` (a target mapped on the command line replaces the config's mapping)."""
    from carbonfoot.io import TripFormat

    given = config.get("input", {})
    columns = dict(config.get("columns", {}))
    for target, source in parse_params(files.columns, "--column").items():
        columns[target] = source
    return TripFormat.from_settings(
        encoding=files.encoding or given.get("encoding"),
        delimiter=files.delimiter or given.get("delimiter"),
        decimal_comma=given.get("decimal_comma"),
        columns=columns,
    )
