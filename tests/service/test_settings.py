"""The service's settings: from the environment, checked, and handed to workers whole."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.errors import InputError
from carbonfoot.service import ServiceSettings

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def test_settings_come_from_carbonfoot_variables() -> None:
    settings = ServiceSettings.from_env(
        {
            "CARBONFOOT_DATABASE_URL": "postgresql://db/ledger",
            "CARBONFOOT_POLICY_PARAMS": "daily_cap=500, grams_per_credit=10",
            "CARBONFOOT_MAX_BODY_BYTES": "1000",
            "CARBONFOOT_CORS_ORIGINS": "https://app.example, https://shop.example",
            "CARBONFOOT_PLUGINS": "active-modes",  # another part's variable: not a typo
            "HOME": "/root",
        }
    )
    assert settings.database == "postgresql://db/ledger"
    assert settings.policy_params == {"daily_cap": "500", "grams_per_credit": "10"}
    assert settings.max_body_bytes == 1000
    assert settings.cors_origins == ("https://app.example", "https://shop.example")
    assert settings.engine_options is not None


def test_without_engine_options_the_ledger_s_settings_pay() -> None:
    assert ServiceSettings.from_env({}).engine_options is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CARBONFOOT_MAX_BODY_BYTE", "10", "did you mean CARBONFOOT_MAX_BODY_BYTES"),
        ("CARBONFOOT_MAX_BODY_BYTES", "10 MiB", "must be a whole number"),
        ("CARBONFOOT_POOL_SIZE", "0", "pool_size must be a whole number >= 1"),
        ("CARBONFOOT_FOLD_ID_CASE", "maybe", "must be true or false"),
        ("CARBONFOOT_POLICY_PARAMS", "daily_cap", "is not NAME=VALUE"),
        ("CARBONFOOT_SERVICE_SETTINGS", '{"pool": 3}', "unknown service setting"),
    ],
)
def test_a_mistyped_setting_is_an_error(variable: str, value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        ServiceSettings.from_env({variable: value})


@given(
    factors=st.none() | texts,
    params=st.dictionaries(texts, texts, max_size=3),
    origins=st.lists(texts, max_size=3),
    body=st.integers(1, 2**40),
)
def test_workers_get_the_same_settings(
    factors: str | None, params: dict[str, str], origins: list[str], body: int
) -> None:
    settings = ServiceSettings(
        factors=factors, policy_params=params, cors_origins=origins, max_body_bytes=body
    )
    handed = ServiceSettings.from_env({"CARBONFOOT_SERVICE_SETTINGS": settings.to_json()})
    assert handed == settings
