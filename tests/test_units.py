"""Units at the boundary: the allowlist, the factor grammar, and what pint never sees."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.errors import FactorError, InputError, UnitMismatchError
from carbonfoot.units import (
    BASE_PER_CANONICAL,
    CANONICAL_UNITS,
    DISTANCE_UNITS,
    KM_PER_UNIT,
    distance_unit_to_km,
    parse_factor_quantity,
    registry,
)


@pytest.mark.parametrize(
    ("spelling", "km"),
    [
        ("km", 1.0),
        ("KM", 1.0),
        ("m", 0.001),
        ("metres", 0.001),
        ("mi", 1.609344),
        ("公里", 1.0),
        ("米", 0.001),
        ("ft", 0.0003048),
        ("nmi", 1.852),
        (" km ", 1.0),
    ],
)
def test_distance_units_convert_through_pint(spelling: str, km: float) -> None:
    assert distance_unit_to_km(spelling) == pytest.approx(km, rel=1e-12)


@pytest.mark.parametrize("spelling", ["kg", "s", "kWh"])
def test_a_known_unit_that_is_not_a_length_is_named_as_such(spelling: str) -> None:
    with pytest.raises(InputError, match="not a length") as caught:
        distance_unit_to_km(spelling)
    assert caught.value.status == "bad_unit"


@pytest.mark.parametrize(
    "spelling", ["9**9**9", "km*0+1", "furlong", "", "1e400", "__import__('os')"]
)
def test_unit_strings_outside_the_allowlist_are_rejected_quickly(spelling: str) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"unknown distance unit|not a length"):
        distance_unit_to_km(spelling)
    assert time.perf_counter() - started < 1.0


def test_every_allowlisted_unit_is_a_length() -> None:
    for spelling in DISTANCE_UNITS:
        assert distance_unit_to_km(spelling) > 0


@pytest.mark.parametrize(
    ("text", "value", "dimension"),
    [
        ("0.16272 kg / km", 162.72, "emission_intensity"),
        ("162.72 g/km", 162.72, "emission_intensity"),
        ("0.5 kg / mi", 500 / 1.609344, "emission_intensity"),
        ("21 Wh / km", 21.0, "energy_intensity"),
        ("0.021 kWh/km", 21.0, "energy_intensity"),
        ("0.17700 kg / kWh", 0.177, "carbon_intensity"),
        ("0.5617 t / MWh", 0.5617, "carbon_intensity"),
        ("1.58", 1.58, "count"),
    ],
)
def test_factor_quantities_become_canonical_floats(text: str, value: float, dimension: str) -> None:
    parsed, _, kind = parse_factor_quantity(text, where="test")
    assert parsed == pytest.approx(value, rel=1e-12)
    assert kind == dimension


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.1 furlong / km", "unknown unit"),
        ("-0.1 kg / km", "negative"),
        ("inf kg / km", "not '<number> <unit>'"),
        ("nan kg / km", "not '<number> <unit>'"),
        ("1e999 kg / km", "not finite"),
        ("0.1 kg**9**9**9", "not '<number> <unit>'"),
        ("0.1 (kg) / km", "not '<number> <unit>'"),
        ("kg / km", "not '<number> <unit>'"),
    ],
)
def test_bad_factor_quantities_are_rejected_with_the_place(text: str, message: str) -> None:
    with pytest.raises(FactorError, match=message) as caught:
        parse_factor_quantity(text, where="f.toml: [factors.x].value")
    assert "f.toml: [factors.x].value" in str(caught.value)


def test_a_wrong_dimension_is_a_unit_mismatch_and_a_type_error() -> None:
    with pytest.raises(UnitMismatchError) as caught:
        parse_factor_quantity("5 km", where="here")
    assert isinstance(caught.value, TypeError)
    assert isinstance(caught.value, FactorError)


@pytest.mark.parametrize("unit", sorted(set(DISTANCE_UNITS.values())))
def test_the_kilometres_known_without_pint_are_pints_own(unit: str) -> None:
    ureg = registry()
    assert unit in KM_PER_UNIT, f"{unit}: add it to KM_PER_UNIT"
    assert KM_PER_UNIT[unit] == float(ureg.Quantity(1.0, unit).to("kilometer").magnitude)


def test_pint_is_imported_without_dask_and_dask_still_imports_after() -> None:
    code = (
        "import sys; from carbonfoot.units import registry; registry();"
        "assert 'pint' in sys.modules; assert 'dask' not in sys.modules, 'dask came with pint';"
        "import dask; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.stdout.strip() == "ok", done.stderr


@pytest.mark.parametrize("kind", sorted(CANONICAL_UNITS))
def test_the_canonical_magnitudes_known_without_pint_are_pints_own(kind: str) -> None:
    unit = CANONICAL_UNITS[kind]
    from_pint = float(registry().Quantity(1.0, unit).to_base_units().magnitude) if unit else 1.0
    assert BASE_PER_CANONICAL[kind] == from_pint


@given(
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    st.sampled_from(["m", "km", "metres", "Kilometers", "meter"]),
)
def test_lengths_read_without_pint_are_what_pint_reads(value: float, unit: str) -> None:
    from carbonfoot.units import parse_any_quantity

    text = f"{value!r} {unit}"
    fast = parse_any_quantity(text, where="test")
    spelled = DISTANCE_UNITS[unit.casefold()]
    assert fast[0] == float(
        registry().Quantity(float(repr(value)), spelled).to_base_units().magnitude
    )
    assert fast[1] == (("[length]", 1),)
