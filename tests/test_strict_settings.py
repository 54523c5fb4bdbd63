"""A mistyped setting is an error, never silently ignored: config tables, policy
parameters, mode selections and categories, each with a guess where one is close."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonfoot import Catalog, Engine, InputError, Mode, PolicyError, SpeedRange
from carbonfoot.cli.options import read_config


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "programme.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_policy_param_table_spelled_wrong_is_named_with_the_right_one(tmp_path: Path) -> None:
    path = config(tmp_path, '[policy]\nid = "green-credit"\n[policy.param]\ndaily_cap = 200\n')
    with pytest.raises(
        InputError, match=r"unknown key 'policy.param' \(did you mean 'policy.params'\?\)"
    ):
        read_config(path)


def test_a_policy_parameter_directly_under_policy_is_refused(tmp_path: Path) -> None:
    path = config(tmp_path, '[policy]\nid = "green-credit"\ndaily_cap = 200\n')
    with pytest.raises(InputError, match=r"policy parameters go in a \[policy.params\] table"):
        read_config(path)


def test_a_mistyped_top_level_setting_gets_a_guess(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown setting 'factor' \(did you mean 'factors'\?\)"):
        read_config(config(tmp_path, 'factor = "cn-nanjing"\n'))


def test_eligible_must_name_installed_modes_or_categories(catalog: Catalog) -> None:
    with pytest.raises(
        PolicyError, match=r"unknown mode or category 'publik' \(did you mean 'public'\?\)"
    ):
        Engine(catalog=catalog, policy_params={"eligible": "active,publik"})
    Engine(catalog=catalog, policy_params={"eligible": "active,public,metro"})  # all known


def test_a_mistyped_policy_parameter_gets_a_guess(catalog: Catalog) -> None:
    with pytest.raises(
        PolicyError, match=r"no parameter 'dialy_cap' \(did you mean 'daily_cap'\?\)"
    ):
        Engine(catalog=catalog, policy_params={"dialy_cap": "200"})


def test_a_mode_category_must_be_one_of_the_known_ones() -> None:
    speed = SpeedRange(0, 40, basis="test")
    with pytest.raises(
        ValueError, match=r"unknown mode category 'publik' \(did you mean 'public'\?\)"
    ):
        Mode(id="water-bus", label="Water bus", speed=speed, category="publik")
    assert (
        Mode(id="water-bus", label="Water bus", speed=speed, category="public").category == "public"
    )


def test_an_unknown_mode_gets_a_guess(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match=r"unknown mode 'metor' \(did you mean 'metro'\?\)"):
        catalog.modes.get("metor")


def test_the_ids_table_takes_fold_case_only(tmp_path: Path) -> None:
    assert read_config(config(tmp_path, "[ids]\nfold_case = true\n"))["ids"] == {"fold_case": True}
    with pytest.raises(InputError, match=r"\[ids\] takes fold_case"):
        read_config(config(tmp_path, '[ids]\nfold = "yes"\n'))
