"""Trip files in and result files out: CSV and Parquet, chosen by extension (pyarrow).

* :mod:`carbonfoot.io.files`: reading trip files (:func:`read_trip_file`, in batches
  :func:`iter_trip_batches`);
* :mod:`carbonfoot.io.trip_format`: how a file was written (:class:`TripFormat`: its
  encoding, detected or given, delimiter, decimal commas, column mapping);
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
from carbonfoot.io.trip_format import DEFAULT_FORMAT, Encoding, TripFormat, csv_encoding
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
    "DEFAULT_FORMAT",
    "FORMATS",
    "CsvLimits",
    "Encoding",
    "ResultWriter",
    "TripFormat",
    "append_result_file",
    "csv_encoding",
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
