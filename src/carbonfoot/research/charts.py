"""Charts for the research tools (matplotlib, drawn off-screen, written as PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from carbonfoot.io.writing import replacing
from carbonfoot.research.compare import Comparison
from carbonfoot.research.sensitivity import SensitivityReport

__all__ = ["comparison_chart", "tornado_chart"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tornado_chart(report: SensitivityReport, path: str | Path, *, top: int = 15) -> None:
    """Two tornado panels: total savings and total credits, widest swings on top."""
    plt = _pyplot()
    swings = list(report.swings[:top])[::-1]
    height = max(3.0, 0.45 * len(swings) + 1.5)
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
            axis.barh(row, low - centre, left=centre, color="#4c72b0")
            axis.barh(row, high - centre, left=centre, color="#dd8452")
        axis.axvline(centre, color="black", linewidth=1)
        axis.set_title(title)
    left.set_yticks(range(len(swings)), labels)
    figure.suptitle("carbonfoot sensitivity: each factor at its low (blue) and high (orange) value")
    figure.tight_layout()
    _save(figure, path)
    plt.close(figure)


def comparison_chart(comparison: Comparison, path: str | Path) -> None:
    """Savings and credits by mode under A and B, side by side."""
    plt = _pyplot()
    modes = [row for row in comparison.modes if row.mode != "(unknown)"]
    names = [row.mode for row in modes]
    positions = range(len(modes))
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(8, 0.7 * len(modes) + 3), 8), sharex=True
    )
    width = 0.4
    for axis, first, second, title in (
        (top, [r.savings_kg_a for r in modes], [r.savings_kg_b for r in modes], "savings (kg)"),
        (
            bottom,
            [float(r.credits_a) for r in modes],
            [float(r.credits_b) for r in modes],
            "credits",
        ),
    ):
        axis.bar([p - width / 2 for p in positions], first, width, label=f"A: {comparison.label_a}")
        axis.bar(
            [p + width / 2 for p in positions], second, width, label=f"B: {comparison.label_b}"
        )
        axis.set_ylabel(title)
    top.legend(fontsize=8)
    bottom.set_xticks(list(positions), names, rotation=45, ha="right")
    figure.suptitle("carbonfoot compare")
    figure.tight_layout()
    _save(figure, path)
    plt.close(figure)


def _save(figure: Any, path: str | Path) -> None:
    """The chart written whole or not at all (a temporary file renamed into place)."""
    target = Path(path)
    kind = target.suffix.lstrip(".").lower() or "png"
    with replacing(target) as temporary:
        figure.savefig(temporary, dpi=110, format=kind)
