"""A MkDocs hook: one page per plugin hook, generated from the code at every build.

The hooks are those of ``carbonfoot.plugins.HOOKS`` (one row per hook; tests/test_hookspecs.py
checks that each has its spec in ``carbonfoot.hookspecs``). Each page shows the hook's
docstring and its ``register`` callback's protocol through mkdocstrings, so a hook added to
the code gets its page, and one removed loses it, with no page to edit by hand. It also
drops the Sphinx role names (``:class:``) the docstrings put before inline code.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from mkdocs.structure.files import File, Files

from carbonfoot import hookspecs
from carbonfoot.plugins import HOOKS

#: A reST role left before inline code by docstrings written for Sphinx (``:class:`X```):
#: mkdocstrings renders the code, the role would show as text.
_ROLE = re.compile(r":(?:class|mod|func|meth|attr|data|exc|obj):(?=<code>)")

SECTION = "Plugins"
FOLDER = "plugins"


def _page(row: Any) -> str:
    spec = getattr(hookspecs, row.hook)
    protocol = str(inspect.signature(spec).parameters["register"].annotation)
    return (
        f"# `{row.hook}`\n\n"
        f"Contributes each **{row.noun}** a plugin registers; the catalog keeps them as "
        f"`Catalog.{row.kind}`, one per name across every installed plugin.\n\n"
        f"::: carbonfoot.hookspecs.{row.hook}\n"
        "    options:\n"
        "      show_root_heading: false\n\n"
        f"## The `register` callback\n\n"
        f"::: carbonfoot.hookspecs.{protocol}\n"
    )


def on_config(config: Any) -> Any:
    """Add each hook's page to the Plugins section of the navigation."""
    for entry in config["nav"]:
        if isinstance(entry, dict) and SECTION in entry:
            entry[SECTION] = [
                f"{FOLDER}/index.md",
                *({row.hook: f"{FOLDER}/{row.hook}.md"} for row in HOOKS),
            ]
    return config


def on_files(files: Files, config: Any) -> Files:
    """Generate the hook pages (in memory: nothing is written into docs/)."""
    for row in HOOKS:
        files.append(File.generated(config, f"{FOLDER}/{row.hook}.md", content=_page(row)))
    return files


def on_page_content(html: str, **kwargs: Any) -> str:
    """Drop the reST role names in front of inline code on every page."""
    return _ROLE.sub("", html)
