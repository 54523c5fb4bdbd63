"""A trip file in, a result file out: the ``calc`` job as one library call.

:func:`calc_file` chooses how to run (in memory; streamed in bounded memory for files
over :data:`STREAM_ABOVE_BYTES` or when asked; on a Dask cluster with ``workers`` or
``scheduler``), refuses an output that would overwrite the input, and notes when the
output file it replaces or appends to holds results of other factor content. Every
runner writes the same rows in the same order and gives the same summary. The command
line, a service or any Python caller get the same behaviour from the same call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from attrs import frozen

from carbonfoot.engine import Engine
from carbonfoot.errors import CarbonfootError, InputError
from carbonfoot.io import (
    DEFAULT_FORMAT,
    TripFormat,
    append_result_file,
    file_format,
    read_trip_file,
    recorded_factor_sets,
    write_result_file,
)
from carbonfoot.results import RunInfo, Summary
from carbonfoot.streaming import Progress, stream_calc

__all__ = ["STREAM_ABOVE_BYTES", "CalcReport", "calc_file"]

#: Inputs larger than this are streamed in bounded memory instead of read whole.
STREAM_ABOVE_BYTES = 1 << 30


@frozen
class CalcReport:
    """What :func:`calc_file` did: the run's summary and provenance, how it ran, and
    warnings worth showing (e.g. an output that held results of other factor content)."""

    summary: Summary
    info: RunInfo
    output: Path
    rejects: Path | None
    runner: str  # "memory", "stream" or "dask"
    seconds: float
    warnings: tuple[str, ...] = ()


def calc_file(
    engine: Engine,
    input_path: str | Path,
    output_path: str | Path,
    *,
    distance_unit: str = "km",
    append: bool = False,
    stream: bool = False,
    chunk_rows: int = 500_000,
    rejects_path: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    on_bytes: Callable[[int], None] | None = None,
    progress: Progress | None = None,
    trip_format: TripFormat = DEFAULT_FORMAT,
) -> CalcReport:
    """Compute every trip of ``input_path`` into ``output_path`` (``.csv`` or ``.parquet``).

    ``append`` adds the rows to an existing output (in memory only). ``stream`` streams
    whatever the size; ``chunk_rows`` is the rows read at a time when streaming, or per
    partition on Dask. ``rejects_path`` also gets every rejected row with its original
    values, status and message. ``workers`` runs on a local Dask cluster of that many
    processes, ``scheduler`` on an existing one (needs ``carbonfoot[dask]``).
    ``on_bytes(n)`` is told as the input is read in memory, ``progress(stage, done,
    total)`` as a streamed run goes on (for progress bars). ``trip_format`` says how the
    input was written (encoding, delimiter, decimal commas, column names).
    """
    source, target = Path(input_path), Path(output_path)
    rejects = None if rejects_path is None else Path(rejects_path)
    file_format(target)
    on_dask = workers is not None or scheduler is not None
    if on_dask:
        _check_dask_options(workers, scheduler, stream, append)
    if target.exists() and source.exists() and target.resolve() == source.resolve():
        raise InputError(f"{target}: the output would overwrite the input; choose another -o")
    started = time.perf_counter()
    size = source.stat().st_size if source.is_file() else 0
    streamed = not on_dask and (stream or size > STREAM_ABOVE_BYTES)
    if streamed and append:
        raise InputError(
            "--append works on files computed in memory; write the streamed run to a new file"
        )
    warnings = _other_factor_content(engine, target, append)
    if on_dask:
        summary = _on_dask(
            engine,
            source,
            target,
            distance_unit,
            chunk_rows,
            rejects,
            workers,
            scheduler,
            trip_format,
        )
        runner = "dask"
    elif streamed:
        summary = stream_calc(
            engine,
            source,
            target,
            distance_unit=distance_unit,
            chunk_rows=chunk_rows,
            rows_per_bucket=4 * chunk_rows,
            rejects_path=rejects,
            progress=progress,
            trip_format=trip_format,
        )
        runner = "stream"
    else:
        table = read_trip_file(
            source,
            on_bytes=on_bytes,
            trip_format=trip_format,
            known_columns=engine.provider_columns,
        )
        results = engine.compute(table, distance_unit=distance_unit)
        if append:
            append_result_file(results.table, target)
        else:
            write_result_file(results.table, target)
        if rejects is not None:
            write_result_file(results.rejected, rejects)
        summary = results.summary
        runner = "memory"
    return CalcReport(
        summary=summary,
        info=engine.run_info,
        output=target,
        rejects=rejects,
        runner=runner,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _other_factor_content(engine: Engine, output: Path, append: bool) -> tuple[str, ...]:
    """A warning for each other factor content the output file already holds results of."""
    this_run = (engine.factor_set.name, engine.factor_set.content_hash)
    action = "appends to" if append else "replaces"
    return tuple(
        f"{output} holds results of factor set {name}@{digest[:12]}; this run ({action} it) "
        f"uses {this_run[0]}@{this_run[1][:12]}: the factor content differs"
        for name, digest in sorted(recorded_factor_sets(output) - {this_run})
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


def _on_dask(
    engine: Engine,
    input_path: Path,
    output_path: Path,
    unit: str,
    partition_rows: int,
    rejects: Path | None,
    workers: int | None,
    scheduler: str | None,
    trip_format: TripFormat,
) -> Summary:
    """The calc job on a Dask cluster: the same rows, order, rejects and summary."""
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
                input_path,
                partition_rows=partition_rows,
                client=client,
                trip_format=trip_format,
                known_columns=engine.provider_columns,
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
