"""Trip files in and result files out: CSV and Parquet, chosen by extension (pyarrow).

* :mod:`carbonfoot.io.files`: reading trip files (:func:`read_trip_file`, in batches
  :func:`iter_trip_batches`);
* :mod:`carbonfoot.io.csv_text`: CSV read so that a malformed row is a ``bad_row`` and a
  file's cost in memory is bounded (:class:`CsvLimits`);
* :mod:`carbonfoot.io.writing`: result and rejects files, each written whole to a
  temporary file and renamed into place, appends included.
"""

from __future__ import annotations

from carbonfoot.io.csv_text import BAD_ROW_COLUMN, CsvLimits
from carbonfoot.io.files import (
    FORMATS,
    csv_header,
    file_format,
    first_line,
    iter_trip_batches,
    read_trip_file,
)
from carbonfoot.io.writing import (
    ResultWriter,
    append_result_file,
    csv_ready,
    iso_times,
    recorded_factor_sets,
    replacing,
    write_result_file,
)

__all__ = [
    "BAD_ROW_COLUMN",
    "FORMATS",
    "CsvLimits",
    "ResultWriter",
    "append_result_file",
    "csv_header",
    "csv_ready",
    "file_format",
    "first_line",
    "iso_times",
    "iter_trip_batches",
    "read_trip_file",
    "recorded_factor_sets",
    "replacing",
    "write_result_file",
]
