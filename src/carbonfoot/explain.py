"""``explain``: one trip, every step with its unit and every number with its source.

An auditor reading the output can redo the arithmetic by hand and find each published
number in its publication (publisher, title, edition, year, table or cell, scope, gas
and GWP basis).
"""

from __future__ import annotations

from carbonfoot.engine import Engine, TripResult
from carbonfoot.factors import Factor, FactorSet

__all__ = ["explain_trip"]


def explain_trip(engine: Engine, mode: str, distance: float | str, unit: str = "km") -> str:
    """A plain-text, step-by-step account of how ``engine`` computes one trip."""
    result = engine.trip(mode, distance, unit)
    factor_set = engine.factor_set
    mode_value = engine.mode(mode)
    lines = [
        f"Trip: {distance} {unit if not isinstance(distance, str) else ''}".rstrip()
        + f" by {mode_value.id} ({mode_value.label})",
        f"Distance: {result.distance_km:.6g} km",
        f"Factor set: {factor_set.name} version {factor_set.version}, content sha256 {factor_set.content_hash}",
        f"  {factor_set.title}",
        "",
        f"1. Emissions of the trip ({mode_value.id})",
        *_factor_lines(factor_set, mode_value.factor_key, indent="   "),
        f"   emissions = {_g(engine.factor_g_per_pkm[engine.modes.code_of(mode_value.id)])} g/pkm"
        f" x {result.distance_km:.6g} km = {_g(result.emissions_g)} g {factor_set.gas}",
        "",
        f"2. Baseline: {engine.baseline.spec} ({engine.baseline.description})",
    ]
    for mode_id, weight, g_per_pkm in engine.baseline.components:
        key = engine.mode(mode_id).factor_key
        share = f"weight {weight:g}: " if len(engine.baseline.components) > 1 else ""
        lines.append(f"   {share}{mode_id} = {_g(g_per_pkm)} g/pkm")
        lines.extend(_factor_lines(factor_set, key, indent="     "))
    lines += [
        f"   baseline = {_g(engine.baseline.g_per_pkm)} g/pkm x {result.distance_km:.6g} km"
        f" = {_g(result.baseline_g)} g",
        "",
        "3. Savings = max(0, baseline - emissions)",
        f"   = max(0, {_g(result.baseline_g)} - {_g(result.emissions_g)}) = {_g(result.savings_g)} g {factor_set.gas}",
        "",
        *_policy_lines(engine, result),
    ]
    return "\n".join(lines)


def _factor_lines(factor_set: FactorSet, key: str, *, indent: str) -> list[str]:
    resolved = factor_set.resolved[key]
    lines = []
    for step in resolved.steps:
        if step.factor_key:
            lines.extend(_provenance(factor_set.factors[step.factor_key], indent))
        else:
            lines.append(f"{indent}-> {step.description}: {_g(step.value)} {step.unit}")
    lines.append(
        f"{indent}= {_g(resolved.g_per_pkm)} g {resolved.gas} per passenger-km ({resolved.scope})"
    )
    return lines


def _provenance(factor: Factor, indent: str) -> list[str]:
    lines = [
        f"{indent}{factor.key} = {factor.quantity}"
        + (f" per {factor.per}-km" if factor.per else "")
    ]
    source = factor.source
    lines.append(f"{indent}  source: {source.citation()}")
    if factor.locator:
        lines.append(f"{indent}  where: {factor.locator}")
    gwp = f", GWP {factor.gwp}" if factor.gwp and factor.gas == "CO2e" else ""
    lines.append(f"{indent}  region {factor.region}; scope {factor.scope}; gas {factor.gas}{gwp}")
    if factor.note:
        lines.append(f"{indent}  note: {' '.join(factor.note.split())}")
    return lines


def _policy_lines(engine: Engine, result: TripResult) -> list[str]:
    policy = engine.policy
    params = ", ".join(f"{name}={value}" for name, value in policy.params.items())
    savings_mg = round(result.savings_g * 1000.0)
    return [
        f"4. Policy {policy.id} ({params})",
        f"   rule: {policy.describe()}",
        f"   savings = {savings_mg} mg -> {result.credits} {policy.unit}{'s' if result.credits != 1 else ''}"
        " (as the user's only trip of the day)",
    ]


def _g(value: float) -> str:
    return f"{value:.6g}"
