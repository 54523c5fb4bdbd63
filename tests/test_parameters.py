"""Plugin parameters: the parsers and the one resolver."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from carbonfoot import BaselineError, Catalog, Engine, InputError, PolicyError
from carbonfoot.parameters import (
    Parameter,
    format_param,
    parse_decimal,
    parse_int,
    parse_modes,
    parse_timezone,
    resolve_parameters,
)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1.5", Decimal("1.5")), (2, Decimal(2)), (0.1, Decimal("0.1"))]
)
def test_decimals_parse_exactly(raw: object, expected: Decimal) -> None:
    assert parse_decimal(raw) == expected


PARAMETERS = (
    Parameter("rate", "grams per credit", lambda raw: parse_decimal(raw, minimum=Decimal(1)), "10"),
    Parameter("cap", "most per day", lambda raw: parse_int(raw, minimum=0)),
)


def test_defaults_are_overlaid_with_what_is_given_and_parsed() -> None:
    resolved = resolve_parameters(PARAMETERS, {"cap": "200"}, owner="policy 'p'", error=PolicyError)
    assert resolved == {"rate": Decimal(10), "cap": 200}
    assert resolve_parameters(PARAMETERS, {}, owner="policy 'p'", error=PolicyError)["cap"] is None


def test_an_unknown_parameter_names_its_owner_and_the_known_ones() -> None:
    with pytest.raises(
        PolicyError,
        match=r"policy 'p' has no parameter 'cpa' \(did you mean 'cap'\?\); its parameters: rate, cap",
    ):
        resolve_parameters(PARAMETERS, {"cpa": "1"}, owner="policy 'p'", error=PolicyError)


def test_a_bad_value_raises_the_owners_kind_of_error() -> None:
    with pytest.raises(BaselineError, match=r"baseline 'b', parameter 'rate': .*below the minimum"):
        resolve_parameters(PARAMETERS, {"rate": "0.5"}, owner="baseline 'b'", error=BaselineError)


def test_pooled_options_have_no_single_owner() -> None:
    with pytest.raises(InputError, match=r"unknown distance option\(s\) 'x'; known: cap, rate"):
        resolve_parameters(PARAMETERS, {"x": 1}, owner="", error=InputError, noun="distance option")


def test_a_baseline_methodologys_bad_parameter_is_a_baseline_error(catalog: Catalog) -> None:
    with pytest.raises(
        BaselineError, match="baseline 'city-average' has no parameter 'emisions_t'"
    ):
        Engine(catalog=catalog, baseline="city-average", baseline_params={"emisions_t": "1"})


@pytest.mark.parametrize(
    ("parse", "raw", "expected"),
    [
        (parse_int, "12", 12),
        (parse_int, 3.0, 3),
        (parse_modes, "active, public", frozenset({"active", "public"})),
        (parse_timezone, " Europe/London ", "Europe/London"),
    ],
)
def test_parsers_read_text_and_toml_values(parse: Any, raw: object, expected: object) -> None:
    assert parse(raw) == expected


@pytest.mark.parametrize(
    ("parse", "raw"),
    [
        (parse_int, "1.5"),
        (parse_int, True),
        (parse_int, -1),
        (parse_modes, " , "),
        (parse_timezone, "Mars/Olympus"),
    ],
)
def test_parsers_refuse_what_they_cannot_read(parse: Any, raw: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each parser's own message
        parse(raw)


def test_parameter_values_are_shown_as_text() -> None:
    assert format_param(None) == "none"
    assert format_param(frozenset({"public", "active"})) == "active,public"
    assert format_param(Decimal("0.5")) == "0.5"
