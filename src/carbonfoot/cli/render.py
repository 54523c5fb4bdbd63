"""What the commands print: the run summary, the research tables, progress bars.

Rendering only: every figure comes from a library report (:class:`carbonfoot.Summary`,
:class:`carbonfoot.calc.CalcReport`, the research reports); nothing here computes one.
Tables are rich tables, as wide as the terminal, or 160 columns when the output is a file
or a pipe so that they stay whole.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console

    from carbonfoot.research import Comparison, SensitivityReport, UncertaintyReport
    from carbonfoot.research.explain import TripExplanation
    from carbonfoot.results import Results, RunInfo, Summary

__all__ = [
    "console",
    "print_comparison",
    "print_examples",
    "print_explanation",
    "print_monte_carlo",
    "print_sensitivity",
    "print_summary",
    "printable",
    "progress_bars",
    "unknown_labels_line",
]

#: Control characters (and the line and paragraph separators) as they are shown: escaped,
#: so that a value can never forge a line or a column of tab-separated output.
_CONTROLS = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)
}
_CONTROLS.update({ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r", ord("\\"): "\\\\"})

#: Files smaller than this are read without a progress bar.
PROGRESS_MIN_BYTES = 16 << 20


def printable(value: object) -> str:
    """``value`` as text with control characters and backslashes escaped (``\\t``,
    ``\\n``, ``\\x1f``): safe in one field of a line of output."""
    return str(value).translate(_CONTROLS)


def console(*, stderr: bool = False) -> Console:
    """A console for tables: the terminal's width, or 160 columns into a file or pipe."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = shutil.get_terminal_size().columns if stream.isatty() else 160
    return Console(stderr=stderr, highlight=False, soft_wrap=True, width=max(width, 100))


#: Unknown mode labels the summary names, most frequent first; the rest are counted.
SHOWN_UNKNOWN_LABELS = 5


def print_summary(summary: Summary, info: RunInfo, output_path: Path, elapsed: float) -> None:
    """The run's table by mode, its statuses, its rows and its provenance.

    "counted" is the rows in the totals (status ok; a mode that earns nothing, such as a
    private car, is counted with 0 credits); "computed" the rows whose numbers were
    computed, counted or quarantined: the two are never called the same.
    """
    from rich.table import Table

    unit = summary.credit_unit + "s"
    table = Table(title=f"carbonfoot: {summary.trips:,} trips, {summary.ok:,} counted")
    for header, justify in (
        ("mode", "left"),
        ("trips", "right"),
        ("counted", "right"),
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
        f"{summary.ok:,}",
        f"{sum(r.distance_km for r in summary.by_mode):,.1f}",
        f"{summary.savings_g / 1000:,.3f}",
        f"{summary.credits:,}",
        style="bold",
    )
    out = console()
    out.print(table)
    statuses = (
        ", ".join(f"{name} {count:,}" for name, count in summary.status_counts.items()) or "no rows"
    )
    params = ", ".join(f"{k}={v}" for k, v in info.policy_params.items())
    out.print(f"status: {statuses}")
    out.print(
        f"rows: {summary.trips:,} in = {summary.ok + summary.quarantined:,} computed "
        f"({summary.ok:,} counted in the totals + {summary.quarantined:,} quarantined as suspect, earning nothing)"
        f" + {summary.rejected:,} rejected"
    )
    unknown = unknown_labels_line(summary)
    if unknown:
        out.print(unknown)
    if summary.naive_times:
        out.print(
            f"times: {summary.naive_times:,} naive times read as {summary.timezone or info.timezone}"
            " (no offset given; the policy's time zone, --policy-param timezone=... to change)"
        )
    out.print(
        f"factor set {info.factor_set}@{info.factor_set_hash[:12]} ({info.gas}), "
        f"baseline {info.baseline} ({info.baseline_g_per_pkm:.4g} g/pkm), policy {info.policy} ({params})"
    )
    out.print(f"wrote {output_path} in {elapsed:.2f} s")


def unknown_labels_line(summary: Summary, shown: int = SHOWN_UNKNOWN_LABELS) -> str:
    """``(unknown) 2: "bycicle" 1, "skateboard" 1``, the most frequent few, then
    ``and K more``; empty when every label named a mode."""
    if not summary.unknown_labels:
        return ""
    rows = next((row.trips for row in summary.by_mode if row.mode == "(unknown)"), 0)
    listed = ", ".join(
        f'"{printable(label)}" {count:,}' for label, count in summary.unknown_labels[:shown]
    )
    more = max(len(summary.unknown_labels) - shown, 0) + summary.unknown_labels_more
    tail = f", and {more:,} more label{'s' if more != 1 else ''}" if more else ""
    return f"(unknown) {rows:,}: {listed}{tail} (see `carbonfoot modes`)"


def print_explanation(explanation: TripExplanation, *, as_json: bool = False) -> None:
    """One trip's account (:meth:`TripExplanation.text`), or its data as JSON."""
    if as_json:
        import json

        click.echo(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(explanation.text())


def print_examples(results: Results) -> None:
    """A few rejected rows of a run, with their reasons."""
    rejected = [row for row in results.table.slice(0, 5000).to_pylist() if row["status"] != "ok"][
        :3
    ]
    if rejected:
        click.echo("examples of rejected rows (kept in the output with their reason):")
        for row in rejected:
            click.echo(f"  {row['status']}: {row['message']}")


def print_monte_carlo(
    report: UncertaintyReport,
    *,
    draws: int,
    seed: int,
    trips: int,
    provenance: str,
    elapsed: float,
) -> None:
    """The Monte Carlo statistics by mode."""
    from rich.table import Table

    unit = report.credit_unit + "s"
    table = Table(title=f"Monte Carlo: {draws:,} draws, seed {seed}, {trips:,} computed trips")
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
    out = console()
    out.print(table)
    out.print(f"uncertain factors: {', '.join(report.factors) or 'none in this set'}")
    out.print(f"{provenance}; {elapsed:.2f} s")


def print_sensitivity(report: SensitivityReport) -> None:
    """Each factor's swing and its effect on total savings and credits."""
    from rich.table import Table

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
    out = console()
    out.print(table)
    if not report.swings:
        out.print("no factor to swing: this set states no uncertainty; try --percent 10")
    out.print(f"swung: {report.basis}")
    if report.skipped:
        out.print(f"not swung ({len(report.skipped)}):")
        for skipped in report.skipped:
            out.print(f"  {printable(skipped.factor)}: {printable(skipped.reason)}", markup=False)
    if report.provenance is not None:
        out.print(report.provenance.describe(), markup=False)


def _side_cell(value: object, state: str, template: str) -> str:
    """A run's amount, or why it has none: ``no baseline``, ``none ok``."""
    if value is None:
        return "no baseline" if state == "no_baseline" else "none ok"
    return template.format(value)


def print_comparison(comparison: Comparison) -> None:
    """Savings and credits of runs A and B by mode, and the change over the trips ok
    in both; credits in two units are shown per kg saved, never subtracted."""
    from rich.table import Table

    unit_a, unit_b = comparison.run_a.credit_unit + "s", comparison.run_b.credit_unit + "s"
    same_unit = comparison.same_unit
    table = Table(title=f"A: {comparison.label_a}\nB: {comparison.label_b}")
    headers = ["mode", "trips", "savings kg A", "B", "change"]
    headers += (
        [f"{unit_a} A", "B", "change"]
        if same_unit
        else [f"{unit_a} A", f"{unit_b} B", f"{unit_a}/kg A", f"{unit_b}/kg B"]
    )
    headers.append("not compared")
    for header in headers:
        table.add_column(header, justify="left" if header in ("mode", "not compared") else "right")
    for row in (*comparison.modes, comparison.total):
        a, b = row.a, row.b
        cells = [
            printable(row.mode),
            f"{row.trips:,}",
            _side_cell(a.savings_kg, a.state, "{:,.3f}"),
            _side_cell(b.savings_kg, b.state, "{:,.3f}"),
            "n/a" if row.savings_kg_change is None else f"{row.savings_kg_change:+,.3f}",
            _side_cell(a.credits, a.state, "{:,}"),
            _side_cell(b.credits, b.state, "{:,}"),
        ]
        if same_unit:
            cells.append("n/a" if row.credits_change is None else f"{row.credits_change:+,}")
        else:
            cells += [
                "n/a" if a.credits_per_kg is None else f"{a.credits_per_kg:,.3f}",
                "n/a" if b.credits_per_kg is None else f"{b.credits_per_kg:,.3f}",
            ]
        left_out = []
        for name, side in (("A", a), ("B", b)):
            if side.no_baseline:
                left_out.append(f"{name}: {side.no_baseline:,} no baseline")
        if row.only_one_run:
            left_out.append(f"{row.only_one_run:,} ok in one run only")
        cells.append("; ".join(left_out))
        table.add_row(*cells, style="bold" if row.mode == "total" else None)
    out = console()
    out.print(table)
    out.print(
        f"change = B - A over the trips ok in both runs ({comparison.total.compared:,} "
        f"of {comparison.total.trips:,})",
        markup=False,
    )
    if not same_unit:
        out.print(
            f"A pays in {unit_a}, B in {unit_b}: amounts in two units are not subtracted; "
            "compare them per kg saved",
            markup=False,
        )
    if not comparison.same_factor_content:
        out.print("note: the two runs used different factor content (hashes differ)")
    out.print(f"A: {comparison.run_a.describe()}", markup=False)
    out.print(f"B: {comparison.run_b.describe()}", markup=False)


@contextmanager
def progress_bars(
    path: Path, quiet: bool
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[str, int, int], None] | None]]:
    """Callbacks for :func:`carbonfoot.calc.calc_file`: bytes read (a run in memory) and
    stages done (a streamed run). Each bar appears when its first report arrives, so a run
    shows only the one it uses; none when ``quiet`` or for files too small to wait for."""
    size = path.stat().st_size if path.is_file() else 0
    if quiet or size < PROGRESS_MIN_BYTES:
        yield None, None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    started: list[Progress] = []
    tasks: dict[str, Any] = {}

    def bar(*columns: Any) -> Progress:
        if not started:
            started.append(Progress(*columns, transient=True, console=console(stderr=True)))
            started[0].start()
        return started[0]

    def on_bytes(count: int) -> None:
        progress = bar(
            TextColumn("reading {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
        )
        if "read" not in tasks:
            tasks["read"] = progress.add_task(path.name, total=size)
        progress.advance(tasks["read"], count)

    labels = {"read": "reading rows", "compute": "computing buckets", "write": "writing rows"}

    def on_stage(stage: str, done: int, total: int) -> None:
        progress = bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        if stage not in tasks:
            tasks[stage] = progress.add_task(labels[stage], total=total)
        progress.update(tasks[stage], completed=done, total=max(total, done))

    try:
        yield on_bytes, on_stage
    finally:
        for progress in started:
            progress.stop()
