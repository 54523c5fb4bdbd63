"""``explain``: one trip, every step with its unit and every number with its source.

An auditor reading the output can redo the arithmetic by hand and find each published
number in its publication (publisher, title, edition, year, table or cell, scope, gas
and GWP basis), see which variant of a factor was in force on the trip's date and in
its district, and how the baseline methodology and the policy turned savings into credits.
"""

from __future__ import annotations

import datetime as dt

from carbonfoot.engine import Engine, TripResult
from carbonfoot.factors import Factor, FactorSet
from carbonfoot.parameters import format_param
from carbonfoot.times import date_of, day_number, today
from carbonfoot.units import kind_of

__all__ = ["explain_trip"]


def explain_trip(
    engine: Engine,
    mode: str,
    distance: float | str,
    unit: str = "km",
    *,
    on: dt.date | None = None,
    district: str = "",
) -> str:
    """A plain-text, step-by-step account of how ``engine`` computes one trip."""
    result = engine.trip(mode, distance, unit, on=on, district=district)
    factor_set = engine.factor_set
    mode_value = engine.mode(mode)
    day = today() if on is None else day_number(on)
    date_text = date_of(day).isoformat()
    code = engine.modes.code_of(mode_value.id)
    cell_d, cell_k = engine.cell_of(on, district)
    lines = [
        f"Trip: {distance}{'' if isinstance(distance, str) else ' ' + unit} by {mode_value.id} ({mode_value.label}),"
        f" on {date_text}{' in ' + district if district else ''}",
        f"Distance: {result.distance_km:.6g} km",
        f"Factor set: {factor_set.name} version {factor_set.version}, content sha256 {factor_set.content_hash}",
        f"  {factor_set.title}"
        + (f" (extends {' -> '.join(factor_set.extends)})" if factor_set.extends else ""),
        "",
        f"1. Emissions of the trip ({mode_value.id})",
        *_factor_lines(factor_set, mode_value.factor_key, day, district, indent="   "),
        f"   emissions = {_g(engine.factor_table[code, cell_d, cell_k])} g/pkm"
        f" x {result.distance_km:.6g} km = {_g(result.emissions_g)} g {factor_set.gas}",
        "",
        f"2. Baseline: {engine.baseline.spec} ({engine.baseline.description})",
    ]
    if engine.baseline.citation:
        lines.append(f"   methodology: {engine.baseline.citation}")
    for mode_id, weight in engine.baseline.components:
        key = engine.mode(mode_id).factor_key
        share = f"weight {weight:g}: " if len(engine.baseline.components) > 1 else ""
        lines.append(f"   {share}{mode_id}")
        lines.extend(_factor_lines(factor_set, key, day, district, indent="     "))
    baseline_factor = engine.baseline_table[code, cell_d, cell_k]
    lines += [
        f"   baseline = {_g(baseline_factor)} g/pkm x {result.distance_km:.6g} km = {_g(result.baseline_g)} g",
        "",
        "3. Savings = max(0, baseline - emissions)",
        f"   = max(0, {_g(result.baseline_g)} - {_g(result.emissions_g)}) = {_g(result.savings_g)} g {factor_set.gas}",
        "",
        *_policy_lines(engine, result),
    ]
    return "\n".join(lines)


def _factor_lines(
    factor_set: FactorSet, key: str, day: int, district: str, *, indent: str
) -> list[str]:
    resolved = factor_set.resolve(key, day, district)
    if resolved is None:
        return [f"{indent}{key}: no factor valid on that date and in that district"]
    lines = []
    for step in resolved.steps:
        if step.factor_key:
            factor = factor_set.factors[step.factor_key][step.variant]
            lines.extend(_provenance(factor, indent))
        else:
            lines.append(f"{indent}-> {step.description}: {_g(step.value)} {step.unit}")
    lines.append(
        f"{indent}= {_g(resolved.g_per_pkm)} g {resolved.gas} per passenger-km ({resolved.scope})"
    )
    return lines


def _provenance(factor: Factor, indent: str) -> list[str]:
    lines = [
        f"{indent}{factor.key} = {factor.shown}" + (f" (per {factor.per})" if factor.per else "")
    ]
    source = factor.source
    lines.append(f"{indent}  source: {source.citation()}")
    if factor.locator:
        lines.append(f"{indent}  where: {factor.locator}")
    gwp = f", GWP {factor.gwp}" if factor.gwp and factor.gas == "CO2e" else ""
    validity = factor.validity.describe()
    carbon = kind_of(factor.dims) in ("emission_intensity", "carbon_intensity")
    lines.append(
        f"{indent}  region {factor.region}"
        + (f"; scope {factor.scope}; gas {factor.gas}{gwp}" if carbon else "")
        + ("" if validity == "always" else f"; valid {validity}")
    )
    if factor.uncertainty is not None:
        lines.append(
            f"{indent}  uncertainty: {factor.uncertainty.distribution} ({factor.uncertainty.source})"
        )
    if factor.note:
        lines.append(f"{indent}  note: {' '.join(factor.note.split())}")
    return lines


def _policy_lines(engine: Engine, result: TripResult) -> list[str]:
    policy = engine.policy
    params = ", ".join(f"{name}={format_param(value)}" for name, value in policy.params.items())
    savings_mg = round(result.savings_g * 1000.0)
    plural = "s" if result.credits != 1 else ""
    return [
        f"4. Policy {policy.id} ({params})",
        f"   rule: {policy.describe()}",
        f"   savings = {savings_mg} mg -> {result.credits} {policy.unit}{plural} (as the user's only trip of the day)",
    ]


def _g(value: float) -> str:
    return f"{value:.6g}"
