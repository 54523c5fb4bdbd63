"""For researchers and auditors: ``explain``, ``uncertainty``, ``sensitivity``, ``compare``.

Each builds its engine from the shared options, calls :mod:`carbonfoot.research.explain` or
:mod:`carbonfoot.research` once, and prints the report (:mod:`carbonfoot.cli.render`).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from carbonfoot.cli.options import (
    EngineRequest,
    FileRequest,
    build_engine,
    distance_unit_of,
    engine_options,
    parse_params,
    trip_file_options,
    trip_format_of,
)
from carbonfoot.cli.render import console, print_comparison, print_monte_carlo, print_sensitivity
from carbonfoot.errors import InputError

if TYPE_CHECKING:
    from carbonfoot.engine import Engine
    from carbonfoot.research import BatchEvaluator

__all__ = ["COMMANDS"]

_DISTANCE_UNIT = click.option(
    "--distance-unit", metavar="UNIT", help="Unit of `distance` where a row has none (default km)."
)


@click.command()
@click.option("--mode", required=True, help="Mode id or alias, e.g. metro or 地铁.")
@click.option("--distance", required=True, help="Distance with its unit, e.g. '5 km' or '3.1 mi'.")
@engine_options
def explain(mode: str, distance: str, request: EngineRequest) -> None:
    """Show every step of one trip's calculation, with units and each factor's source."""
    from carbonfoot.research.explain import explain_trip

    engine, config = build_engine(request)
    click.echo(explain_trip(engine, mode, distance, distance_unit_of(None, config)))


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
@trip_file_options
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Chart, .png.",
)
def compare_command(
    input_path: Path,
    factor_sets: tuple[str, ...],
    baselines: tuple[str, ...],
    policies: tuple[str, ...],
    policy_params: tuple[str, ...],
    distance_unit: str,
    files: FileRequest,
    output_path: Path | None,
) -> None:
    """Compare savings and credits of the same trips under two factor sets, baselines or policies."""
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

    parse_params(policy_params)  # a malformed pair fails before anything is computed
    engine_a, engine_b = (
        build_engine(
            EngineRequest(
                factors=pick(factor_sets, side),
                baseline=pick(baselines, side),
                policy=pick(policies, side),
                policy_params=policy_params,
            )
        )[0]
        for side in (0, 1)
    )
    trips = read_trip_file(
        input_path,
        trip_format=trip_format_of(files, {}),
        known_columns=engine_a.provider_columns,
    )
    comparison = compare(engine_a, engine_b, trips, distance_unit=distance_unit)
    print_comparison(comparison)
    if output_path is not None:
        from carbonfoot.research.charts import comparison_chart

        comparison_chart(comparison, output_path)
        console().print(f"wrote {output_path}")


COMMANDS = (explain, uncertainty, sensitivity, compare_command)
