"""Baselines: a named mode or a passenger-km-weighted mix; savings never below zero."""

from __future__ import annotations

import pytest

from carbonfoot import Engine, FactorError, InputError, UnknownModeError
from carbonfoot.baselines import BaselineContext, resolve_baseline
from carbonfoot.plugins import Catalog


def context(catalog: Catalog, name: str = "uk-desnz-2025") -> BaselineContext:
    factor_set = catalog.factor_set(name)
    table = factor_set.table([mode.factor_key for mode in catalog.modes.modes])
    return BaselineContext(factor_set, catalog.modes, table)


def test_the_default_baseline_is_the_sets_average_car(catalog: Catalog) -> None:
    factor_set = catalog.factor_set("uk-desnz-2025")
    baseline = resolve_baseline(None, context(catalog))
    assert baseline.spec == "car"
    assert baseline.g_per_pkm == factor_set.g_per_pkm("car")


def test_a_mix_is_the_weighted_mean(catalog: Catalog) -> None:
    factor_set = catalog.factor_set("uk-desnz-2025")
    baseline = resolve_baseline("car:0.6, taxi:0.1, 公交=0.3", context(catalog))
    expected = (
        0.6 * factor_set.g_per_pkm("car")
        + 0.1 * factor_set.g_per_pkm("taxi")
        + 0.3 * factor_set.g_per_pkm("bus")
    )
    assert baseline.g_per_pkm == pytest.approx(expected, rel=1e-15)
    assert baseline.spec == "car:0.6,taxi:0.1,bus:0.3"


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("car:0.6,taxi:0.1", InputError, "sum to 0.7"),
        ("car:0.5,car:0.5", InputError, "twice"),
        ("car:-1,bus:2", InputError, "positive"),
        ("car:x,bus:1", InputError, "not a number"),
        ("car:nan,bus:1", InputError, "positive"),
        ("hovercraft", UnknownModeError, "unknown baseline .hovercraft.; a baseline is a mode"),
        ("car:0.5:1,bus:0.5", InputError, "not 'mode:weight'"),
    ],
)
def test_bad_baselines_are_refused(
    catalog: Catalog, spec: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        resolve_baseline(spec, context(catalog))


def test_a_baseline_mode_without_a_factor_is_a_factor_error() -> None:
    from carbonfoot import Mode, SpeedRange

    catalog_with_mode = Catalog.from_entry_points(
        extra=[
            ("extra", _plugin(Mode(id="hovercraft", label="H", speed=SpeedRange(0, 50, basis="t"))))
        ]
    )
    with pytest.raises(FactorError, match="no factor 'hovercraft'"):
        Engine("uk-desnz-2025", baseline="hovercraft", catalog=catalog_with_mode)


def test_the_baseline_mode_itself_saves_nothing(engine: Engine) -> None:
    assert engine.trip("car", 10).savings_g == 0.0


def test_a_mode_dirtier_than_the_baseline_saves_nothing_not_less(engine: Engine) -> None:
    taxi = engine.trip("taxi", 10)
    assert taxi.emissions_g > taxi.baseline_g
    assert taxi.savings_g == 0.0


def _plugin(mode):  # type: ignore[no-untyped-def]
    import types

    from carbonfoot import hookimpl

    @hookimpl
    def register_modes(register):  # type: ignore[no-untyped-def]
        register(mode)

    return types.SimpleNamespace(register_modes=register_modes)
