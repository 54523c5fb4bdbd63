"""Charts for the research tools (matplotlib, drawn off-screen), as PNG, SVG or PDF.

A chart pasted into a report must still say what it shows, so every chart carries its
provenance twice: in the figure (a footer naming each run's factor set and content hash,
baseline, policy and parameters, and trip counts) and in the file's metadata (PNG text
chunks, SVG Dublin Core, the PDF information dictionary). Every chart has a legend.
SVG text is written as text, so it can be searched and edited. The format is checked
from the file name before anything is drawn (:func:`chart_format`), and a chart is
written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from carbonfoot.errors import InputError
from carbonfoot.io.writing import replacing
from carbonfoot.research.compare import Comparison
from carbonfoot.research.provenance import RunProvenance
from carbonfoot.research.sensitivity import SensitivityReport

__all__ = ["CHART_FORMATS", "chart_format", "chart_metadata", "comparison_chart", "tornado_chart"]

#: The file formats a chart can be written in, by file-name extension.
CHART_FORMATS: Final = ("png", "svg", "pdf")

_INCREASE, _DECREASE, _LOW, _HIGH = "#2a9d8f", "#e76f51", "#4c72b0", "#dd8452"


def chart_format(path: str | Path) -> str:
    """The format of a chart written to ``path``, from its extension; :class:`InputError`
    for any other, so that a wrong name fails before the computation, not after."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in CHART_FORMATS:
        given = f"'.{suffix}'" if suffix else "no extension"
        raise InputError(
            f"{path}: a chart is written as "
            + ", ".join(f".{kind}" for kind in CHART_FORMATS)
            + f"; the file name has {given}"
        )
    return suffix


def chart_metadata(kind: str, title: str, provenance: list[str]) -> dict[str, Any]:
    """The metadata matplotlib writes into a ``kind`` file: title and provenance in the
    fields each format defines (PNG text, SVG Dublin Core, PDF info)."""
    from carbonfoot import __version__

    description = "\n".join(provenance)
    software = f"carbonfoot {__version__}"
    if kind == "png":
        return {"Title": title, "Description": description, "Software": software}
    if kind == "svg":
        return {"Title": title, "Description": description, "Creator": software, "Date": None}
    return {"Title": title, "Subject": description, "Creator": software, "CreationDate": None}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _footer(figure: Any, lines: list[str]) -> None:
    """The provenance lines in small type along the bottom of the figure."""
    figure.text(0.01, 0.01, "\n".join(lines), fontsize=7, va="bottom", ha="left", wrap=True)


def _layout(figure: Any, footer_lines: int) -> None:
    """Room at the bottom for the footer, in inches turned into a figure fraction."""
    bottom = min(0.45, (0.16 * footer_lines + 0.15) / figure.get_figheight())
    figure.tight_layout(rect=(0, bottom, 1, 0.95))


def tornado_chart(report: SensitivityReport, path: str | Path, *, top: int = 15) -> None:
    """Two tornado panels: total savings and total credits, widest swings on top."""
    kind = chart_format(path)
    plt = _pyplot()
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    swings = list(report.swings[:top])[::-1]
    height = max(4.0, 0.45 * len(swings) + 2.5)
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, height), sharey=True)
    labels = [f"{s.factor} [{s.low:.4g} .. {s.high:.4g} {s.unit}]" for s in swings]
    for axis, centre, lows, highs, title in (
        (
            left,
            report.savings_kg,
            [s.savings_kg_low for s in swings],
            [s.savings_kg_high for s in swings],
            "total savings (kg)",
        ),
        (
            right,
            report.credits,
            [s.credits_low for s in swings],
            [s.credits_high for s in swings],
            f"total {report.credit_unit}s",
        ),
    ):
        for row, (low, high) in enumerate(zip(lows, highs, strict=True)):
            axis.barh(row, low - centre, left=centre, color=_LOW)
            axis.barh(row, high - centre, left=centre, color=_HIGH)
        axis.axvline(centre, color="black", linewidth=1)
        axis.xaxis.set_major_locator(MaxNLocator(5))
        axis.set_title(title)
    left.set_yticks(range(len(swings)), labels)
    if not swings:
        left.text(0.5, 0.5, "no factor swung", ha="center", transform=left.transAxes)
    right.legend(
        handles=[
            Patch(color=_LOW, label="factor at its low value"),
            Patch(color=_HIGH, label="factor at its high value"),
            Patch(color="black", label="point estimate"),
        ],
        fontsize=8,
        loc="lower right",
    )
    title = "carbonfoot sensitivity: each measured factor swung alone"
    figure.suptitle(title)
    lines = _provenance_lines(report.provenance)
    lines.append(
        f"swung: {report.basis}; shown: the {len(swings)} widest of {len(report.swings)}; "
        f"not swung: {len(report.skipped)} (definitions, constants, derived, no range or no "
        "effect: listed by the command)"
    )
    _footer(figure, lines)
    _layout(figure, len(lines))
    _save(figure, path, kind, chart_metadata(kind, title, lines))
    plt.close(figure)


def comparison_chart(comparison: Comparison, path: str | Path) -> None:
    """The change from A to B by mode: savings, and credits where both pay in one unit."""
    kind = chart_format(path)
    plt = _pyplot()
    from matplotlib.patches import Patch

    modes = list(comparison.modes)
    names = [row.mode for row in modes]
    positions = list(range(len(modes)))
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(9, 0.7 * len(modes) + 3), 9), sharex=True
    )
    panels: list[tuple[Any, list[Any], str]] = [
        (top, [row.savings_kg_change for row in modes], "savings change, B - A (kg)")
    ]
    if comparison.same_unit:
        panels.append(
            (
                bottom,
                [row.credits_change for row in modes],
                f"{comparison.run_a.credit_unit}s change, B - A",
            )
        )
    else:
        bottom.text(
            0.5,
            0.5,
            f"A pays in {comparison.run_a.credit_unit}s, B in {comparison.run_b.credit_unit}s:\n"
            "amounts in two units are not subtracted (see the table, per kg saved)",
            ha="center",
            va="center",
            transform=bottom.transAxes,
        )
        bottom.set_yticks([])
    for axis, changes, title in panels:
        values = [0.0 if change is None else float(change) for change in changes]
        colours = [_INCREASE if value >= 0 else _DECREASE for value in values]
        axis.bar(positions, values, color=colours)
        axis.axhline(0, color="black", linewidth=1)
        for position, row, change in zip(positions, modes, changes, strict=True):
            if change is None:
                axis.text(
                    position,
                    0,
                    _why_no_change(row),
                    rotation=90,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
        axis.set_ylabel(title)
    top.legend(
        handles=[
            Patch(color=_INCREASE, label="B above A"),
            Patch(color=_DECREASE, label="B below A"),
        ],
        fontsize=8,
    )
    bottom.set_xticks(positions, names, rotation=45, ha="right")
    title = "carbonfoot compare: the change from A to B, by mode"
    figure.suptitle(title)
    lines = [
        f"A: {_describe(comparison.run_a)}",
        f"B: {_describe(comparison.run_b)}",
        f"change = B - A over the trips ok in both runs "
        f"({comparison.total.compared:,} of {comparison.total.trips:,})",
    ]
    _footer(figure, lines)
    _layout(figure, len(lines))
    _save(figure, path, kind, chart_metadata(kind, title, lines))
    plt.close(figure)


def _why_no_change(row: Any) -> str:
    for name, side in (("A", row.a), ("B", row.b)):
        if side.state == "no_baseline":
            return f"no baseline in {name}"
    for name, side in (("A", row.a), ("B", row.b)):
        if side.state != "ok":
            return f"none ok in {name}"
    return "not comparable"


def _describe(run: RunProvenance) -> str:
    return f"{run.describe()}; factor content {run.factor_set_hash}"


def _provenance_lines(provenance: RunProvenance | None) -> list[str]:
    return [] if provenance is None else [_describe(provenance)]


def _save(figure: Any, path: str | Path, kind: str, metadata: dict[str, Any]) -> None:
    """The chart written whole or not at all (a temporary file renamed into place)."""
    import matplotlib

    with replacing(Path(path)) as temporary, matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(temporary, dpi=110, format=kind, metadata=metadata)
