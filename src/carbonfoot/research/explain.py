"""``explain``: one trip, every step with its unit and every number with its source.

An auditor reading the output can redo the arithmetic by hand and find each published
number in its publication (publisher, title, edition, year, table or cell, scope, gas
and GWP basis), see which variant of a factor was in force on the trip's date and in
its district, and how the baseline methodology and the policy turned savings into credits.

:func:`explain` returns the account as data, a :class:`TripExplanation`: the steps of
the arithmetic (text, each number with its source), the variants in force, and every
reason the trip earns what it earns (:class:`carbonfoot.policies.AwardReason`: not
eligible, capped, quarantined, no baseline...). The CLI prints :meth:`TripExplanation.text`;
a service can send :meth:`TripExplanation.to_dict` as JSON. :func:`explain_trip` is the
text in one call.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal
from typing import Any

from attrs import asdict, frozen

from carbonfoot.engine import Engine
from carbonfoot.errors import did_you_mean
from carbonfoot.factors import Factor, FactorSet
from carbonfoot.intake.distance import trip_distance_km
from carbonfoot.money import parse_amount
from carbonfoot.parameters import format_param
from carbonfoot.policies import AwardReason
from carbonfoot.times import date_of, day_number, today
from carbonfoot.units import kind_of

__all__ = ["FactorVariant", "TripExplanation", "explain", "explain_trip"]


@frozen
class FactorVariant:
    """The variant of one factor in force for the trip: its district ("" where the
    general value applies) and its validity (``"always"`` or ``"from ... to ..."``)."""

    key: str
    value: str
    district: str
    validity: str
    source: str


@frozen
class TripExplanation:
    """How one trip is computed and why it earns what it earns, as data.

    ``date`` is the local date the factors were taken for (``date_given`` false: today,
    UTC); ``district`` the district asked for and ``district_used`` the one whose
    variants apply ("" : the general values). ``status`` is what a batch row of this
    trip would get (``ok``, ``no_factor``, ``no_baseline``, ``suspect_distance``...);
    ``credits`` what it is paid, in the policy's unit, after ``already_paid`` that day;
    ``reasons`` say why, in the order they apply; ``steps`` are the arithmetic as lines of
    text, each number with its source.
    """

    mode: str
    mode_label: str
    distance: str
    distance_km: float
    date: dt.date
    date_given: bool
    district: str
    district_used: str
    factor_set: str
    factor_set_version: str
    factor_set_hash: str
    baseline: str
    policy: str
    variants: tuple[FactorVariant, ...]
    emissions_g: float | None
    baseline_g: float | None
    savings_g: float | None
    status: str
    credits: int | Decimal
    credit_unit: str
    already_paid: int | Decimal
    reasons: tuple[AwardReason, ...]
    steps: tuple[str, ...]

    def verdict(self) -> str:
        """``-> 0 credits: bus is not eligible under green-credit (eligible: ...)``."""
        plural = "" if self.credits == 1 else "s"
        why = "; ".join(
            reason.message for reason in self.reasons if reason.code not in _QUIET_REASONS
        )
        return f"-> {self.credits} {self.credit_unit}{plural}" + (f": {why}" if why else "")

    def text(self) -> str:
        """The whole account as plain text: the steps, then the verdict."""
        return "\n".join((*self.steps, "", self.verdict()))

    def to_dict(self) -> dict[str, Any]:
        """The explanation as JSON-ready values (dates as ISO text, amounts as text)."""
        record = asdict(self, recurse=True)
        record["date"] = self.date.isoformat()
        record["credits"] = str(self.credits)
        record["already_paid"] = str(self.already_paid)
        record["reasons"] = [
            {"code": r.code, "message": r.message, "figures": dict(r.figures)} for r in self.reasons
        ]
        record["verdict"] = self.verdict()
        return record


#: Reasons that say nothing the verdict needs ("no daily cap applies").
_QUIET_REASONS = frozenset({"no_cap", "within_cap", "rule"})


def explain_trip(
    engine: Engine,
    mode: str,
    distance: float | str,
    unit: str = "km",
    *,
    on: dt.date | None = None,
    district: str = "",
    already_paid: int | str | Decimal = 0,
) -> str:
    """A plain-text, step-by-step account of how ``engine`` computes one trip."""
    return explain(
        engine, mode, distance, unit, on=on, district=district, already_paid=already_paid
    ).text()


def explain(
    engine: Engine,
    mode: str,
    distance: float | str,
    unit: str = "km",
    *,
    on: dt.date | None = None,
    district: str = "",
    already_paid: int | str | Decimal = 0,
) -> TripExplanation:
    """How ``engine`` computes one trip of ``mode`` over ``distance`` (a number in
    ``unit``, or text such as ``"5km"``), on the local date ``on`` (default today) in
    ``district``, when its user was already paid ``already_paid`` (in the policy's unit)
    that day; see :class:`TripExplanation`.

    Raises :class:`carbonfoot.UnknownModeError` for an unknown mode and
    :class:`carbonfoot.InputError` for a distance that is no distance; everything a batch
    would give the trip as a row status (no factor, no baseline, quarantine) is a reason.
    """
    mode_value = engine.mode(mode)
    km = trip_distance_km(distance, unit)
    info = engine.run_info
    paid_minor = (
        0
        if str(already_paid).strip() in ("", "0")
        else parse_amount(already_paid, info.credit_decimals, info.credit_unit)
    )
    factor_set = engine.factor_set
    day = today() if on is None else day_number(on)
    code = engine.modes.code_of(mode_value.id)
    cell_d, cell_k = engine.cell_of(on, district)
    district_used = factor_set.districts[cell_d]
    factor = float(engine.factor_table[code, cell_d, cell_k])
    base = float(engine.baseline_table[code, cell_d, cell_k])
    shown_distance = f"{distance}" if isinstance(distance, str) else f"{distance:g} {unit}"
    date_text = date_of(day).isoformat()
    keys = [mode_value.factor_key] + [
        engine.mode(mode_id).factor_key for mode_id, _ in engine.baseline.components
    ]
    variants = _variants(factor_set, keys, day, district)
    lines = [
        f"Trip: {shown_distance} by {mode_value.id} ({mode_value.label}),"
        f" on {date_text}{'' if on is not None else ' (today, UTC: give --date for another day)'}"
        f"{' in ' + district if district else ''}",
        f"Distance: {km:.6g} km",
        f"Factor set: {factor_set.name} version {factor_set.version}, content sha256 {factor_set.content_hash}",
        f"  {factor_set.title}"
        + (f" (extends {' -> '.join(factor_set.extends)})" if factor_set.extends else ""),
        *_district_lines(factor_set, district, district_used),
        *_variant_lines(variants, date_text),
        "",
        f"1. Emissions of the trip ({mode_value.id})",
        *_factor_lines(factor_set, mode_value.factor_key, day, district, indent="   "),
    ]
    emissions_g = factor * km if not math.isnan(factor) else None
    baseline_g = base * km if not math.isnan(base) else None
    savings_g: float | None = None
    if emissions_g is not None:
        lines.append(
            f"   emissions = {_g(factor)} g/pkm x {km:.6g} km = {_g(emissions_g)} g {factor_set.gas}"
        )
    lines += ["", f"2. Baseline: {engine.baseline.spec} ({engine.baseline.description})"]
    if engine.baseline.citation:
        lines.append(f"   methodology: {engine.baseline.citation}")
    for mode_id, weight in engine.baseline.components:
        key = engine.mode(mode_id).factor_key
        share = f"weight {weight:g}: " if len(engine.baseline.components) > 1 else ""
        lines.append(f"   {share}{mode_id}")
        lines.extend(_factor_lines(factor_set, key, day, district, indent="     "))
    if baseline_g is not None:
        lines.append(f"   baseline = {_g(base)} g/pkm x {km:.6g} km = {_g(baseline_g)} g")
    if emissions_g is not None and baseline_g is not None:
        savings_g = float(engine.savings_table[code, cell_d, cell_k]) * km
        lines += [
            "",
            "3. Savings = max(0, baseline - emissions)",
            f"   = max(0, {_g(baseline_g)} - {_g(emissions_g)}) = {_g(savings_g)} g {factor_set.gas}",
        ]
    lines += [
        "",
        "Checks: the mode's distance limits; speed, overlap and duplicate checks need the "
        "trip's times and the user's other trips (calc and ledger credit make them)",
    ]
    status, reasons = _status(engine, mode_value.id, code, km, emissions_g, baseline_g, district)
    award = 0
    if status == "ok":
        assert savings_g is not None
        award, policy_reasons = engine.trip_award(
            mode_value.id, round(savings_g * 1000.0), on=date_of(day), already_issued=paid_minor
        )
        reasons = reasons + policy_reasons
        lines += ["", *_policy_lines(engine, savings_g, award, paid_minor)]
    return TripExplanation(
        mode=mode_value.id,
        mode_label=mode_value.label,
        distance=shown_distance,
        distance_km=km,
        date=date_of(day),
        date_given=on is not None,
        district=district,
        district_used=district_used,
        factor_set=factor_set.name,
        factor_set_version=factor_set.version,
        factor_set_hash=factor_set.content_hash,
        baseline=engine.baseline.spec,
        policy=engine.policy.id,
        variants=variants,
        emissions_g=emissions_g,
        baseline_g=baseline_g,
        savings_g=savings_g,
        status=status,
        credits=info.credit_value(award),
        credit_unit=info.credit_unit,
        already_paid=info.credit_value(paid_minor),
        reasons=reasons,
        steps=tuple(lines),
    )


def _district_lines(factor_set: FactorSet, district: str, used: str) -> list[str]:
    """Which district's variants apply, said in words (and a guess for a typo)."""
    named = [name for name in factor_set.districts if name]
    if not district:
        if not named:
            return []
        return [
            f"  District: none given: the general values apply (variants for {', '.join(named)})"
        ]
    if used:
        return [f"  District: {district}: its own variants apply where the set has them"]
    guess = did_you_mean(district, named)
    hint = f" (did you mean {' or '.join(map(repr, guess))}?)" if guess else ""
    listed = f"; districts with variants: {', '.join(named)}" if named else ""
    return [
        f"  District: {district!r} has no variants of its own in this set{hint}: "
        f"the general values apply{listed}"
    ]


def _variant_lines(variants: tuple[FactorVariant, ...], date_text: str) -> list[str]:
    """Which variant of each factor with a validity or a district is in force."""
    limited = [
        f"{variant.key} ({variant.validity})"
        for variant in variants
        if variant.validity != "always"
    ]
    if not limited:
        return []
    return [f"  In force on {date_text}: {', '.join(limited)}; every other factor: always"]


def _status(
    engine: Engine,
    mode_id: str,
    code: int,
    km: float,
    emissions_g: float | None,
    baseline_g: float | None,
    district: str,
) -> tuple[str, tuple[AwardReason, ...]]:
    """The status a batch row of this trip would get, and its reason (none when ok)."""
    where = " on that date in that district" if not engine.single_cell else ""
    if emissions_g is None:
        return "no_factor", (
            AwardReason(
                "no_factor",
                f"{mode_id} has no factor in factor set {engine.factor_set.name!r}{where}",
                {"mode": mode_id},
            ),
        )
    if baseline_g is None:
        return "no_baseline", (
            AwardReason(
                "no_baseline",
                f"{mode_id} has no baseline in methodology {engine.baseline.spec!r}{where}",
                {"mode": mode_id, "baseline": engine.baseline.spec},
            ),
        )
    limits = engine.plausibility.limits[code]
    figures = {"distance_km": f"{km:.6g}"}
    if km > limits.max_trip_km:
        return "suspect_distance", (
            AwardReason(
                "suspect_distance",
                f"quarantined (suspect_distance): {km:.6g} km is longer than {mode_id}'s "
                f"maximum trip of {limits.max_trip_km:g} km; held for review, earning nothing",
                {**figures, "max_trip_km": f"{limits.max_trip_km:g}"},
            ),
        )
    if km > limits.max_daily_km:
        return "suspect_daily_distance", (
            AwardReason(
                "suspect_daily_distance",
                f"quarantined (suspect_daily_distance): {km:.6g} km is over {mode_id}'s daily "
                f"maximum of {limits.max_daily_km:g} km; held for review, earning nothing",
                {**figures, "max_daily_km": f"{limits.max_daily_km:g}"},
            ),
        )
    return "ok", ()


def _variants(
    factor_set: FactorSet, keys: list[str], day: int, district: str
) -> tuple[FactorVariant, ...]:
    """Every factor the trip's numbers use, with the variant in force."""
    found: dict[str, FactorVariant] = {}
    for key in keys:
        resolved = factor_set.resolve(key, day, district)
        if resolved is None:
            continue
        for step in resolved.steps:
            if step.factor_key and step.factor_key not in found:
                factor = factor_set.factors[step.factor_key][step.variant]
                found[step.factor_key] = FactorVariant(
                    key=step.factor_key,
                    value=factor.shown,
                    district=factor.validity.district,
                    validity=factor.validity.describe(),
                    source=factor.source.citation(),
                )
    return tuple(found.values())


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


def _policy_lines(engine: Engine, savings_g: float, award: int, paid: int) -> list[str]:
    policy = engine.policy
    info = engine.run_info
    params = ", ".join(f"{name}={format_param(value)}" for name, value in policy.params.items())
    savings_mg = round(savings_g * 1000.0)
    credits = info.credit_value(award)
    plural = "s" if credits != 1 else ""
    day = (
        "as the user's only trip of the day"
        if paid == 0
        else f"after {info.credit_value(paid)} already paid to the user that day"
    )
    return [
        f"4. Policy {policy.id} ({params})",
        f"   rule: {policy.describe()}",
        f"   savings = {savings_mg} mg -> {credits} {policy.unit}{plural} ({day})",
    ]


def _g(value: float) -> str:
    return f"{value:.6g}"
