"""``carbonfoot calc`` and ``carbonfoot demo``: trips in, results out (:mod:`carbonfoot.calc`)."""

from __future__ import annotations

import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

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
from carbonfoot.cli.render import print_examples, print_summary, progress_bars

if TYPE_CHECKING:
    from carbonfoot.io import TripFormat

__all__ = ["COMMANDS", "calc", "demo"]

#: Mirrors :data:`carbonfoot.calc.STREAM_ABOVE_BYTES` for the help text (the library
#: module is imported when the command runs, not when the CLI starts).
_STREAM_ABOVE_MIB = 1024


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Result file, .csv or .parquet.",
)
@engine_options
@trip_file_options
@click.option(
    "--distance-unit",
    metavar="UNIT",
    help="Unit of `distance` where a row has no distance_unit (default km).",
)
@click.option("--append", is_flag=True, help="Add the rows to OUTPUT instead of replacing it.")
@click.option(
    "--stream",
    is_flag=True,
    help=f"Stream the file in bounded memory (automatic above {_STREAM_ABOVE_MIB} MiB); same results.",
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
def calc(
    input_path: Path,
    output_path: Path,
    request: EngineRequest,
    files: FileRequest,
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
    from carbonfoot.calc import calc_file
    from carbonfoot.io import file_format

    file_format(output_path)  # before building the engine: a typo fails at once
    engine, config = build_engine(request, input_path)
    trip_format = trip_format_of(files, config)
    _say_encoding(input_path, trip_format, quiet)
    with progress_bars(input_path, quiet) as (on_bytes, on_stage):
        report = calc_file(
            engine,
            input_path,
            output_path,
            distance_unit=distance_unit_of(distance_unit, config),
            append=append,
            stream=stream,
            chunk_rows=chunk_rows,
            rejects_path=rejects_path,
            workers=workers,
            scheduler=scheduler,
            on_bytes=on_bytes,
            progress=on_stage,
            trip_format=trip_format,
        )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_summary(report.summary, report.info, report.output, report.seconds)


def _say_encoding(input_path: Path, trip_format: TripFormat, quiet: bool) -> None:
    """A note on stderr when a CSV file is read in an encoding the user did not give."""
    from carbonfoot.io import csv_encoding, file_format

    if quiet or not input_path.is_file() or file_format(input_path) != ".csv":
        return
    if trip_format.encoding is None:
        encoding = csv_encoding(input_path)
        if encoding.how == "detected":
            click.echo(f"note: {input_path} read as {encoding.codec} (detected)", err=True)


@click.command()
@click.option(
    "-o",
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("demo-output/trips-results.csv"),
    show_default=True,
)
def demo(output_path: Path) -> None:
    """Run the main job on the bundled example trips and print the summary."""
    from carbonfoot.io import read_trip_file, write_result_file

    data = resources.files("carbonfoot").joinpath("demo")
    with (
        resources.as_file(data.joinpath("trips.csv")) as trips_path,
        resources.as_file(data.joinpath("demo.toml")) as config_path,
    ):
        click.echo(f"carbonfoot demo: {trips_path.name}, config {config_path.name}")
        engine, config = build_engine(EngineRequest(config_path=config_path))
        started = time.perf_counter()
        table = read_trip_file(trips_path)
        results = engine.compute(table, distance_unit=distance_unit_of(None, config))
    write_result_file(results.table, output_path)
    print_summary(results.summary, results.info, output_path, time.perf_counter() - started)
    print_examples(results)


COMMANDS = (calc, demo)
