"""Modes: valid values only, labels resolve case- and separator-insensitively."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonfoot import Mode, SpeedRange, UnknownModeError
from carbonfoot.modes import UNKNOWN_MODE, ModeTable, normalise_label
from carbonfoot.plugins import Catalog

SPEED = SpeedRange(0, 30, basis="test")


@pytest.mark.parametrize("bad_id", ["Water Bus", "water_bus", "-bus", "", "bus-", "水上巴士"])
def test_a_mode_id_must_be_a_lowercase_slug(bad_id: str) -> None:
    with pytest.raises(ValueError, match="mode id"):
        Mode(id=bad_id, label="x", speed=SPEED)


def test_a_speed_range_needs_a_basis_and_an_upper_bound_above_the_lower() -> None:
    with pytest.raises(ValueError, match="max_kmh"):
        SpeedRange(10, 5, basis="x")
    with pytest.raises(ValueError, match="basis"):
        SpeedRange(0, 5, basis="")


@pytest.mark.parametrize(
    ("label", "normal"), [(" Shared_Bike ", "shared-bike"), ("E BIKE", "e-bike"), ("地铁", "地铁")]
)
def test_labels_are_normalised(label: str, normal: str) -> None:
    assert normalise_label(label) == normal


def test_ids_and_aliases_resolve_to_the_same_code() -> None:
    table = ModeTable(
        [Mode(id="water-bus", label="Water bus", aliases=("水上巴士", "Water_Bus"), speed=SPEED)]
    )
    assert (
        table.code_of("water-bus") == table.code_of("水上巴士") == table.code_of(" WATER BUS ") == 0
    )
    assert table.code_of("hovercraft") == UNKNOWN_MODE


def test_an_alias_that_names_two_modes_is_refused() -> None:
    with pytest.raises(ValueError, match="already names mode"):
        ModeTable(
            [
                Mode(id="a", label="A", aliases=("x",), speed=SPEED),
                Mode(id="b", label="B", aliases=("X",), speed=SPEED),
            ]
        )


def test_an_unknown_mode_is_a_key_error_listing_the_installed_ones(catalog: Catalog) -> None:
    with pytest.raises(UnknownModeError, match="installed modes: walk") as caught:
        catalog.modes.get("hovercraft")
    assert isinstance(caught.value, KeyError)
    assert "'hovercraft'" in str(caught.value)


CONTRACT_MODE_IDS = (
    "walk",
    "bike",
    "shared-bike",
    "e-bike",
    "e-scooter",
    "bus",
    "tram",
    "metro",
    "rail",
    "ferry",
    "carpool",
    "taxi",
    "car",
    "car-petrol",
    "car-diesel",
    "car-hybrid",
    "car-bev",
    "motorbike",
)


def test_every_contract_mode_is_installed(catalog: Catalog) -> None:
    assert set(CONTRACT_MODE_IDS) <= set(catalog.modes.ids)


@pytest.mark.parametrize(
    ("label", "mode_id"),
    [
        ("步行", "walk"),
        ("自行车", "bike"),
        ("共享单车", "shared-bike"),
        ("公交", "bus"),
        ("地铁", "metro"),
        ("电动自行车", "e-bike"),
        ("出租车", "taxi"),
        ("轻轨", "tram"),
        ("Subway", "metro"),
        ("light rail", "tram"),
    ],
)
def test_chinese_and_english_labels_resolve(catalog: Catalog, label: str, mode_id: str) -> None:
    assert catalog.modes.get(label).id == mode_id


def test_every_built_in_mode_states_the_basis_of_its_speed_bound(catalog: Catalog) -> None:
    for mode in catalog.modes.modes:
        assert mode.speed.basis
        assert mode.speed.max_kmh > mode.speed.min_kmh >= 0


def _label_variants(catalog: Catalog) -> st.SearchStrategy[str | None]:
    labels = [label for mode in catalog.modes.modes for label in (mode.id, *mode.aliases)]
    known = st.sampled_from(labels)
    varied = st.builds(
        lambda label, pad, upper: (
            (" " * pad) + (label.upper() if upper else label).replace("-", "_")
        ),
        known,
        st.integers(0, 2),
        st.booleans(),
    )
    return st.none() | known | varied | st.text(max_size=6)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_column_of_labels_resolves_as_each_label_alone(
    catalog: Catalog, data: st.DataObject
) -> None:
    labels = data.draw(st.lists(_label_variants(catalog), max_size=30))
    codes = catalog.modes.codes(pa.array(labels, type=pa.string()))
    expected = [UNKNOWN_MODE if label is None else catalog.modes.code_of(label) for label in labels]
    assert codes.tolist() == expected
