"""The catalog: ``modes``, ``factors``, ``policies``, ``baselines``, ``plugins``.

What the installed plugins contribute (:mod:`carbonfoot.plugins`), one line each, the id
first, so that the lists can be read by people and by ``cut``.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from carbonfoot.errors import CarbonfootError

__all__ = ["COMMANDS"]


@click.command()
@click.option(
    "--factors",
    "factors",
    metavar="SET",
    help="Show factors from this set (default: the default set).",
)
def modes(factors: str | None) -> None:
    """List installed modes, one per line: id, g/pkm in the set, category, label, aliases, plugin."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    factor_set = catalog.factor_set(factors or catalog.default_factor_set())
    for mode in catalog.modes.modes:
        value = factor_set.g_per_pkm(mode.factor_key)
        shown = f"{value:.4g} g/pkm" if value is not None else "no factor"
        aliases = ", ".join(mode.aliases)
        owner = catalog.modes.owners.get(mode.id, "")
        click.echo(f"{mode.id}\t{shown}\t{mode.category}\t{mode.label}\t{aliases}\t[{owner}]")


@click.command(name="factors")
@click.argument("name", required=False)
@click.option(
    "--check",
    is_flag=True,
    help="Load and validate every installed set; exit non-zero on any error.",
)
def factors_command(name: str | None, check: bool) -> None:
    """List factor sets (one per line, name first), or show the factors of set NAME."""
    from carbonfoot.engine import Engine
    from carbonfoot.errors import FactorError
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    if name is not None:
        _show_factor_set(catalog.factor_set(name))
        return
    default = _safe_default(catalog)
    failures = 0
    for set_name in sorted(catalog.factor_sets):
        try:
            factor_set = catalog.factor_set(set_name)
            if check:
                Engine(factor_set, catalog=catalog)  # its own default baseline must resolve
        except CarbonfootError as exc:
            failures += 1
            click.echo(f"{set_name}\tINVALID\t{exc}")
            continue
        marker = "\t(default)" if set_name == default else ""
        click.echo(
            f"{set_name}\t{factor_set.version}\t{factor_set.short_hash}\t{factor_set.title}{marker}"
        )
    if check and failures:
        raise FactorError(f"{failures} factor set(s) failed validation")


def _safe_default(catalog: Any) -> str | None:
    try:
        return str(catalog.default_factor_set())
    except CarbonfootError:
        return None


def _show_factor_set(factor_set: Any) -> None:
    click.echo(f"{factor_set.name} {factor_set.version} sha256 {factor_set.content_hash}")
    extends = f"; extends {' -> '.join(factor_set.extends)}" if factor_set.extends else ""
    click.echo(
        f"{factor_set.title}; region {factor_set.region}; {factor_set.scope}; {factor_set.gas} "
        f"{factor_set.gwp}{extends}"
    )
    for key, variants in factor_set.factors.items():
        for factor in variants:
            resolved = factor_set.resolve(key, factor.validity.first_day, factor.validity.district)
            per_pkm = f"{resolved.g_per_pkm:.4g} g/pkm" if resolved is not None else ""
            validity = factor.validity.describe()
            click.echo(
                f"{key}\t{factor.shown}\t{factor.per or '-'}\t{per_pkm}\t"
                f"{'' if validity == 'always' else validity}\t{factor.source.publisher} "
                f"{factor.source.year}: {factor.locator or factor.source.kind}"
            )


@click.command()
def policies() -> None:
    """List credit policies (id first) and their parameters with defaults."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    default = catalog.default_policy() if catalog.default_policies else None
    for spec in catalog.policies.values():
        marker = " (default)" if spec.id == default else ""
        click.echo(f"{spec.id}\t{spec.unit}\t{spec.description}{marker}")
        for parameter in spec.parameters:
            click.echo(
                f"  {parameter.name}={'' if parameter.default is None else parameter.default}\t{parameter.description}"
            )


@click.command()
def baselines() -> None:
    """List baseline methodologies (id first) with their citation and parameters."""
    from carbonfoot.plugins import default_catalog

    catalog = default_catalog()
    click.echo(
        "MODE\ta mode id or alias, e.g. car: every trip replaces the same distance by that mode"
    )
    click.echo(
        "MIX\tmode:weight,... e.g. car:0.6,taxi:0.1,bus:0.3: passenger-km-weighted mean of modes"
    )
    for spec in catalog.baselines.values():
        click.echo(f"{spec.id}\t{spec.description}")
        click.echo(f"  source: {spec.citation}")
        for parameter in spec.parameters:
            default = "" if parameter.default is None else parameter.default
            click.echo(f"  {parameter.name}={default}\t{parameter.description}")


@click.command()
@click.option(
    "--json", "as_json", is_flag=True, help="Every plugin and what it contributes, as JSON."
)
def plugins(as_json: bool) -> None:
    """List loaded plugins and what each contributes, of every kind; report plugins that
    failed (exit 1 if any did)."""
    from carbonfoot.plugins import HOOKS, default_catalog, plugin_summary

    catalog = default_catalog()
    summary = plugin_summary(catalog)
    if as_json:
        failed = [
            {"plugin": error.plugin, "distribution": error.distribution, "error": str(error)}
            for error in catalog.errors
        ]
        click.echo(json.dumps({"plugins": summary, "failed": failed}, ensure_ascii=False, indent=2))
    else:
        for row in summary:
            parts = [
                f"{hook.kind}: {', '.join(row[hook.kind])}" for hook in HOOKS if row[hook.kind]
            ]
            click.echo(f"{row['plugin']}\t{'; '.join(parts)}")
        for error in catalog.errors:
            click.echo(f"FAILED\t{error}")
    if catalog.errors:
        sys.exit(1)


COMMANDS = (modes, factors_command, policies, baselines, plugins)
