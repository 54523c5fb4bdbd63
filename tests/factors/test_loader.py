"""Factor sets: validation with file and key in every message, provenance, derivations."""

from __future__ import annotations

import csv
import re
import textwrap
from pathlib import Path

import pytest

from carbonfoot.errors import FactorError, UnitMismatchError
from carbonfoot.factors import Factor, load_factor_set
from carbonfoot.plugins import Catalog
from carbonfoot.units import parse_any_quantity

DATA = Path(__file__).resolve().parents[1] / "data"

VALID = """
schema = 1
[set]
name = "tiny"
title = "A tiny set for tests"
region = "XX"
scope = "tank-to-wheel"
gas = "CO2e"
gwp = "AR5"
baseline = "car"
[sources.pub]
publisher = "Publisher"
title = "Title"
year = 2025
[sources.def]
publisher = "carbonfoot"
title = "Definitions"
year = 2026
kind = "definition"
[factors.car]
value = "0.2 kg / km"
per = "vehicle"
occupancy = "car-occupancy"
source = "pub"
locator = "Table 1"
[factors.car-occupancy]
value = "2"
source = "pub"
locator = "Table 2"
[factors.bus]
value = "50 g / km"
per = "passenger"
source = "pub"
locator = "Table 3"
[factors.walk]
value = "0 g / km"
per = "passenger"
source = "def"
[factors.e-bike]
value = "20 Wh / km"
per = "vehicle"
occupancy = "one"
electricity = ["grid", "losses"]
source = "pub"
locator = "Table 4"
[factors.one]
value = "1"
source = "def"
[factors.grid]
value = "0.5 kg / kWh"
source = "pub"
locator = "Table 5"
gas = "CO2"
[factors.losses]
value = "0.05 kg / kWh"
source = "pub"
locator = "Table 6"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_valid_set_resolves_every_derivation(tmp_path: Path) -> None:
    factor_set = load_factor_set(write(tmp_path, VALID))
    assert factor_set.g_per_pkm("car") == pytest.approx(100.0)  # 200 g/vkm / 2
    assert factor_set.g_per_pkm("bus") == pytest.approx(50.0)
    assert factor_set.g_per_pkm("walk") == 0.0
    assert factor_set.g_per_pkm("e-bike") == pytest.approx(20 * 0.55)  # Wh/km x g/Wh, 1 rider
    assert factor_set.g_per_pkm("car-occupancy") is None  # not a per-km factor
    e_bike = factor_set.resolve("e-bike")
    assert e_bike is not None
    assert e_bike.gas == "CO2"  # one CO2-only input makes it CO2
    car = factor_set.resolve("car")
    assert car is not None
    assert car.inputs == ("car", "car-occupancy")


def test_content_hash_ignores_formatting_but_not_numbers(tmp_path: Path) -> None:
    first = load_factor_set(write(tmp_path, VALID)).content_hash
    reformatted = load_factor_set(write(tmp_path, "# a comment\n" + VALID.replace(" = ", "=")))
    changed = load_factor_set(write(tmp_path, VALID.replace('"50 g / km"', '"51 g / km"')))
    assert reformatted.content_hash == first
    assert changed.content_hash != first


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        (
            'value = "50 g / km"',
            'value = "50 kg"',
            "[factors.bus]",
            "belong to per-km factors only",
        ),
        ('value = "50 g / km"', 'value = "50 stone / km"', "[factors.bus].value", "unknown unit"),
        ('value = "50 g / km"', 'value = "-50 g / km"', "[factors.bus].value", "negative"),
        ('value = "50 g / km"', 'value = "nan g / km"', "[factors.bus].value", "not '<number>"),
        ('value = "50 g / km"', 'value = "1e999 g / km"', "[factors.bus].value", "not finite"),
        ('locator = "Table 3"\n', "", "[factors.bus]", "missing required field 'locator'"),
        (
            'source = "pub"\nlocator = "Table 3"',
            'source = "nope"\nlocator = "Table 3"',
            "[factors.bus].source",
            "not in [sources]",
        ),
        (
            'per = "passenger"\nsource = "pub"\nlocator = "Table 3"',
            'source = "pub"\nlocator = "Table 3"',
            "[factors.bus]",
            "missing required field 'per'",
        ),
        (
            'occupancy = "car-occupancy"',
            'occupancy = "bus"',
            "[factors.car].occupancy",
            "expected a pure number",
        ),
        (
            'occupancy = "car-occupancy"',
            'occupancy = "ghost"',
            "[factors.car].occupancy",
            "not in [factors]",
        ),
        ("year = 2025", 'year = "2025"', "[sources.pub].year", "must be a year"),
        ('publisher = "Publisher"\n', "", "[sources.pub]", "missing required field 'publisher'"),
        ('gwp = "AR5"\nbaseline', 'gwp = "AR5"\nbaselin', "[set]", "unknown field"),
        ('scope = "tank-to-wheel"', 'scope = "cradle"', "[set].scope", "not one of"),
        ('electricity = ["grid", "losses"]', "", "[factors.e-bike]", "needs 'electricity'"),
    ],
)
def test_invalid_sets_name_file_and_key(
    tmp_path: Path, old: str, new: str, where: str, message: str
) -> None:
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(FactorError, match=re.escape(message)) as caught:
        load_factor_set(path)
    assert str(path) in str(caught.value)
    assert where in str(caught.value)


def test_a_zero_occupancy_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('value = "2"', 'value = "0"'))
    with pytest.raises(FactorError, match="occupancy must be above 0"):
        load_factor_set(path)


def test_a_grid_factor_of_the_wrong_dimension_is_a_unit_mismatch(tmp_path: Path) -> None:
    grid = 'value = "0.5 kg / kWh"\nsource'
    assert grid in VALID
    path = write(tmp_path, VALID.replace(grid, 'value = "0.5 kg / km"\nper = "passenger"\nsource'))
    with pytest.raises(UnitMismatchError, match="expected gram / watt_hour"):
        load_factor_set(path)


def test_not_toml_is_a_factor_error(tmp_path: Path) -> None:
    with pytest.raises(FactorError, match="not valid TOML"):
        load_factor_set(write(tmp_path, "this is [not toml"))


def test_a_registered_name_must_match_the_file(tmp_path: Path) -> None:
    with pytest.raises(FactorError, match="registered as 'other'"):
        load_factor_set(write(tmp_path, VALID), expected_name="other")


def test_every_shipped_set_loads(catalog: Catalog) -> None:
    assert catalog.factor_sets
    for name in catalog.factor_sets:
        factor_set = catalog.factor_set(name)
        assert any(factor_set.is_emission_factor(key) for key in factor_set.factors), name


def test_every_shipped_factor_names_a_source_and_where_in_it(catalog: Catalog) -> None:
    for name in catalog.factor_sets:
        for factor in catalog.factor_set(name).literal_variants():
            assert factor.source.publisher
            assert factor.source.title
            assert factor.source.year
            if factor.source.kind == "publication":
                assert factor.locator, f"{name}: {factor.key} has no locator"
            else:
                assert factor.note, f"{name}: {factor.key} is by definition but says nothing of why"


def published_rows() -> list[dict[str, str]]:
    with (DATA / "published_factors.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def published_factor(catalog: Catalog, row: dict[str, str]) -> Factor:
    variants = catalog.factor_set(row["factor_set"]).factors[row["factor"]]
    since = row.get("valid_from") or None
    matching = [
        v
        for v in variants
        if (v.validity.valid_from.isoformat() if v.validity.valid_from else None) == since
    ]
    assert len(matching) == 1, f"{row['factor']}: no single variant valid from {since}"
    return matching[0]


@pytest.mark.parametrize(
    "row",
    published_rows(),
    ids=lambda row: f"{row['factor_set']}:{row['factor']}:{row['valid_from']}:{row['gas']}",
)
def test_shipped_factors_equal_the_published_values(catalog: Catalog, row: dict[str, str]) -> None:
    factor = published_factor(catalog, row)
    expected, _, _ = parse_any_quantity(
        f"{row['published_value']} {row['unit']}", where="published table"
    )
    if row["gas"]:
        shipped = {gas: base for gas, _, base in factor.gases}
        assert shipped[row["gas"]] == pytest.approx(expected, rel=1e-12)
    else:
        assert factor.base == pytest.approx(expected, rel=1e-12)


def test_every_published_number_shipped_is_in_the_published_table(catalog: Catalog) -> None:
    rows = published_rows()
    for name in catalog.factor_sets:
        listed = {
            (row["factor"], row.get("valid_from") or None)
            for row in rows
            if row["factor_set"] == name
        }
        for factor in catalog.factor_set(name).literal_variants():
            if factor.source.kind != "publication":
                continue
            since = factor.validity.valid_from.isoformat() if factor.validity.valid_from else None
            checked = {
                r["gas"] for r in rows if r["factor_set"] == name and r["factor"] == factor.key
            }
            assert {gas for gas, _, _ in factor.gases} <= checked, (
                f"{name}: {factor.key}: a gas is unchecked"
            )
            assert (factor.key, since) in listed, (
                f"{name}: {factor.key} is shipped but not checked against its publication"
            )


def test_uk_desnz_2025_covers_every_built_in_mode(catalog: Catalog) -> None:
    factor_set = catalog.factor_set("uk-desnz-2025")
    missing = [
        mode.id for mode in catalog.modes.modes if factor_set.g_per_pkm(mode.factor_key) is None
    ]
    assert missing == []


def test_car_is_divided_by_the_conservative_occupancy(catalog: Catalog) -> None:
    factor_set = catalog.factor_set("uk-desnz-2025")
    assert factor_set.g_per_pkm("car") == pytest.approx(167.25 / 1.58)
    assert factor_set.g_per_pkm("e-bike") == pytest.approx(21 * (0.177 + 0.01853))
