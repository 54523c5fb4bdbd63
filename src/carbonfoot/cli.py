"""The ``carbonfoot`` command. It imports the library; the library never imports it.

Every library error is printed as one line on stderr, ``error: ...``, with exit status
2; a file with some bad rows is not an error (the rows come back with a status).
"""

from __future__ import annotations

import functools
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click

from carbonfoot.errors import CarbonfootError, InputError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_ERROR = 2
#: Inputs larger than this are streamed in bounded memory instead of read whole.
STREAM_ABOVE_BYTES = 1 << 30
_PROGRESS_MIN_BYTES = 16 << 20


def _fail_cleanly(function: F) -> F:
    """Turn a CarbonfootError into a one-line message and a non-zero exit."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except CarbonfootError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="carbonfoot")
def main() -> None:
    """carbonfoot: CO2 savings of low-carbon trips, and the credits or coins they earn."""


# -- shared options -------------------------------------------------------------------


def _engine_options(function: F) -> F:
    options = [
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
        click.option(
            "--policy", metavar="POLICY", help="Credit policy (see `carbonfoot policies`)."
        ),
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
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _read_config(path: Path | None) -> dict[str, Any]:
    """The settings of a TOML config file, each checked for its type."""
    if path is None:
        return {}
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read config ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    allowed = {
        "factors",
        "baseline",
        "baseline_params",
        "distance_unit",
        "policy",
        "distance",
        "plausibility",
    }
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise InputError(
            f"{path}: unknown setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        )
    for name in ("factors", "baseline", "distance_unit"):
        if name in config and not isinstance(config[name], str):
            raise InputError(f"{path}: {name} must be text, got {config[name]!r}")
    policy = config.get("policy", {})
    if not isinstance(policy, dict) or not isinstance(policy.get("id", ""), str):
        raise InputError(f"{path}: [policy] must be a table with id (text) and [policy.params]")
    if not isinstance(policy.get("params", {}), dict):
        raise InputError(f"{path}: [policy.params] must be a table of NAME = VALUE")
    for table in ("baseline_params", "distance", "plausibility"):
        if not isinstance(config.get(table, {}), dict):
            raise InputError(f"{path}: [{table}] must be a table")
    return config


def _parse_params(pairs: tuple[str, ...], option: str = "--policy-param") -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise InputError(f"{option} {pair!r} is not NAME=VALUE")
        params[name.strip()] = value.strip()
    return params


def _build_engine(
    factors: str | None,
    baseline: str | None,
    policy: str | None,
    policy_params: tuple[str, ...],
    config_path: Path | None,
    baseline_params: tuple[str, ...] = (),
    distance_options: tuple[str, ...] = (),
    gtfs: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    from carbonfoot.engine import Engine

    config = _read_config(config_path)
    policy_config = config.get("policy", {})
    # A config's parameters belong to the config's policy: they do not follow an override.
    same_policy = policy is None or policy == policy_config.get("id", policy)
    params: dict[str, Any] = dict(policy_config.get("params", {})) if same_policy else {}
    params.update(_parse_params(policy_params))
    same_baseline = baseline is None or baseline == config.get("baseline", baseline)
    method_params: dict[str, Any] = dict(config.get("baseline_params", {})) if same_baseline else {}
    method_params.update(_parse_params(baseline_params, "--baseline-param"))
    distance = dict(config.get("distance", {}))
    distance.update(_parse_params(distance_options, "--distance-option"))
    if gtfs is not None:
        distance["gtfs"] = gtfs
    engine = Engine(
        factors or config.get("factors"),
        baseline=baseline or config.get("baseline"),
        baseline_params=method_params,
        policy=policy or policy_config.get("id"),
        policy_params=params,
        distance_options=distance,
        plausibility=config.get("plausibility"),
    )
    for error in engine.catalog.errors:
        click.echo(f"warning: {error}", err=True)
    return engine, config


# -- calc -----------------------------------------------------------------------------


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Result file, .csv or .parquet.",
)
@_engine_options
@click.option(
    "--distance-unit",
    metavar="UNIT",
    help="Unit of `distance` where a row has no distance_unit (default km).",
)
@click.option("--append", is_flag=True, help="Add the rows to OUTPUT instead of replacing it.")
@click.option(
    "--stream",
    is_flag=True,
    help=f"Stream the file in bounded memory (automatic above {STREAM_ABOVE_BYTES >> 20} MiB); same results.",
)
@click.option(
    "--chunk-rows",
    default=500_000,
    show_default=True,
    type=click.IntRange(1_000),
    help="Rows read at a time when streaming, or per partition on Dask (memory grows with it).",
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write every rejected row, with its original values, status and message.",
)
@click.option(
    "--workers",
    type=click.IntRange(1),
    metavar="N",
    help="Run on a local Dask cluster of N worker processes (needs carbonfoot[dask]); same results.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on an existing Dask cluster, e.g. tcp://10.0.0.5:8786; its workers must see INPUT at the same path.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary table.")
@_fail_cleanly
def calc(
    input_path: Path,
    output_path: Path,
    factors: str | None,
    baseline: str | None,
    baseline_params: tuple[str, ...],
    policy: str | None,
    policy_params: tuple[str, ...],
    config_path: Path | None,
    gtfs: str | None,
    distance_options: tuple[str, ...],
    distance_unit: str | None,
    append: bool,
    stream: bool,
    chunk_rows: int,
    rejects_path: Path | None,
    workers: int | None,
    scheduler: str | None,
    quiet: bool,
) -> None:
    """Compute savings and credits for every trip in INPUT; write one row per trip to OUTPUT.

    With --workers or --scheduler the job runs on Dask, partition by partition (about
    --chunk-rows rows each), with the same output and summary.
    """
    from carbonfoot.io import (
        append_result_file,
        file_format,
        read_trip_file,
        recorded_factor_sets,
        write_result_file,
    )

    file_format(output_path)
    on_dask = workers is not None or scheduler is not None
    if on_dask:
        _check_dask_options(workers, scheduler, stream, append)
    if (
        output_path.exists()
        and input_path.exists()
        and output_path.resolve() == input_path.resolve()
    ):
        raise InputError(f"{output_path}: the output would overwrite the input; choose another -o")
    engine, config = _build_engine(
        factors,
        baseline,
        policy,
        policy_params,
        config_path,
        baseline_params,
        distance_options,
        gtfs,
    )
    unit = distance_unit or config.get("distance_unit") or "km"
    started = time.perf_counter()
    this_run = (engine.factor_set.name, engine.factor_set.content_hash)
    size = input_path.stat().st_size if input_path.is_file() else 0
    if on_dask:
        _warn_other_factor_content(
            recorded_factor_sets(output_path) - {this_run}, output_path, this_run, append
        )
        summary = _calc_on_dask(
            engine, input_path, output_path, unit, chunk_rows, rejects_path, workers, scheduler
        )
        if not quiet:
            _print_summary(summary, engine.run_info, output_path, time.perf_counter() - started)
        return
    if stream or size > STREAM_ABOVE_BYTES:
        if append:
            raise InputError(
                "--append works on files computed in memory; write the streamed run to a new file"
            )
        _warn_other_factor_content(
            recorded_factor_sets(output_path) - {this_run}, output_path, this_run, append
        )
        summary = _stream(engine, input_path, output_path, unit, chunk_rows, rejects_path, quiet)
        if not quiet:
            _print_summary(summary, engine.run_info, output_path, time.perf_counter() - started)
        return
    with _progress(input_path, quiet) as advance:
        table = read_trip_file(input_path, on_bytes=advance)
    results = engine.compute(table, distance_unit=unit)
    _warn_other_factor_content(
        recorded_factor_sets(output_path) - {this_run}, output_path, this_run, append
    )
    if append:
        append_result_file(results.table, output_path)
    else:
        write_result_file(results.table, output_path)
    if rejects_path is not None:
        write_result_file(results.rejected(table), rejects_path)
    elapsed = time.perf_counter() - started
    if not quiet:
        _print_summary(results.summary, results.info, output_path, elapsed)


def _warn_other_factor_content(
    earlier: set[tuple[str, str]], output_path: Path, this_run: tuple[str, str], append: bool
) -> None:
    for name, digest in sorted(earlier):
        action = "appends to" if append else "replaces"
        click.echo(
            f"warning: {output_path} holds results of factor set {name}@{digest[:12]}; this run ({action} it) "
            f"uses {this_run[0]}@{this_run[1][:12]}: the factor content differs",
            err=True,
        )


def _check_dask_options(
    workers: int | None, scheduler: str | None, stream: bool, append: bool
) -> None:
    if workers is not None and scheduler is not None:
        raise InputError("give --workers N (a local cluster) or --scheduler ADDRESS, not both")
    if stream:
        raise InputError(
            "--stream runs in this process; with --workers or --scheduler, leave it out"
        )
    if append:
        raise InputError(
            "--append works on files computed in one process; write the Dask run to a new file"
        )


def _calc_on_dask(
    engine: Any,
    input_path: Path,
    output_path: Path,
    unit: str,
    partition_rows: int,
    rejects: Path | None,
    workers: int | None,
    scheduler: str | None,
) -> Any:
    """The calc job on a Dask cluster: the same rows, order, rejects and summary."""
    from carbonfoot.io import file_format

    try:
        from carbonfoot import dask as on_dask
    except ImportError as exc:
        raise CarbonfootError(str(exc)) from None
    file_format(input_path)
    if not input_path.is_file():
        raise InputError(f"{input_path}: no such file")  # before starting a cluster
    try:
        with on_dask.cluster_client(workers=workers, scheduler=scheduler) as client:
            trips, schema = on_dask.read_trip_file(
                input_path, partition_rows=partition_rows, client=client
            )
            results = on_dask.compute(trips, engine, distance_unit=unit)
            return on_dask.write_results(
                results, output_path, rejects_path=rejects, input_schema=schema, client=client
            )
    except CarbonfootError:
        raise
    except Exception as exc:
        # The cluster itself failed (a worker died, the scheduler went away): one line.
        if type(exc).__module__.partition(".")[0] not in ("dask", "distributed"):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise CarbonfootError(f"the Dask run failed: {type(exc).__name__}: {first}") from None


def _stream(
    engine: Any,
    input_path: Path,
    output_path: Path,
    unit: str,
    chunk_rows: int,
    rejects: Path | None,
    quiet: bool,
) -> Any:
    from carbonfoot.streaming import stream_calc

    if quiet:
        return stream_calc(
            engine,
            input_path,
            output_path,
            distance_unit=unit,
            chunk_rows=chunk_rows,
            rows_per_bucket=4 * chunk_rows,
            rejects_path=rejects,
        )
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=_console(stderr=True),
    ) as bar:
        tasks: dict[str, Any] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                label = {
                    "read": "reading rows",
                    "compute": "computing buckets",
                    "write": "writing rows",
                }[stage]
                tasks[stage] = bar.add_task(label, total=total)
            bar.update(tasks[stage], completed=done, total=max(total, done))

        return stream_calc(
            engine,
            input_path,
            output_path,
            distance_unit=unit,
            chunk_rows=chunk_rows,
            rows_per_bucket=4 * chunk_rows,
            rejects_path=rejects,
            progress=report,
        )


@contextmanager
def _progress(path: Path, quiet: bool) -> Iterator[Callable[[int], None] | None]:
    size = path.stat().st_size if path.is_file() else 0
    if quiet or size < _PROGRESS_MIN_BYTES:
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("reading {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        transient=True,
        console=_console(stderr=True),
    ) as progress:
        task = progress.add_task(path.name, total=size)
        yield lambda n: progress.advance(task, n)


def _console(*, stderr: bool = False) -> Any:
    import shutil

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Wide tables stay whole when the output is a file or a pipe.
    width = shutil.get_terminal_size().columns if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=max(width, 100))


def _print_summary(summary: Any, info: Any, output_path: Path, elapsed: float) -> None:
    from rich.table import Table

    unit = summary.credit_unit + "s"
    table = Table(title=f"carbonfoot: {summary.trips:,} trips, {summary.computed:,} computed")
    for header, justify in (
        ("mode", "left"),
        ("trips", "right"),
        ("computed", "right"),
        ("km", "right"),
        ("savings kg", "right"),
        (unit, "right"),
    ):
        table.add_column(header, justify=justify)  # type: ignore[arg-type]
    for row in summary.by_mode:
        table.add_row(
            row.mode,
            f"{row.trips:,}",
            f"{row.computed:,}",
            f"{row.distance_km:,.1f}",
            f"{row.savings_g / 1000:,.3f}",
            f"{row.credits:,}",
        )
    table.add_row(
        "total",
        f"{summary.trips:,}",
        f"{summary.computed:,}",
        f"{sum(r.distance_km for r in summary.by_mode):,.1f}",
        f"{summary.savings_g / 1000:,.3f}",
        f"{summary.credits:,}",
        style="bold",
    )
    console = _console()
    console.print(table)
    statuses = (
        ", ".join(f"{name} {count:,}" for name, count in summary.status_counts.items()) or "no rows"
    )
    params = ", ".join(f"{k}={v}" for k, v in info.policy_params.items())
    console.print(f"status: {statuses}")
    console.print(
        f"rows: {summary.trips:,} in = {summary.computed + summary.quarantined:,} computed "
        f"({summary.quarantined:,} quarantined as suspect, earning nothing) + {summary.rejected:,} rejected"
    )
    console.print(
        f"factor set {info.factor_set}@{info.factor_set_hash[:12]} ({info.gas}), "
        f"baseline {info.baseline} ({info.baseline_g_per_pkm:.4g} g/pkm), policy {info.policy} ({params})"
    )
    console.print(f"wrote {output_path} in {elapsed:.2f} s")


# -- catalog listings -----------------------------------------------------------------


@main.command()
@click.option(
    "--factors",
    "factors",
    metavar="SET",
    help="Show factors from this set (default: the default set).",
)
@_fail_cleanly
def modes(factors: str | None) -> None:
    """List installed modes, one per line: id, g/pkm in the set, category, label, aliases, plugin."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    factor_set = catalog.factor_set(factors or catalog.default_factor_set())
    for mode in catalog.modes.modes:
        value = factor_set.g_per_pkm(mode.factor_key)
        shown = f"{value:.4g} g/pkm" if value is not None else "no factor"
        aliases = ", ".join(mode.aliases)
        owner = catalog.modes.owners.get(mode.id, "")
        click.echo(f"{mode.id}\t{shown}\t{mode.category}\t{mode.label}\t{aliases}\t[{owner}]")


@main.command(name="factors")
@click.argument("name", required=False)
@click.option(
    "--check",
    is_flag=True,
    help="Load and validate every installed set; exit non-zero on any error.",
)
@_fail_cleanly
def factors_command(name: str | None, check: bool) -> None:
    """List factor sets (one per line, name first), or show the factors of set NAME."""
    from carbonfoot.engine import Engine
    from carbonfoot.errors import FactorError
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    if name is not None:
        _show_factor_set(catalog.factor_set(name))
        return
    default = _safe_default(catalog)
    failures = 0
    for set_name in sorted(catalog.factor_sets):
        try:
            factor_set = catalog.factor_set(set_name)
            if check:
                Engine(factor_set, catalog=catalog)  # its own default baseline must resolve
        except CarbonfootError as exc:
            failures += 1
            click.echo(f"{set_name}\tINVALID\t{exc}")
            continue
        marker = "\t(default)" if set_name == default else ""
        click.echo(
            f"{set_name}\t{factor_set.version}\t{factor_set.short_hash}\t{factor_set.title}{marker}"
        )
    if check and failures:
        raise FactorError(f"{failures} factor set(s) failed validation")


def _safe_default(catalog: Any) -> str | None:
    try:
        return str(catalog.default_factor_set())
    except CarbonfootError:
        return None


def _show_factor_set(factor_set: Any) -> None:
    click.echo(f"{factor_set.name} {factor_set.version} sha256 {factor_set.content_hash}")
    extends = f"; extends {' -> '.join(factor_set.extends)}" if factor_set.extends else ""
    click.echo(
        f"{factor_set.title}; region {factor_set.region}; {factor_set.scope}; {factor_set.gas} "
        f"{factor_set.gwp}{extends}"
    )
    for key, variants in factor_set.factors.items():
        for factor in variants:
            resolved = factor_set.resolve(key, factor.validity.first_day, factor.validity.district)
            per_pkm = f"{resolved.g_per_pkm:.4g} g/pkm" if resolved is not None else ""
            validity = factor.validity.describe()
            click.echo(
                f"{key}\t{factor.shown}\t{factor.per or '-'}\t{per_pkm}\t"
                f"{'' if validity == 'always' else validity}\t{factor.source.publisher} "
                f"{factor.source.year}: {factor.locator or factor.source.kind}"
            )


@main.command()
@_fail_cleanly
def policies() -> None:
    """List credit policies (id first) and their parameters with defaults."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    default = catalog.default_policy() if catalog.default_policies else None
    for spec in catalog.policies.values():
        marker = " (default)" if spec.id == default else ""
        click.echo(f"{spec.id}\t{spec.unit}\t{spec.description}{marker}")
        for parameter in spec.parameters:
            click.echo(
                f"  {parameter.name}={'' if parameter.default is None else parameter.default}\t{parameter.description}"
            )


@main.command()
@_fail_cleanly
def baselines() -> None:
    """List baseline methodologies (id first) with their citation and parameters."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    click.echo(
        "MODE\ta mode id or alias, e.g. car: every trip replaces the same distance by that mode"
    )
    click.echo(
        "MIX\tmode:weight,... e.g. car:0.6,taxi:0.1,bus:0.3: passenger-km-weighted mean of modes"
    )
    for spec in catalog.baselines.values():
        click.echo(f"{spec.id}\t{spec.description}")
        click.echo(f"  source: {spec.citation}")
        for parameter in spec.parameters:
            default = "" if parameter.default is None else parameter.default
            click.echo(f"  {parameter.name}={default}\t{parameter.description}")


@main.command()
@_fail_cleanly
def plugins() -> None:
    """List loaded plugins and what each contributes; report plugins that failed."""
    from carbonfoot.plugins import default_catalog, plugin_summary

    catalog = default_catalog()
    for row in plugin_summary(catalog):
        parts = [
            f"{kind}: {', '.join(row[kind])}"
            for kind in ("modes", "factor_sets", "policies")
            if row[kind]
        ]
        click.echo(f"{row['plugin']}\t{'; '.join(parts)}")
    for error in catalog.errors:
        click.echo(f"FAILED\t{error}")
    if catalog.errors:
        sys.exit(1)


# -- explain --------------------------------------------------------------------------


@main.command()
@click.option("--mode", required=True, help="Mode id or alias, e.g. metro or 地铁.")
@click.option("--distance", required=True, help="Distance with its unit, e.g. '5 km' or '3.1 mi'.")
@_engine_options
@_fail_cleanly
def explain(
    mode: str,
    distance: str,
    factors: str | None,
    baseline: str | None,
    baseline_params: tuple[str, ...],
    policy: str | None,
    policy_params: tuple[str, ...],
    config_path: Path | None,
    gtfs: str | None,
    distance_options: tuple[str, ...],
) -> None:
    """Show every step of one trip's calculation, with units and each factor's source."""
    from carbonfoot.explain import explain_trip

    engine, config = _build_engine(
        factors,
        baseline,
        policy,
        policy_params,
        config_path,
        baseline_params,
        distance_options,
        gtfs,
    )
    click.echo(explain_trip(engine, mode, distance, config.get("distance_unit") or "km"))


# -- research ---------------------------------------------------------------------------


def _prepared(
    input_path: Path, engine: Any, config: dict[str, Any], distance_unit: str | None
) -> Any:
    from carbonfoot.io import read_trip_file
    from carbonfoot.research import BatchEvaluator

    table = read_trip_file(input_path)
    unit = distance_unit or config.get("distance_unit") or "km"
    return BatchEvaluator(engine, engine.prepare(table, distance_unit=unit))


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--draws",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="Monte Carlo draws.",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed: the same seed gives the same numbers.",
)
@_engine_options
@click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a row has none (default km)."
)
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the statistics to this .csv file.",
)
@_fail_cleanly
def uncertainty(
    input_path: Path,
    draws: int,
    seed: int,
    factors: str | None,
    baseline: str | None,
    baseline_params: tuple[str, ...],
    policy: str | None,
    policy_params: tuple[str, ...],
    config_path: Path | None,
    gtfs: str | None,
    distance_options: tuple[str, ...],
    distance_unit: str | None,
    output_path: Path | None,
) -> None:
    """Propagate factor uncertainty (Monte Carlo) to total savings and credits, by mode."""
    from rich.table import Table

    from carbonfoot.research import run_monte_carlo

    engine, config = _build_engine(
        factors,
        baseline,
        policy,
        policy_params,
        config_path,
        baseline_params,
        distance_options,
        gtfs,
    )
    evaluator = _prepared(input_path, engine, config, distance_unit)
    started = time.perf_counter()
    report = run_monte_carlo(evaluator, draws=draws, seed=seed)
    elapsed = time.perf_counter() - started
    unit = report.credit_unit + "s"
    table = Table(
        title=f"Monte Carlo: {draws:,} draws, seed {seed}, {evaluator.rows.size:,} computed trips"
    )
    for header in (
        "mode",
        "savings kg: point",
        "mean",
        "median",
        "2.5%",
        "97.5%",
        f"{unit}: point",
        "mean",
        "2.5%",
        "97.5%",
    ):
        table.add_column(header, justify="left" if header == "mode" else "right")
    for mode, stat in report.savings_kg.items():
        credit = report.credits[mode]
        table.add_row(
            mode,
            *(f"{v:,.3f}" for v in (stat.point, stat.mean, stat.median, stat.p2_5, stat.p97_5)),
            *(f"{v:,.2f}" for v in (credit.point, credit.mean, credit.p2_5, credit.p97_5)),
            style="bold" if mode == "total" else None,
        )
    console = _console()
    console.print(table)
    console.print(f"uncertain factors: {', '.join(report.factors) or 'none in this set'}")
    console.print(
        f"factor set {engine.factor_set.id}, baseline {engine.baseline.spec}, policy {engine.policy.id}; "
        f"{elapsed:.2f} s"
    )
    if output_path is not None:
        import pyarrow as pa

        from carbonfoot.io import write_result_file

        write_result_file(pa.Table.from_pylist(report.rows()), output_path)
        console.print(f"wrote {output_path}")


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Tornado chart, .png.",
)
@click.option(
    "--percent",
    type=click.FloatRange(0, 100, min_open=True),
    help="Swing every factor by +/- this percent (default: each factor's uncertainty range).",
)
@_engine_options
@click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a row has none (default km)."
)
@_fail_cleanly
def sensitivity(
    input_path: Path,
    output_path: Path | None,
    percent: float | None,
    factors: str | None,
    baseline: str | None,
    baseline_params: tuple[str, ...],
    policy: str | None,
    policy_params: tuple[str, ...],
    config_path: Path | None,
    gtfs: str | None,
    distance_options: tuple[str, ...],
    distance_unit: str | None,
) -> None:
    """Swing each factor across its range, one at a time; rank by effect on savings and credits."""
    from rich.table import Table

    from carbonfoot.research import run_sensitivity

    engine, config = _build_engine(
        factors,
        baseline,
        policy,
        policy_params,
        config_path,
        baseline_params,
        distance_options,
        gtfs,
    )
    report = run_sensitivity(_prepared(input_path, engine, config, distance_unit), percent=percent)
    unit = report.credit_unit + "s"
    table = Table(
        title=f"sensitivity: total savings {report.savings_kg:,.3f} kg, {report.credits:,.2f} {unit}"
    )
    for header in (
        "factor",
        "low",
        "high",
        "unit",
        "savings kg at low",
        "at high",
        f"{unit} at low",
        "at high",
        "range",
    ):
        table.add_column(
            header, justify="left" if header in ("factor", "unit", "range") else "right"
        )
    for swing in report.swings:
        table.add_row(
            swing.factor,
            f"{swing.low:.4g}",
            f"{swing.high:.4g}",
            swing.unit,
            f"{swing.savings_kg_low:,.3f}",
            f"{swing.savings_kg_high:,.3f}",
            f"{swing.credits_low:,.2f}",
            f"{swing.credits_high:,.2f}",
            swing.basis,
        )
    console = _console()
    console.print(table)
    if not report.swings:
        console.print("no factor to swing: this set states no uncertainty; try --percent 10")
    if output_path is not None:
        from carbonfoot.research.charts import tornado_chart

        tornado_chart(report, output_path)
        console.print(f"wrote {output_path}")


@main.command(name="compare")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--factors",
    "factor_sets",
    multiple=True,
    metavar="SET",
    help="Two factor sets (repeat), or one.",
)
@click.option(
    "--baseline", "baselines", multiple=True, metavar="B", help="Two baselines (repeat), or one."
)
@click.option(
    "--policy", "policies", multiple=True, metavar="P", help="Two policies (repeat), or one."
)
@click.option(
    "--policy-param",
    "policy_params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Applies to both runs.",
)
@click.option("--distance-unit", metavar="UNIT", default="km", show_default=True)
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Chart, .png.",
)
@_fail_cleanly
def compare_command(
    input_path: Path,
    factor_sets: tuple[str, ...],
    baselines: tuple[str, ...],
    policies: tuple[str, ...],
    policy_params: tuple[str, ...],
    distance_unit: str,
    output_path: Path | None,
) -> None:
    """Compare savings and credits of the same trips under two factor sets, baselines or policies."""
    from rich.table import Table

    from carbonfoot.engine import Engine
    from carbonfoot.io import read_trip_file
    from carbonfoot.research import compare

    pairs = {"--factors": factor_sets, "--baseline": baselines, "--policy": policies}
    for option, values in pairs.items():
        if len(values) > 2:
            raise InputError(f"compare takes at most two {option}")
    if not any(len(values) == 2 for values in pairs.values()):
        raise InputError(
            "compare needs two of something: --factors A --factors B, or two --baseline, or two --policy"
        )

    def pick(values: tuple[str, ...], index: int) -> str | None:
        return values[min(index, len(values) - 1)] if values else None

    params = _parse_params(policy_params)
    engines = [
        Engine(
            pick(factor_sets, i),
            baseline=pick(baselines, i),
            policy=pick(policies, i),
            policy_params=params,
        )
        for i in (0, 1)
    ]
    comparison = compare(
        engines[0], engines[1], read_trip_file(input_path), distance_unit=distance_unit
    )
    table = Table(title=f"A: {comparison.label_a}\nB: {comparison.label_b}")
    for header in ("mode", "trips", "savings kg A", "B", "change", "credits A", "B", "change"):
        table.add_column(header, justify="left" if header == "mode" else "right")
    for row in (*comparison.modes, comparison.total):
        table.add_row(
            row.mode,
            f"{row.trips:,}",
            f"{row.savings_kg_a:,.3f}",
            f"{row.savings_kg_b:,.3f}",
            f"{row.savings_kg_change:+,.3f}",
            f"{row.credits_a:,}",
            f"{row.credits_b:,}",
            f"{row.credits_change:+,}",
            style="bold" if row.mode == "total" else None,
        )
    console = _console()
    console.print(table)
    if comparison.run_a["factor_set_hash"] != comparison.run_b["factor_set_hash"]:
        console.print("note: the two runs used different factor content (hashes differ)")
    if output_path is not None:
        from carbonfoot.research.charts import comparison_chart

        comparison_chart(comparison, output_path)
        console.print(f"wrote {output_path}")


# -- demo -----------------------------------------------------------------------------


@main.command()
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo-output/trips-results.csv"),
    show_default=True,
)
@_fail_cleanly
def demo(output_path: Path) -> None:
    """Run the main job on the bundled example trips and print the summary."""
    from carbonfoot.io import read_trip_file, write_result_file

    data = resources.files("carbonfoot").joinpath("demo")
    with (
        resources.as_file(data.joinpath("trips.csv")) as trips_path,
        resources.as_file(data.joinpath("demo.toml")) as config_path,
    ):
        click.echo(f"carbonfoot demo: {trips_path.name}, config {config_path.name}")
        engine, config = _build_engine(None, None, None, (), config_path)
        started = time.perf_counter()
        table = read_trip_file(trips_path)
        results = engine.compute(table, distance_unit=config.get("distance_unit") or "km")
    write_result_file(results.table, output_path)
    _print_summary(results.summary, results.info, output_path, time.perf_counter() - started)
    _print_examples(results)


def _print_examples(results: Any) -> None:
    rejected = [row for row in results.table.slice(0, 5000).to_pylist() if row["status"] != "ok"][
        :3
    ]
    if rejected:
        click.echo("examples of rejected rows (kept in the output with their reason):")
        for row in rejected:
            click.echo(f"  {row['status']}: {row['message']}")


def _register_groups() -> None:
    """Command groups that live in their own modules (imported here, after ``main``)."""
    from carbonfoot.ledger import cli as _ledger_cli  # noqa: F401


_register_groups()

if __name__ == "__main__":  # pragma: no cover
    main()
