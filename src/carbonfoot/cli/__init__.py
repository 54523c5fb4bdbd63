"""The ``carbonfoot`` command: options in, one library call, text out.

It imports the library; the library never imports it. One error boundary for every
command: a :class:`carbonfoot.CarbonfootError` is printed as one line on stderr,
``error: ...``, with exit status 2 (a file with some bad rows is not an error: the rows
come back with a status). Each command group lives in a module of its own, named for
the library module it drives:

* :mod:`~carbonfoot.cli.calc`: ``calc`` and ``demo`` (:mod:`carbonfoot.calc`);
* :mod:`~carbonfoot.cli.catalog`: ``modes``, ``factors``, ``policies``, ``baselines``,
  ``plugins`` (:mod:`carbonfoot.plugins`);
* :mod:`~carbonfoot.cli.research`: ``explain``, ``uncertainty``, ``sensitivity``,
  ``compare`` (:mod:`carbonfoot.research.explain`, :mod:`carbonfoot.research`);
* :mod:`~carbonfoot.cli.ledger`: ``ledger ...`` (:mod:`carbonfoot.ledger`);
* :mod:`~carbonfoot.cli.serve`: ``serve`` and ``keys ...`` (:mod:`carbonfoot.service`,
  :mod:`carbonfoot.ledger.keys`).

The engine options they share are in :mod:`~carbonfoot.cli.options`, what they print in
:mod:`~carbonfoot.cli.render`. Heavy modules are imported inside the commands, so that
``carbonfoot --help`` and a small job start quickly.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from carbonfoot.errors import CarbonfootError

__all__ = ["EXIT_ERROR", "main"]

EXIT_ERROR = 2


class CarbonfootGroup(click.Group):
    """A command group whose commands report a library error as ``error: ...``, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CarbonfootError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_ERROR)


@click.group(cls=CarbonfootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="carbonfoot")
def main() -> None:
    """carbonfoot: CO2 savings of low-carbon trips, and the credits or coins they earn."""
    from carbonfoot._kernels.deferred_pandas import defer_pandas

    defer_pandas()  # a command that never holds a pandas object does not import pandas


def _add_commands() -> None:
    from carbonfoot.cli import calc, catalog, ledger, research, serve

    for module in (calc, catalog, research, ledger, serve):
        for command in module.COMMANDS:
            main.add_command(command)


_add_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
