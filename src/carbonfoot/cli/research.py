"""For researchers and auditors: ``explain``, ``uncertainty``, ``sensitivity``, ``compare``.

Each builds its engine from the shared options, calls :mod:`carbonfoot.research.explain` or
:mod:`carbonfoot.research` once, and prints the report (:mod:`carbonfoot.cli.render`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from carbonfoot.cli.options import (
    EngineRequest,
    FileRequest,
    build_engine,
    compare_options,
    distance_unit_of,
    engine_options,
    trip_file_options,
    trip_format_of,
)
from carbonfoot.cli.render import (
    console,
    print_comparison,
    print_explanation,
    print_monte_carlo,
    print_sensitivity,
)
from carbonfoot.errors import InputError

if TYPE_CHECKING:
    from carbonfoot.engine import Engine
    from carbonfoot.research import BatchEvaluator

__all__ = ["COMMANDS"]

_DISTANCE_UNIT = click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a row has none (default km)."
)


def _chart_path(
    _context: click.Context, _parameter: click.Parameter, value: Path | None
) -> Path | None:
    """A chart path with a format charts are written in, checked before any work."""
    if value is None:
        return None
    from carbonfoot.research.charts import chart_format

    try:
        chart_format(value)
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _chart_option(text: str) -> Callable[[Any], Any]:
    return click.option(
        "-o",
        "--output",
        "output_path",
        type=click.Path(dir_okay=False, path_type=Path),
        callback=_chart_path,
        help=f"{text}, as .png, .svg or .pdf (with its provenance in the figure and the file's metadata).",
    )


@click.command()
@click.option("--mode", required=True, help="Mode id or alias, e.g. metro or 地铁.")
@click.option(
    "--distance",
    required=True,
    help="Distance with its unit: '5 km', 5km, 5000m, '3.1 mi'; a plain number is in km "
    "(or the config's distance_unit).",
)
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="The trip's local date: the factors and baseline valid then (default today, UTC).",
)
@click.option(
    "--district",
    default="",
    metavar="NAME",
    help="The trip's district: its own factor variants where the set has them.",
)
@click.option(
    "--already-paid",
    default="0",
    metavar="AMOUNT",
    help="What the user was already paid that day, for the daily cap (default 0).",
)
@click.option("--json", "as_json", is_flag=True, help="The explanation as JSON.")
@engine_options
def explain(
    mode: str,
    distance: str,
    on: dt.datetime | None,
    district: str,
    already_paid: str,
    as_json: bool,
    request: EngineRequest,
) -> None:
    """Show every step of one trip's calculation, with units and each factor's source, and
    every reason it earns what it earns (eligibility, the daily cap, quarantine)."""
    from carbonfoot.research.explain import explain as explain_one

    engine, config = build_engine(request)
    explanation = explain_one(
        engine,
        mode,
        distance,
        distance_unit_of(None, config),
        on=None if on is None else on.date(),
        district=district,
        already_paid=already_paid,
    )
    print_explanation(explanation, as_json=as_json)


def _evaluator(
    input_path: Path,
    engine: Engine,
    config: dict[str, Any],
    distance_unit: str | None,
    files: FileRequest,
) -> BatchEvaluator:
    from carbonfoot.io import read_trip_file
    from carbonfoot.research import BatchEvaluator

    table = read_trip_file(
        input_path,
        trip_format=trip_format_of(files, config),
        known_columns=engine.provider_columns,
    )
    unit = distance_unit_of(distance_unit, config)
    return BatchEvaluator(engine, engine.prepare(table, distance_unit=unit))


@click.command()
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
@engine_options
@trip_file_options
@_DISTANCE_UNIT
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the statistics to this .csv file.",
)
def uncertainty(
    input_path: Path,
    draws: int,
    seed: int,
    request: EngineRequest,
    files: FileRequest,
    distance_unit: str | None,
    output_path: Path | None,
) -> None:
    """Propagate factor uncertainty (Monte Carlo) to total savings and credits, by mode."""
    from carbonfoot.research import run_monte_carlo

    engine, config = build_engine(request)
    evaluator = _evaluator(input_path, engine, config, distance_unit, files)
    started = time.perf_counter()
    report = run_monte_carlo(evaluator, draws=draws, seed=seed)
    print_monte_carlo(
        report,
        draws=draws,
        seed=seed,
        trips=int(evaluator.rows.size),
        provenance=(
            f"factor set {engine.factor_set.id}, baseline {engine.baseline.spec}, "
            f"policy {engine.policy.id}"
        ),
        elapsed=time.perf_counter() - started,
    )
    if output_path is not None:
        import pyarrow as pa

        from carbonfoot.io import write_result_file

        write_result_file(pa.Table.from_pylist(report.rows()), output_path)
        console().print(f"wrote {output_path}")


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@_chart_option("Tornado chart")
@click.option(
    "--percent",
    type=click.FloatRange(0, 100, min_open=True, max_open=True),
    help="Swing every factor by +/- this percent (default: each factor's uncertainty range).",
)
@engine_options
@trip_file_options
@_DISTANCE_UNIT
def sensitivity(
    input_path: Path,
    output_path: Path | None,
    percent: float | None,
    request: EngineRequest,
    files: FileRequest,
    distance_unit: str | None,
) -> None:
    """Swing each factor across its range, one at a time; rank by effect on savings and credits."""
    from carbonfoot.research import run_sensitivity

    engine, config = build_engine(request)
    report = run_sensitivity(
        _evaluator(input_path, engine, config, distance_unit, files), percent=percent
    )
    print_sensitivity(report)
    if output_path is not None:
        from carbonfoot.research.charts import tornado_chart

        tornado_chart(report, output_path)
        console().print(f"wrote {output_path}")


@click.command(name="compare")
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@compare_options
@_DISTANCE_UNIT
@trip_file_options
@_chart_option("Chart of the change from A to B by mode")
def compare_command(
    input_path: Path,
    requests: tuple[EngineRequest, EngineRequest],
    distance_unit: str | None,
    files: FileRequest,
    output_path: Path | None,
) -> None:
    """Compare the same trips under two runs: factor sets, baselines, policies, parameters or
    config files (any engine option of calc, for both runs or per run with --a-/--b-)."""
    from carbonfoot.io import read_trip_file
    from carbonfoot.research import compare

    (engine_a, config_a), (engine_b, config_b) = (build_engine(request) for request in requests)
    unit_a, unit_b = (distance_unit_of(distance_unit, c) for c in (config_a, config_b))
    if unit_a != unit_b:
        raise InputError(
            f"A reads distances in {unit_a} and B in {unit_b} (their config files' distance_unit); "
            "give --distance-unit for both"
        )
    trips = read_trip_file(
        input_path,
        trip_format=trip_format_of(files, config_a),
        known_columns=engine_a.provider_columns,
    )
    comparison = compare(engine_a, engine_b, trips, distance_unit=unit_a)
    print_comparison(comparison)
    if output_path is not None:
        from carbonfoot.research.charts import comparison_chart

        comparison_chart(comparison, output_path)
        console().print(f"wrote {output_path}")


COMMANDS = (explain, uncertainty, sensitivity, compare_command)
