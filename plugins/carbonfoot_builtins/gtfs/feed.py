"""Reading a GTFS feed: its files as Arrow tables, bounded in size, ids checked unique.

A feed is a zip or a folder of CSV files (GTFS Schedule reference, gtfs.org/schedule).
Every file is read with the columns it is asked for, all as text, so a producer's number
formats never fail a read; a column a feed lacks comes back empty (null), and a file it
lacks is an error only if the caller needs it.

A zip is not trusted: what it declares it holds is summed before anything is unpacked, and
each member is read through a counting reader that stops at the bound, so a small archive
that unpacks to gigabytes (a "zip bomb", or a lying header) is refused with a clear error
instead of filling memory. The bound, :data:`MAX_UNPACKED_BYTES`, is far above any city's
feed (the largest agency feeds unpack to a few hundred MB) and far below a machine's memory.

Ids that a feed's other files refer to (``stop_id`` in stops.txt, ``trip_id`` in
trips.txt, ``route_id`` in routes.txt) must be unique: a repeated one makes every lookup
ambiguous (a repeated stop id once turned a 3.3 km ride into 12,690 km), so the feed is
refused, naming the file, the id and how often it appears.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from carbonfoot import InputError

__all__ = ["MAX_UNPACKED_BYTES", "Feed"]

#: Bytes a feed may unpack to, over all the files read (1 GiB). No published bound exists;
#: chosen as about twice the largest national feeds we know of, unpacked.
MAX_UNPACKED_BYTES: Final = 1 << 30

#: The files whose first column is an id other files refer to.
_UNIQUE_IDS: Final = {"stops.txt": "stop_id", "trips.txt": "trip_id", "routes.txt": "route_id"}


class Feed:
    """One GTFS feed on disk; :meth:`table` reads one of its files."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_UNPACKED_BYTES) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._used = 0
        self._members: dict[str, zipfile.ZipInfo] | None = None
        if not path.is_dir():
            try:
                with zipfile.ZipFile(path) as archive:
                    infos = archive.infolist()
            except (OSError, zipfile.BadZipFile) as exc:
                raise InputError(f"GTFS feed {path}: not a zip or a folder ({exc})") from None
            # A feed zipped inside a folder is common; the files are matched by base name.
            self._members = {Path(info.filename).name: info for info in infos}
            declared = sum(info.file_size for info in infos if info.filename.endswith(".txt"))
            if declared > max_bytes:
                raise InputError(
                    f"GTFS feed {path}: its files unpack to {declared:,} bytes, over the "
                    f"limit of {max_bytes:,}"
                )

    def has(self, name: str) -> bool:
        if self._members is None:
            return (self.path / name).is_file()
        return name in self._members

    def table(self, name: str, columns: list[str], *, required: tuple[str, ...] = ()) -> pa.Table:
        """``columns`` of file ``name`` as text; absent optional columns come back null.

        ``required`` names the columns without which the file is refused.
        """
        data = self._bytes(name)
        first_line = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        header = [column.strip() for column in next(csv.reader([first_line]), [])]
        missing = [column for column in required if column not in header]
        if missing:
            raise InputError(f"GTFS feed {self.path}: {name} has no column {', '.join(missing)}")
        present = [column for column in columns if column in header]
        convert = pa_csv.ConvertOptions(
            column_types={column: pa.string() for column in present},
            include_columns=present,
            strings_can_be_null=False,
        )
        try:
            table = pa_csv.read_csv(
                io.BytesIO(data),
                read_options=pa_csv.ReadOptions(column_names=header, skip_rows=1),
                convert_options=convert,
            )
        except pa.ArrowInvalid as exc:
            raise InputError(f"GTFS feed {self.path}: cannot read {name} ({exc})") from None
        for column in columns:
            if column not in present:
                table = table.append_column(column, pa.nulls(table.num_rows, pa.string()))
        table = table.select(columns)
        key = _UNIQUE_IDS.get(name)
        if key is not None and key in columns:
            _refuse_repeated(self.path, name, key, table.column(key))
        return table

    def _bytes(self, name: str) -> bytes:
        if self._members is None:
            target = self.path / name
            try:
                size = target.stat().st_size
                self._count(size)
                return target.read_bytes()
            except OSError as exc:
                raise InputError(f"GTFS feed {self.path}: cannot read {name} ({exc})") from None
        info = self._members.get(name)
        if info is None:
            raise InputError(f"GTFS feed {self.path}: no {name} in the zip")
        left = self._max_bytes - self._used
        try:
            with zipfile.ZipFile(self.path) as archive, archive.open(info) as member:
                data = member.read(left + 1)  # never more than the bound, whatever it says
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise InputError(f"GTFS feed {self.path}: cannot read {name} ({exc})") from None
        self._count(len(data))
        return data

    def _count(self, size: int) -> None:
        self._used += size
        if self._used > self._max_bytes:
            raise InputError(
                f"GTFS feed {self.path}: its files unpack to over {self._max_bytes:,} bytes, "
                "the limit"
            )


def _refuse_repeated(path: Path, name: str, key: str, ids: pa.ChunkedArray) -> None:
    trimmed = pc.utf8_trim_whitespace(ids)
    counts = pc.value_counts(trimmed)
    repeated = pc.filter(counts, pc.greater(counts.field("counts"), 1))
    if len(repeated):
        first = repeated[0].as_py()
        more = f" (and {len(repeated) - 1} more repeated ids)" if len(repeated) > 1 else ""
        raise InputError(
            f"GTFS feed {path}: {key} {first['values']!r} appears {first['counts']} times in "
            f"{name}{more}; ids must be unique"
        )


def numbers(column: pa.ChunkedArray, where: str) -> npt.NDArray[np.float64]:
    """A feed column of numbers as floats (blank cells NaN); ``where`` names it in the error
    for a cell that is not a number."""
    text = pc.utf8_trim_whitespace(column)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        values = pc.cast(text, pa.float64())
    except pa.ArrowInvalid as exc:
        raise InputError(f"{where} is not a number ({exc})") from None
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
