"""Names of the columns carbonfoot.dask adds to the trips and results it moves around.

They never reach a file: the public result table and the rejects drop them.
"""

from __future__ import annotations

from carbonfoot.intake.columns import ROW_NUMBER_COLUMN

__all__ = [
    "AWARD",
    "CONSTANT",
    "FIRST",
    "HIDDEN",
    "PART",
    "ROW",
    "SLOT",
    "STATUS",
    "TRIP",
    "TRIP_KEY",
    "USER",
]

#: The row's number in the whole batch (0-based), as one pass counts it.
ROW = ROW_NUMBER_COLUMN
#: The number of the input partition the row came from.
PART = "__carbonfoot_part"
#: A 64-bit hash of the trimmed user id: every trip of a user has the same.
USER = "__carbonfoot_user"
#: The trimmed trip id as text, its 64-bit hash, and the row where it first appeared.
TRIP = "__carbonfoot_trip"
TRIP_KEY = "__carbonfoot_trip_key"
FIRST = "__carbonfoot_first"
#: The mode's slot in the summary (its code; labels of no mode share the last slot), the
#: status code (index in ``carbonfoot.STATUSES``), and the award in the policy's minor
#: units (0 where not computed).
SLOT = "__carbonfoot_slot"
STATUS = "__carbonfoot_status"
AWARD = "__carbonfoot_award"
#: Columns result partitions carry besides the result columns.
HIDDEN = (ROW, SLOT, STATUS, AWARD)
#: Result columns with one value for the whole run: not moved between workers, put back
#: from the run info (as is ``status``, from its code).
CONSTANT = ("factor_set", "factor_set_hash", "baseline", "policy")
