"""Row statuses: the one vocabulary every stage uses to say what happened to a trip.

Every input row ends with exactly one status. The first reason a row meets, in the order
of :data:`STATUSES`, is the one it keeps; the index in that tuple is the status's internal
code (an ``int8`` per row inside the engine, a dictionary column in the results).

* ``ok`` (:data:`OK`): computed, and it may earn.
* quarantined (:data:`QUARANTINED`, the ``suspect_*`` statuses): possible on paper but
  not in life. Computed, its savings shown for review, but it earns nothing.
* rejected (:data:`REJECTED`): cannot be computed (a row the file format cannot parse,
  an empty id, an unknown mode, a bad distance or time, no factor or baseline for the
  mode). Its numbers are empty.

"Computed" means ok or quarantined (:func:`is_computed`): those rows carry numbers. Only
ok rows earn.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "COMPUTED_CODES",
    "OK",
    "QUARANTINED",
    "REJECTED",
    "STATUSES",
    "STATUS_CODE",
    "is_computed",
    "is_computed_column",
]

#: The status of a trip that is computed and may earn.
OK: Final = "ok"

#: Statuses of rows that cannot be computed, in order of precedence.
REJECTED: Final = (
    "bad_row",
    "missing_trip_id",
    "duplicate_trip_id",
    "missing_user",
    "unknown_mode",
    "bad_distance",
    "bad_unit",
    "bad_time",
    "no_factor",
    "no_baseline",
)

#: Statuses of rows that are computed but earn nothing: the plausibility checks
#: (:mod:`carbonfoot.intake.plausibility`), in the order they are applied.
QUARANTINED: Final = (
    "suspect_speed",
    "suspect_distance",
    "suspect_daily_distance",
    "suspect_duplicate",
    "suspect_overlap",
)

#: Every status, in order of precedence; the index is the internal code.
STATUSES: Final = (OK, *REJECTED, *QUARANTINED)
STATUS_CODE: Final = {name: code for code, name in enumerate(STATUSES)}

#: Internal codes of the statuses whose rows are computed (ok or quarantined).
COMPUTED_CODES: Final = np.array(
    [STATUS_CODE[OK], *(STATUS_CODE[name] for name in QUARANTINED)], dtype=np.int8
)

_COMPUTED_TABLE: Final = np.isin(np.arange(len(STATUSES)), COMPUTED_CODES)


def is_computed(codes: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
    """Which rows, given their internal status codes, carry computed numbers."""
    return np.asarray(_COMPUTED_TABLE[codes], dtype=np.bool_)


def is_computed_column(status: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`is_computed` for a result table's ``status`` column (text or dictionary)."""
    computed = pa.array([STATUSES[int(code)] for code in COMPUTED_CODES], type=pa.string())
    text = status.cast(pa.string()) if pa.types.is_dictionary(status.type) else status
    return pc.is_in(text, value_set=computed)
