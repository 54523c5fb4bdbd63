"""Unknown names get a "did you mean" from the library, so every face shows it."""

from __future__ import annotations

import pytest

import carbonfoot
from carbonfoot.errors import (
    CarbonfootError,
    UnknownFactorSetError,
    UnknownModeError,
    UnknownPolicyError,
    did_you_mean,
)


def test_a_close_alias_suggests_the_mode_it_stands_for(catalog: carbonfoot.Catalog) -> None:
    # "bycicle" is close to the alias "bicycle", not to the id "bike".
    assert catalog.modes.suggest("bycicle") == ["bike"]
    with pytest.raises(UnknownModeError, match=r"unknown mode 'bycicle' \(did you mean 'bike'\?\)"):
        catalog.modes.get("bycicle")


def test_nothing_is_suggested_when_nothing_is_close(catalog: carbonfoot.Catalog) -> None:
    assert catalog.modes.suggest("skateboard") == []
    with pytest.raises(UnknownModeError) as caught:
        catalog.modes.get("skateboard")
    assert "did you mean" not in str(caught.value)


def test_case_is_ignored_and_only_the_closest_guesses_are_kept() -> None:
    assert did_you_mean("METOR", ["metro", "motorbike", "bus"]) == ["metro"]
    assert did_you_mean("policy.param", ["policy.id", "policy.params"]) == ["policy.params"]
    assert did_you_mean("zzz", ["metro"]) == []


@pytest.mark.parametrize(
    ("build", "error", "guess"),
    [
        (lambda: carbonfoot.Engine("uk-desnz-2052"), UnknownFactorSetError, "uk-desnz-2025"),
        (lambda: carbonfoot.Engine(policy="green-credt"), UnknownPolicyError, "green-credit"),
        (lambda: carbonfoot.Engine(baseline="city-averag"), UnknownModeError, "city-average"),
        (lambda: carbonfoot.Engine(baseline="carr"), UnknownModeError, "car"),
        (
            lambda: carbonfoot.Engine(distance_options={"step_lenght": "0.7 m"}),
            CarbonfootError,
            "step_length",
        ),
        (
            lambda: carbonfoot.Engine(policy_params={"daily_cp": 3}),
            CarbonfootError,
            "daily_cap",
        ),
    ],
)
def test_every_unknown_name_the_engine_is_built_with_gets_a_guess(
    build: object, error: type[Exception], guess: str
) -> None:
    with pytest.raises(error, match=f"did you mean [^;]*'{guess}'"):
        build()  # type: ignore[operator]


def test_a_single_trip_of_a_mistyped_mode_gets_a_guess(engine: carbonfoot.Engine) -> None:
    with pytest.raises(UnknownModeError, match="did you mean 'metro'"):
        engine.trip("metor", 5)
