"""Which table column is which: names matched once, the required and optional columns.

A trip table's column names are matched to carbonfoot's trimmed, without a byte-order
mark, in any case (``" Trip_ID"`` is ``trip_id``): a file saved by a spreadsheet keeps its
header as it is and still reads. Every stage that looks a column up by name (the intake,
the streaming runner, the Dask pipeline) uses :func:`column_key`, so they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from carbonfoot.errors import InputError

__all__ = [
    "BAD_ROW_COLUMN",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "RESERVED_PREFIX",
    "ROW_NUMBER_COLUMN",
    "column_key",
    "find_column",
    "match_columns",
]

REQUIRED_COLUMNS: Final = ("trip_id", "user_id", "mode", "distance", "started_at")
OPTIONAL_COLUMNS: Final = ("distance_unit", "ended_at", "district")

#: Columns carbonfoot adds to trips it moves around start with this; input may not use it.
RESERVED_PREFIX: Final = "__carbonfoot"
#: A row's number in the whole input (0-based), carried beside trips that are split up
#: (spilled to buckets, shuffled on Dask) so that results come back in input order.
ROW_NUMBER_COLUMN: Final = "__carbonfoot_row"
#: Beside rows read from a CSV file: null for a row read as it should be; for a row the
#: file format could not parse (status ``bad_row``), what is wrong, its line and raw text.
BAD_ROW_COLUMN: Final = "__carbonfoot_bad_row"


def column_key(name: str) -> str:
    """The form a column name is matched in: trimmed, byte-order mark dropped, case-folded."""
    return name.strip().lstrip("\ufeff").casefold()


def find_column(names: Sequence[str], wanted: str) -> str:
    """The table's own name of column ``wanted`` (a carbonfoot column name)."""
    for name in names:
        if column_key(name) == wanted:
            return str(name)
    raise InputError(f"missing column {wanted}")


def match_columns(found: Sequence[str], *, optional_distance: bool = False) -> dict[str, str]:
    """Our column name -> the table's, for every column of the table; checked.

    A name given twice (after matching) is an error, and so is a missing required column;
    ``distance`` may be absent when distance providers can derive it from other columns.
    """
    names: dict[str, str] = {}
    for name in found:
        key = column_key(name)
        if key in names:
            raise InputError(f"column {name!r} appears twice; each column must be given once")
        names[key] = name
    missing = [
        name
        for name in REQUIRED_COLUMNS
        if name not in names and not (name == "distance" and optional_distance)
    ]
    if missing:
        hint = ""
        if len(found) == 1 and any(mark in found[0] for mark in (";", "\t", "|")):
            mark = next(mark for mark in (";", "\t", "|") if mark in found[0])
            hint = (
                f"; the file seems separated by {mark!r}, not commas: give --delimiter "
                f"{'tab' if mark == chr(9) else repr(mark)}"
            )
        raise InputError(
            f"missing column(s) {', '.join(missing)}; trips need {', '.join(REQUIRED_COLUMNS)} "
            f"(found: {', '.join(found) or 'none'}){hint}"
        )
    return names
