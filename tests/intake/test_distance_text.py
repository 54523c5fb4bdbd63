"""One trip's distance as people type it: ``5km``, ``5 km``, ``5000m``, ``3.1 mi``, ``5``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.errors import InputError
from carbonfoot.intake.distance import trip_distance_km

# International yard and pound agreement (1959): 1 yd = 0.9144 m, 1 mi = 1760 yd.
METRES_PER_MILE = 1760 * 0.9144


@pytest.mark.parametrize(
    ("text", "km"),
    [
        ("5km", 5.0),
        ("5 km", 5.0),
        ("  5   km ", 5.0),
        ("5000m", 5.0),
        ("5000 m", 5.0),
        ("3.1 mi", 3.1 * METRES_PER_MILE / 1000),
        ("3.1mi", 3.1 * METRES_PER_MILE / 1000),
        ("5", 5.0),
        ("2公里", 2.0),
        ("1 nautical miles", 1.852),
    ],
)
def test_a_distance_is_read_with_or_without_a_space_before_its_unit(text: str, km: float) -> None:
    assert trip_distance_km(text) == pytest.approx(km, rel=1e-12)


def test_a_bare_number_is_in_the_unit_given_beside_it() -> None:
    assert trip_distance_km("5", "mi") == pytest.approx(5 * METRES_PER_MILE / 1000)
    assert trip_distance_km("5 km", "mi") == 5.0  # the text's own unit wins


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("5 kg", "not a length"),
        ("5 km/h", "unknown distance unit 'km/h'"),
        ("-5 km", "must be above zero"),
        ("0m", "must be above zero"),
        ("1,5 km", "not a number with a unit"),
        ("five km", "not a number with a unit"),
        ("", "not a number with a unit"),
    ],
)
def test_a_non_length_or_a_negative_is_a_clear_error(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says) as caught:
        trip_distance_km(text)
    assert caught.value.status in ("bad_unit", "bad_distance")


@given(
    st.decimals(min_value="0.001", max_value="10000", places=3),
    st.sampled_from(["km", "m", "mi", "ft", "yd"]),
    st.sampled_from(["", " ", "  "]),
)
def test_the_space_before_the_unit_changes_nothing(number: object, unit: str, space: str) -> None:
    assert trip_distance_km(f"{number}{space}{unit}") == trip_distance_km(float(str(number)), unit)
