"""The documentation site builds, strictly, from the code as it is.

``mkdocs build --strict`` fails on any warning: a page the navigation names that is missing,
a link or anchor that leads nowhere, an API object mkdocstrings cannot find (a renamed
function), a snippet whose file moved. The checks after the build hold the promises of the
generated pages: one page per hook of ``carbonfoot.plugins.HOOKS`` with its docstring, every
command of the CLI in the reference, the factor-file format as in ``factors/README.md``.
(About 6 s of CPU; not marked slow, so ``make test`` runs it.)
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest

from carbonfoot import hookspecs
from carbonfoot.cli import main
from carbonfoot.plugins import HOOKS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return target


def text_of(page: Path) -> str:
    """A page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    return re.sub(r"\s+", " ", text)


def words_of(docstring: str) -> str:
    """A docstring's first line as the page shows it: inline code marks gone."""
    return re.sub(r"\s+", " ", docstring.strip().splitlines()[0].replace("``", ""))


def test_each_hook_has_a_page_with_its_docstring(site: Path) -> None:
    for row in HOOKS:
        page = site / "plugins" / row.hook / "index.html"
        assert page.exists(), row.hook
        doc = getattr(hookspecs, row.hook).__doc__
        assert doc is not None
        shown = re.sub(r" ?([.,]) ?", r"\1", text_of(page))
        assert re.sub(r" ?([.,]) ?", r"\1", words_of(doc)) in shown, row.hook


def test_the_cli_reference_lists_every_command(site: Path) -> None:
    text = text_of(site / "cli" / "index.html")
    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None
        assert f"carbonfoot {name}" in text, name
        if isinstance(command, click.Group):
            for sub in command.list_commands(click.Context(command)):
                assert f"{name} {sub}" in text, f"{name} {sub}"


def test_the_factor_file_format_is_the_repositorys(site: Path) -> None:
    text = text_of(site / "factor-files" / "index.html")
    headings = re.findall(r"^## (.+)$", (ROOT / "factors" / "README.md").read_text("utf-8"), re.M)
    assert headings
    for heading in headings:
        assert heading.strip("` ") in text, heading


def test_the_library_pages_show_the_public_calls(site: Path) -> None:
    engine = text_of(site / "api" / "engine" / "index.html")
    assert "compute" in engine
    assert "to_pandas" in engine
    ledger = text_of(site / "api" / "ledger" / "index.html")
    for name in ("balance", "balances", "history", "export", "Balances"):
        assert name in ledger, name
