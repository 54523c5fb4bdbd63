"""Factor sets beyond the basics: validity and districts, layering, derivations, gases."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from carbonfoot import Catalog, Engine, FactorError, UnitMismatchError
from carbonfoot.factors import load_factor_set

HEADER = """
schema = 1
[set]
name = "{name}"
title = "test set"
region = "XX"
scope = "tank-to-wheel"
gas = "CO2"
baseline = "car"
[sources.pub]
publisher = "Publisher"
title = "Title"
year = 2025
"""

DAY = dt.date(1970, 1, 1)


def days(date: dt.date) -> int:
    return (date - DAY).days


def write(path: Path, body: str, name: str = "dated") -> Path:
    path.write_text(textwrap.dedent(HEADER.format(name=name) + body), encoding="utf-8")
    return path


DATED = """
[factors.car]
value = "100 g / km"
per = "passenger"
source = "pub"
locator = "t1"

[[factors.grid]]
value = "0.6 kg / kWh"
valid_to = 2022-12-31
source = "pub"
locator = "2022"

[[factors.grid]]
value = "0.5 kg / kWh"
valid_from = 2023-01-01
source = "pub"
locator = "2023"

[[factors.grid]]
value = "0.1 kg / kWh"
valid_from = 2023-01-01
district = "Jiangbei"
source = "pub"
locator = "2023 Jiangbei"

[factors.metro]
value = "0.1 kWh / km"
per = "passenger"
electricity = "grid"
source = "pub"
locator = "t2"
"""


def test_the_variant_in_force_is_chosen_by_date_and_district(tmp_path: Path) -> None:
    factor_set = load_factor_set(write(tmp_path / "dated.toml", DATED))
    assert factor_set.g_per_pkm("metro", days(dt.date(2022, 12, 31))) == pytest.approx(60.0)
    assert factor_set.g_per_pkm("metro", days(dt.date(2023, 1, 1))) == pytest.approx(50.0)
    assert factor_set.g_per_pkm("metro", days(dt.date(2023, 1, 1)), "Jiangbei") == pytest.approx(
        10.0
    )
    assert factor_set.g_per_pkm("metro", days(dt.date(2022, 6, 1)), "Jiangbei") == pytest.approx(
        60.0
    )  # falls back
    assert factor_set.cuts == (days(dt.date(2023, 1, 1)),)
    assert factor_set.districts == ("", "Jiangbei")


def test_the_engine_picks_each_trips_factor_by_its_local_date_and_district(
    tmp_path: Path, catalog: Catalog
) -> None:
    engine = Engine(load_factor_set(write(tmp_path / "dated.toml", DATED)), catalog=catalog)
    trips = {
        "trip_id": ["a", "b", "c", "d"],
        "user_id": ["u", "v", "w", "x"],
        "mode": ["metro"] * 4,
        "distance": [1.0] * 4,
        # 2022-12-31 23:30 in Shanghai is still 2022 there; the third is 2023 in Shanghai.
        "started_at": [
            "2022-12-31T23:30:00+08:00",
            "2023-06-01T08:00:00+08:00",
            "2022-12-31T16:30:00Z",
            "2023-06-01T08:00:00+08:00",
        ],
        "district": ["", "", "", "Jiangbei"],
    }
    emissions = engine.compute(trips).table.column("emissions_g").to_pylist()
    assert emissions == pytest.approx([60.0, 50.0, 50.0, 10.0])
    single = engine.trip("metro", 1, on=dt.date(2023, 6, 1), district="Jiangbei")
    assert single.emissions_g == pytest.approx(10.0)


def test_a_trip_outside_every_validity_gets_no_factor(tmp_path: Path, catalog: Catalog) -> None:
    body = DATED.replace(
        '[[factors.grid]]\nvalue = "0.6 kg / kWh"\nvalid_to = 2022-12-31',
        '[[factors.grid]]\nvalue = "0.6 kg / kWh"\nvalid_from = 2022-01-01\nvalid_to = 2022-12-31',
    )
    engine = Engine(load_factor_set(write(tmp_path / "dated.toml", body)), catalog=catalog)
    trips = {
        "trip_id": ["a"],
        "user_id": ["u"],
        "mode": ["metro"],
        "distance": [1.0],
        "started_at": ["2021-06-01T08:00:00+08:00"],
    }
    row = engine.compute(trips).to_pylist()[0]
    assert row["status"] == "no_factor"
    assert "on that date in that district" in row["message"]


def test_overlapping_variants_are_refused(tmp_path: Path) -> None:
    body = DATED.replace("valid_from = 2023-01-01\nsource", "valid_from = 2022-06-01\nsource", 1)
    with pytest.raises(FactorError, match="overlap"):
        load_factor_set(write(tmp_path / "dated.toml", body))


def test_a_set_extends_another_and_overrides_one_factor(tmp_path: Path, catalog: Catalog) -> None:
    overrides = tmp_path / "research.toml"
    overrides.write_text(
        textwrap.dedent(
            """
            schema = 1
            [set]
            name = "uk-desnz-2025-low-occupancy"
            extends = "uk-desnz-2025"
            title = "DESNZ 2025 with a lower car occupancy"
            [sources.study]
            publisher = "A researcher"
            title = "A what-if"
            year = 2026
            [factors.car-occupancy]
            value = "1.2"
            source = "study"
            locator = "scenario"
            """
        ),
        encoding="utf-8",
    )
    derived = catalog.factor_set(str(overrides))
    base = catalog.factor_set("uk-desnz-2025")
    assert derived.extends == ("uk-desnz-2025",)
    assert derived.content_hash != base.content_hash
    assert derived.g_per_pkm("car") == pytest.approx(167.25 / 1.2)
    assert derived.g_per_pkm("bus") == base.g_per_pkm("bus")
    assert derived.factors["bus"][0].source.publisher == base.factors["bus"][0].source.publisher


def test_overriding_one_factor_changes_only_trips_that_use_it(
    tmp_path: Path, catalog: Catalog
) -> None:
    overrides = tmp_path / "bus.toml"
    overrides.write_text(
        'schema = 1\n[set]\nname = "x"\nextends = "uk-desnz-2025"\ntitle = "t"\n'
        '[factors.bus]\nvalue = "0.05 kg / km"\nper = "passenger"\nsource = "desnz-2025"\nlocator = "what-if"\n',
        encoding="utf-8",
    )
    trips = {
        "trip_id": ["a", "b", "c"],
        "user_id": ["u", "v", "w"],
        "mode": ["bus", "metro", "walk"],
        "distance": [3.0, 3.0, 3.0],
        "started_at": ["2024-05-01T08:00:00Z"] * 3,
    }
    before = (
        Engine("uk-desnz-2025", catalog=catalog)
        .compute(trips)
        .table.column("savings_g")
        .to_pylist()
    )
    after = (
        Engine(str(overrides), catalog=catalog).compute(trips).table.column("savings_g").to_pylist()
    )
    assert after[0] != before[0]
    assert after[1:] == before[1:]


def test_extends_cycles_and_missing_parents_are_errors(tmp_path: Path, catalog: Catalog) -> None:
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text('schema = 1\n[set]\nname = "a"\nextends = "b.toml"\n', encoding="utf-8")
    b.write_text('schema = 1\n[set]\nname = "b"\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(FactorError, match="cycle"):
        catalog.factor_set(str(a))
    a.write_text('schema = 1\n[set]\nname = "a"\nextends = "nope"\n', encoding="utf-8")
    with pytest.raises(FactorError, match="unknown factor set 'nope'"):
        catalog.factor_set(str(a))


def test_gases_combine_with_the_sets_gwp_table(tmp_path: Path) -> None:
    body = """
    [sources.ipcc]
    publisher = "IPCC"
    title = "AR5"
    year = 2013
    [gwp.AR5]
    source = "ipcc"
    locator = "Table 8.7"
    CH4 = 28
    N2O = 265
    [factors.car]
    gases = { CO2 = "0.306131 kg / mi", CH4 = "0.008986 g / mi", N2O = "0.006013 g / mi" }
    gwp = "AR5"
    gas = "CO2e"
    per = "passenger"
    source = "pub"
    locator = "Table 10"
    """
    factor_set = load_factor_set(write(tmp_path / "g.toml", body))
    expected = (306.131 + 28 * 0.008986 + 265 * 0.006013) / 1.609344
    assert factor_set.g_per_pkm("car") == pytest.approx(expected, rel=1e-12)
    with pytest.raises(FactorError, match="gives no GWP for SF6"):
        load_factor_set(
            write(tmp_path / "g.toml", body.replace('N2O = "0.006013 g / mi"', 'SF6 = "1 g / mi"'))
        )


def test_products_sums_and_quotients_are_checked_for_dimension(tmp_path: Path) -> None:
    body = """
    [factors.car]
    product = ["fuel", "co2-per-litre"]
    per = "vehicle"
    occupancy = "two"
    source = "pub"
    [factors.fuel]
    value = "0.07 L / km"
    source = "pub"
    locator = "a"
    [factors.co2-per-litre]
    value = "2.3 kg / L"
    source = "pub"
    locator = "b"
    [factors.two]
    value = "2"
    source = "pub"
    locator = "c"
    """
    factor_set = load_factor_set(write(tmp_path / "p.toml", body))
    assert factor_set.g_per_pkm("car") == pytest.approx(0.07 * 2300 / 2)
    wrong = body.replace('value = "2.3 kg / L"', 'value = "2.3 kg"')
    with pytest.raises(FactorError, match=r"belong to per-km factors only|not emissions per km"):
        load_factor_set(write(tmp_path / "p.toml", wrong))
    loop = body.replace('product = ["fuel", "co2-per-litre"]', 'product = ["car"]')
    with pytest.raises(FactorError, match="derived from itself"):
        load_factor_set(write(tmp_path / "p.toml", loop))


def test_a_sum_of_different_dimensions_is_a_unit_mismatch(tmp_path: Path) -> None:
    body = """
    [factors.x]
    sum = ["a", "b"]
    source = "pub"
    [factors.a]
    value = "1 kg / kWh"
    source = "pub"
    locator = "a"
    [factors.b]
    value = "1 kg / km"
    source = "pub"
    locator = "b"
    """
    with pytest.raises(UnitMismatchError, match="differ in dimension"):
        load_factor_set(write(tmp_path / "s.toml", body))


def test_uncertainty_must_share_the_factors_dimension_and_contain_it(tmp_path: Path) -> None:
    base = DATED.replace(
        'locator = "t1"',
        'locator = "t1"\nuncertainty = { distribution = "uniform", low = "90 g / km", high = "120 g / km", source = "pub" }',
    )
    assert (
        load_factor_set(write(tmp_path / "u.toml", base)).factors["car"][0].uncertainty is not None
    )
    with pytest.raises(UnitMismatchError):
        load_factor_set(
            write(tmp_path / "u.toml", base.replace('low = "90 g / km"', 'low = "90 g"'))
        )
    with pytest.raises(FactorError, match="between low and high"):
        load_factor_set(
            write(tmp_path / "u.toml", base.replace('low = "90 g / km"', 'low = "101 g / km"'))
        )
    with pytest.raises(FactorError, match="needs 'source'"):
        load_factor_set(write(tmp_path / "u.toml", base.replace(', source = "pub" }', " }")))


def test_the_nanjing_set_uses_the_grid_of_each_year(catalog: Catalog) -> None:
    factor_set = catalog.factor_set("cn-nanjing")
    assert factor_set.g_per_pkm("metro", days(dt.date(2022, 7, 1))) == pytest.approx(
        65 * 0.5617, rel=1e-12
    )
    assert factor_set.g_per_pkm("metro", days(dt.date(2024, 7, 1))) == pytest.approx(
        65 * 0.5500, rel=1e-12
    )
    assert (
        factor_set.g_per_pkm("metro", days(dt.date(2020, 7, 1))) is None
    )  # no grid factor before 2021
    litre_co2 = 720 * 43.070e-3 * 18.9e-3 * 0.98 * 44 / 12  # kg/L from the inventory defaults
    assert factor_set.g_per_pkm("car") == pytest.approx(0.0704 * litre_co2 * 1000 / 1.58, rel=1e-9)
    assert factor_set.gas == "CO2"


def _child(tmp_path: Path, body: str, name: str = "child") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            schema = 1
            [set]
            name = "{name}"
            extends = "dated.toml"
            title = "a district's own numbers"
            [sources.district-study]
            publisher = "Jiangbei transport bureau"
            title = "Metro energy audit"
            year = 2025
            """
        )
        + textwrap.dedent(body),
        encoding="utf-8",
    )
    return path


METRO_2024 = days(dt.date(2024, 5, 1))


def test_a_district_variant_in_an_extension_leaves_the_general_value_elsewhere(
    tmp_path: Path,
) -> None:
    write(tmp_path / "dated.toml", DATED)
    child = load_factor_set(
        _child(
            tmp_path,
            """
            [factors.car]
            value = "80 g / km"
            per = "passenger"
            district = "Pukou"
            source = "district-study"
            locator = "table 2"
            """,
        )
    )
    assert child.g_per_pkm("car", METRO_2024, "Pukou") == pytest.approx(80.0)
    # Every other district keeps the parent's general value, with its own source.
    assert child.g_per_pkm("car", METRO_2024, "Gulou") == pytest.approx(100.0)
    assert child.g_per_pkm("car", METRO_2024) == pytest.approx(100.0)
    assert child.factor("car", METRO_2024, "Gulou").locator == "t1"


def test_districts_are_matched_as_modes_are(tmp_path: Path) -> None:
    factor_set = load_factor_set(write(tmp_path / "dated.toml", DATED))
    for spelling in ("Jiangbei", "jiangbei", " JIANGBEI ", "Ｊｉａｎｇｂｅｉ"):
        assert factor_set.g_per_pkm("metro", METRO_2024, spelling) == pytest.approx(10.0)
    trips = {
        "trip_id": ["a", "b", "c"],
        "user_id": ["u", "v", "w"],
        "mode": ["metro"] * 3,
        "distance": [2.0] * 3,
        "district": ["jiangbei", "Ｊｉａｎｇｂｅｉ", "Gulou"],
        "started_at": ["2024-05-01T08:00:00+08:00"] * 3,
    }
    emissions = Engine(factor_set).compute(trips).table.column("emissions_g").to_pylist()
    assert emissions == pytest.approx([20.0, 20.0, 100.0])


def test_two_spellings_of_one_district_overlap(tmp_path: Path) -> None:
    body = DATED + textwrap.dedent(
        """
        [[factors.grid]]
        value = "0.2 kg / kWh"
        valid_from = 2024-01-01
        district = "JIANGBEI"
        source = "pub"
        locator = "again"
        """
    )
    with pytest.raises(FactorError, match="overlap"):
        load_factor_set(write(tmp_path / "dated.toml", body))


def test_an_override_may_change_one_field_and_keep_the_rest(tmp_path: Path) -> None:
    write(tmp_path / "dated.toml", DATED)
    # Only the source: the number, its unit and its derivation are inherited.
    cited = load_factor_set(
        _child(tmp_path, '[factors.car]\nsource = "district-study"\nlocator = "p. 4"\n')
    )
    car = cited.factor("car", METRO_2024)
    assert car.source.publisher == "Jiangbei transport bureau"
    assert car.locator == "p. 4"
    assert cited.g_per_pkm("car", METRO_2024) == pytest.approx(100.0)
    # Only the value (with its source): per and the rest are inherited.
    revalued = load_factor_set(
        _child(
            tmp_path,
            '[factors.car]\nvalue = "90 g / km"\nsource = "district-study"\nlocator = "t3"\n',
            name="revalued",
        )
    )
    assert revalued.g_per_pkm("car", METRO_2024) == pytest.approx(90.0)
    assert revalued.factor("car", METRO_2024).per == "passenger"


def test_a_new_number_without_its_own_source_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "dated.toml", DATED)
    with pytest.raises(FactorError, match=r"\[factors.car\]: overrides the number .* own source"):
        load_factor_set(_child(tmp_path, '[factors.car]\nvalue = "90 g / km"\n'))


def test_a_dated_variant_is_overridden_where_its_validity_matches(tmp_path: Path) -> None:
    write(tmp_path / "dated.toml", DATED)
    child = load_factor_set(
        _child(
            tmp_path,
            """
            [[factors.grid]]
            valid_from = 2023-01-01
            district = "jiangbei"
            value = "0.05 kg / kWh"
            source = "district-study"
            locator = "grid 2023"
            """,
        )
    )
    assert child.g_per_pkm("metro", METRO_2024, "Jiangbei") == pytest.approx(5.0)
    assert child.g_per_pkm("metro", METRO_2024, "Gulou") == pytest.approx(50.0)
    assert len(child.factors["grid"]) == 3
