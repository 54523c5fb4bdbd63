"""The plugin manager: discovery, error isolation, validation of what plugins register."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from carbonfoot import (
    Catalog,
    DistanceAnswer,
    DistanceProvider,
    DistanceRequest,
    Engine,
    Mode,
    PluginError,
    SpeedRange,
    hookimpl,
)
from carbonfoot.plugins import plugin_summary

SPEED = SpeedRange(0, 40, basis="test")


def plugin(**hooks: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(**hooks)


def modes_plugin(*modes: Mode) -> types.SimpleNamespace:
    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        for mode in modes:
            register(mode)

    return plugin(register_modes=register_modes)


WATER_BUS = Mode(
    id="water-bus", label="Water bus", aliases=("水上巴士",), factor="ferry", speed=SPEED
)


def test_built_ins_arrive_through_the_entry_point_group(catalog: Catalog) -> None:
    assert {"active-modes", "factor-sets", "green-credit", "carbon-coin"} <= set(catalog.plugins)
    assert catalog.errors == ()
    summary = {row["plugin"]: row for row in plugin_summary(catalog)}
    assert "walk" in summary["active-modes"]["modes"]
    assert "uk-desnz-2025" in summary["factor-sets"]["factor_sets"]


def test_an_extra_plugin_adds_a_mode(catalog: Catalog) -> None:
    extended = Catalog.from_entry_points(extra=[("waterbus", modes_plugin(WATER_BUS))])
    assert extended.modes.get("水上巴士").id == "water-bus"
    assert extended.modes.owners["water-bus"] == "waterbus"


def test_a_plugin_that_raises_is_skipped_and_named_while_others_work() -> None:
    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    catalog = Catalog.from_entry_points(extra=[("broken", plugin(register_modes=register_modes))])
    assert "walk" in catalog.modes.ids
    assert len(catalog.errors) == 1
    assert catalog.errors[0].plugin == "broken"
    assert "boom" in str(catalog.errors[0])


def test_strict_mode_raises_the_plugin_error() -> None:
    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        register("not a mode")

    with pytest.raises(PluginError, match=r"'broken'.*expected a carbonfoot\.Mode"):
        Catalog.from_plugins([("broken", plugin(register_modes=register_modes))], strict=True)


def test_a_hook_with_a_wrong_signature_breaks_the_hookspec() -> None:
    @hookimpl
    def register_modes(register, extra):  # type: ignore[no-untyped-def]
        pass

    catalog = Catalog.from_entry_points(
        extra=[("wrong-args", plugin(register_modes=register_modes))]
    )
    assert [error.plugin for error in catalog.errors] == ["wrong-args"]
    assert "hook specification" in str(catalog.errors[0])


def test_an_unknown_hook_breaks_the_hookspec() -> None:
    @hookimpl
    def register_spaceships(register):  # type: ignore[no-untyped-def]
        pass

    catalog = Catalog.from_entry_points(
        extra=[("typo", plugin(register_spaceships=register_spaceships))]
    )
    assert [error.plugin for error in catalog.errors] == ["typo"]


def test_a_mode_clash_names_both_plugins() -> None:
    clash = Mode(id="metro-line", label="x", aliases=("地铁",), speed=SPEED)
    catalog = Catalog.from_entry_points(extra=[("clasher", modes_plugin(clash))])
    assert len(catalog.errors) == 1
    message = str(catalog.errors[0])
    assert "'clasher'" in message
    assert "'public-transport-modes'" in message
    assert "metro-line" not in catalog.modes.ids  # nothing of a failed plugin is kept


def test_a_factor_set_file_must_exist(tmp_path: Path) -> None:
    @hookimpl
    def register_factor_sets(register):  # type: ignore[no-untyped-def]
        register("ghost", tmp_path / "ghost.toml")

    catalog = Catalog.from_entry_points(
        extra=[("ghosts", plugin(register_factor_sets=register_factor_sets))]
    )
    assert "no file at" in str(catalog.errors[0])
    assert "ghost" not in catalog.factor_sets


def test_the_environment_restricts_which_plugins_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONFOOT_PLUGINS", "active-modes,factor-sets")
    catalog = Catalog.from_entry_points()
    assert set(catalog.plugins) == {"active-modes", "factor-sets"}
    assert "bus" not in catalog.modes.ids
    assert catalog.policies == {}


def test_defaults_come_from_the_plugins(catalog: Catalog) -> None:
    assert catalog.default_factor_set() == "uk-desnz-2025"
    assert catalog.default_policy() == "green-credit"


def test_a_third_party_plugin_cannot_displace_a_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    impostor = Mode(id="metro", label="Fake metro", factor="walk", speed=SPEED)
    catalog = Catalog.from_entry_points(extra=[("aaa", modes_plugin(impostor))])
    assert catalog.modes.get("metro").label == "Metro / subway"
    assert [error.plugin for error in catalog.errors] == ["aaa"]
    assert "bus" in catalog.modes.ids


def test_a_plugin_that_implements_no_hook_is_reported() -> None:
    catalog = Catalog.from_entry_points(extra=[("empty", plugin())])
    assert "implements no carbonfoot hook" in str(catalog.errors[0])


def test_an_unknown_name_in_the_environment_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONFOOT_PLUGINS", "active-modes,nonexistent")
    catalog = Catalog.from_entry_points()
    assert "'nonexistent', which is not installed" in str(catalog.errors[0])


def _two_method_provider(labels: tuple[str, ...]) -> types.SimpleNamespace:
    """A provider that measures a 'hops' column two ways: even counts one, odd the other."""

    def derive(request: DistanceRequest) -> DistanceAnswer:
        hops = np.asarray(request.columns["hops"].cast(pa.float64()), dtype=np.float64)
        return DistanceAnswer(hops * 1.5, sources=(hops % 2).astype(np.int8))

    provider = DistanceProvider(
        id="hop-counter",
        columns=("hops",),
        priority=5,
        description="hops times 1.5 km",
        derive=derive,
        sources=labels,
    )

    @hookimpl
    def register_distance_providers(register):  # type: ignore[no-untyped-def]
        register(provider)

    return plugin(register_distance_providers=register_distance_providers)


def test_a_provider_with_several_methods_labels_each_row_with_the_one_it_used() -> None:
    catalog = Catalog.from_entry_points(extra=[("hops", _two_method_provider(("even", "odd")))])
    assert catalog.errors == ()
    rows = (
        Engine(catalog=catalog)
        .compute(
            {
                "trip_id": ["a", "b", "c"],
                "user_id": ["u", "v", "w"],
                "mode": ["walk"] * 3,
                "hops": [2, 3, None],
                "distance": [None, None, "1"],
                "started_at": ["2024-05-01T08:00:00+08:00"] * 3,
            }
        )
        .to_pylist()
    )
    assert [row["distance_source"] for row in rows] == ["even", "odd", "reported"]
    assert [row["distance_km"] for row in rows] == [3.0, 4.5, 1.0]


@pytest.mark.parametrize("labels", [("reported",), ("gps",), ("same", "same")])
def test_a_distance_source_label_cannot_be_taken_twice(labels: tuple[str, ...]) -> None:
    with pytest.raises(PluginError, match="distance_source label"):
        Catalog.from_entry_points(extra=[("hops", _two_method_provider(labels))], strict=True)
