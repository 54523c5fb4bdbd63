"""The README's Python examples run as written.

The blocks of the sections "As a library" and "Research tools" are the call forms a
newcomer copies into a notebook; each is executed here, in a fresh namespace and an empty
working directory (charts are written there), so a renamed call or argument fails the suite
instead of the reader. The values they compute are checked against the tests of each
module; here the promise is that the forms work.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
RUN_SECTIONS = ("As a library", "Research tools")
#: The files a section's example writes.
CHARTS = {"Research tools": ("tornado.png", "compare.png")}


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of one ``## section`` of the README."""
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no section {section!r}"
    return re.findall(r"^```python\n(.*?)^```", match.group(1), re.M | re.S)


@pytest.mark.parametrize("section", RUN_SECTIONS)
def test_the_readme_examples_run(
    section: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    blocks = python_blocks(section)
    assert blocks, section
    for block in blocks:
        exec(compile(block, f"README.md ({section})", "exec"), {"__name__": "readme"})
    for chart in CHARTS.get(section, ()):
        assert (tmp_path / chart).stat().st_size > 0, chart
