"""The error hierarchy: builtins mixed in, and fields kept when an error crosses processes."""

from __future__ import annotations

import pickle

import pytest

from carbonfoot import errors
from carbonfoot.errors import (
    CarbonfootError,
    InputError,
    PluginError,
    TripConflictError,
    UnknownModeError,
)


@pytest.mark.parametrize(
    "error",
    [
        InputError("row 3: column 'distance': 'abc' is not a number", status="bad_distance"),
        PluginError("plugin 'x' failed", plugin="x", distribution="carbonfoot-x 1.0"),
        TripConflictError("1 trip(s) already credited", [("t1", ("mode", "distance_km"))]),
        UnknownModeError("unknown mode 'hovercraft'; installed modes: walk"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_an_error_pickles_with_its_fields(error: CarbonfootError) -> None:
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error)
    assert str(again) == str(error)
    assert again.__dict__ == error.__dict__


def test_every_public_error_survives_pickling_with_its_builtin() -> None:
    for name in errors.__all__:
        kind = getattr(errors, name)
        if not (isinstance(kind, type) and issubclass(kind, CarbonfootError)):
            continue
        if kind is TripConflictError:
            error: CarbonfootError = kind("message", [])
        else:
            error = kind("message")
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is kind
        assert str(again) == "message"
        assert set(type(again).__mro__) == set(kind.__mro__)


def test_an_unknown_name_message_lists_what_is_installed() -> None:
    assert errors.unknown_message("mode", "x", ["bus", "walk"]) == (
        "unknown mode 'x'; installed: bus, walk"
    )
    assert errors.unknown_message("policy", "x", []).endswith("installed: none")
