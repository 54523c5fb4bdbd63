"""How a trip file was written: text encoding, field delimiter, decimal mark, column names.

Files come as people export them. Excel on Chinese Windows saves CSV as GB18030 (GBK);
Excel's "Unicode text" is UTF-16; a European locale separates fields with ``;`` and writes
``2,5`` for two and a half; an operator's export names its columns its own way (``id``,
``user``, ``transport``, ``km``, ``start``). A :class:`TripFormat` says all of that once,
and the readers in :mod:`carbonfoot.io.files` apply it, so the intake sees the same text
columns, under carbonfoot's names, whatever the file looked like.

* **Encoding.** Given (any name Python's codecs know), or detected from the file's first
  MiB: a byte-order mark (UTF-8, UTF-16), UTF-16 without one (NUL bytes beside ASCII),
  UTF-8 when its bytes are UTF-8 (a stray bad byte or two is still UTF-8: those rows are
  ``bad_row``), else GB18030 when the bytes decode as GB18030, else UTF-8. A file in
  another encoding is transcoded to UTF-8 into a temporary file as it is read, line for
  line, so line numbers in messages stay the file's own; bytes that are not valid in the
  encoding make their row a ``bad_row`` whose message names the encoding.
* **Delimiter.** One character; ``tab`` (or ``\\t``) names the tab.
* **Decimal comma.** On by default when the delimiter is not a comma: a cell that is a
  number written with a decimal comma (``2,5``, ``1.234,5``) is read as ``2.5`` or
  ``1234.5``. A cell with a dot and no comma keeps the dot as its decimal mark (``1.234``
  stays 1.234, never 1234: the smaller reading is the one that cannot overpay).
  Identifier, label and time columns are never touched (ISO 8601 allows a comma in
  fractions of a second).
* **Columns.** ``target=source`` pairs: the file's column ``source`` is read as
  carbonfoot's ``target`` (names matched as the intake matches them: trimmed, any case).
"""

from __future__ import annotations

import codecs
import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
from attrs import field, frozen

from carbonfoot.errors import InputError
from carbonfoot.intake.columns import (
    BAD_ROW_COLUMN,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    column_key,
)

__all__ = ["DEFAULT_FORMAT", "Encoding", "TripFormat", "csv_encoding", "readable_csv"]

#: Bytes looked at to tell a file's encoding.
SAMPLE_BYTES: Final = 1 << 20
#: Bytes transcoded at a time.
_CHUNK_BYTES: Final = 8 << 20
#: Columns whose cells are identifiers, labels or times: never read for decimal commas.
_NOT_NUMBERS: Final = frozenset(
    {
        "trip_id",
        "user_id",
        "mode",
        "district",
        "started_at",
        "ended_at",
        "distance_unit",
        "from_stop",
        "to_stop",
        BAD_ROW_COLUMN,
    }
)
_DECIMAL_COMMA: Final = r"^\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+\s*$"
_DELIMITER_NAMES: Final = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_UTF8: Final = frozenset({"utf-8", "utf-8-sig"})
#: Decoding error handler: each byte not valid in the file's encoding becomes 0xFF in the
#: UTF-8 copy (never valid UTF-8), so its row is a ``bad_row``, as in a UTF-8 file.
_INVALID: Final = "carbonfoot-invalid-byte"


def _invalid_bytes(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\udcff" * (error.end - error.start), error.end


codecs.register_error(_INVALID, _invalid_bytes)


def _delimiter(value: str) -> str:
    named = _DELIMITER_NAMES.get(value.strip().lower(), value) if value.strip() else value
    if len(named) != 1 or named in '"\r\n' or ord(named) > 127:
        raise InputError(
            f"delimiter {value!r} must be one ASCII character other than a quote or a line "
            "end (e.g. ',', ';', '|', or 'tab')"
        )
    return named


def _encoding(value: str | None) -> str | None:
    if value is None or value.strip().lower() in ("", "auto"):
        return None
    try:
        return codecs.lookup(value.strip()).name
    except LookupError:
        raise InputError(
            f"unknown text encoding {value!r}; e.g. utf-8, utf-16, gb18030 (GBK), big5, "
            "latin-1, or auto to detect it"
        ) from None


def _columns(value: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    pairs = tuple((str(target).strip(), str(source).strip()) for target, source in value)
    targets: dict[str, str] = {}
    sources: dict[str, str] = {}
    for target, source in pairs:
        if not target or not source:
            raise InputError(f"column mapping {target}={source}: give TARGET=SOURCE, both named")
        if column_key(target) in targets:
            raise InputError(f"column mapping: {target} is mapped twice")
        if column_key(source) in sources:
            raise InputError(
                f"column mapping: the file's column {source} is mapped to both "
                f"{sources[column_key(source)]} and {target}"
            )
        targets[column_key(target)] = source
        sources[column_key(source)] = target
    return tuple((column_key(target), source) for target, source in pairs)


@frozen
class Encoding:
    """The codec a file is read with and how it was chosen (``given``, ``byte-order mark``,
    ``detected`` or ``default``)."""

    codec: str
    how: str

    @property
    def is_utf8(self) -> bool:
        return self.codec in _UTF8

    def describe(self) -> str:
        return f"{self.codec} ({self.how})"


@frozen
class TripFormat:
    """How a trip file was written; the defaults read a UTF-8, comma-separated file.

    ``encoding``: a codec name, or None to detect it. ``delimiter``: one character.
    ``decimal_comma``: None for "on when the delimiter is not a comma". ``columns``:
    ``(target, source)`` pairs, carbonfoot's column name first.
    """

    encoding: str | None = field(default=None, converter=_encoding)
    delimiter: str = field(default=",", converter=_delimiter)
    decimal_comma: bool | None = None
    columns: tuple[tuple[str, str], ...] = field(default=(), converter=_columns)

    @classmethod
    def from_settings(
        cls,
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
        decimal_comma: bool | None = None,
        columns: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    ) -> TripFormat:
        """A format from options that may be unset (None: the default)."""
        pairs = columns.items() if isinstance(columns, Mapping) else columns
        return cls(encoding, "," if delimiter is None else delimiter, decimal_comma, pairs)

    @property
    def reads_decimal_comma(self) -> bool:
        return self.delimiter != "," if self.decimal_comma is None else self.decimal_comma

    @property
    def is_default(self) -> bool:
        return self == DEFAULT_FORMAT

    def renamed(self, names: list[str], *, known: Iterable[str] = ()) -> list[str]:
        """The file's column names as carbonfoot reads them, the mapping applied.

        A source not in the file, or a target the file also holds, is an error; so is a
        target carbonfoot does not read (``known`` adds the distance providers' columns).
        """
        if not self.columns:
            return list(names)
        keys = [column_key(name) for name in names]
        readable = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | {column_key(k) for k in known}
        renamed = list(names)
        for target, source in self.columns:
            if known and target not in readable:
                close = difflib.get_close_matches(target, sorted(readable), n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise InputError(
                    f"column mapping {target}={source}: carbonfoot reads no column {target}{hint}"
                )
            if column_key(source) not in keys:
                close = difflib.get_close_matches(source, names, n=1)
                hint = f"; did you mean {close[0]}?" if close else ""
                raise InputError(
                    f"column mapping {target}={source}: the file has no column {source}{hint} "
                    f"(its columns: {', '.join(names)})"
                )
            renamed[keys.index(column_key(source))] = target
        mapped = {column_key(source) for _, source in self.columns}
        for target, source in self.columns:
            if target in keys and target not in mapped:
                raise InputError(
                    f"column mapping {target}={source}: the file has its own {target} column "
                    f"too; map it away or drop {target}={source}"
                )
        return renamed

    def apply(
        self, table: pa.Table, *, encoding: Encoding | None = None, known: Iterable[str] = ()
    ) -> pa.Table:
        """A table read from a CSV file, as carbonfoot reads it: columns renamed, decimal
        commas read, bad-row messages naming the encoding."""
        names = self.renamed(table.column_names, known=known)
        if names != table.column_names:
            table = table.rename_columns(names)
        if self.reads_decimal_comma:
            table = _decimal_points(table)
        if BAD_ROW_COLUMN in table.column_names:
            table = _name_encoding(table, encoding)
        return table


DEFAULT_FORMAT: Final = TripFormat()


def _decimal_points(table: pa.Table) -> pa.Table:
    """Cells written with a decimal comma, in columns that may hold numbers, with a point."""
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if column_key(name) in _NOT_NUMBERS or not pa.types.is_string(column.type):
            continue
        matched = pc.match_substring_regex(column, _DECIMAL_COMMA)
        if not pc.any(matched).as_py():
            continue
        pointed = pc.replace_substring(pc.replace_substring(column, ".", ""), ",", ".")
        table = table.set_column(index, name, pc.if_else(matched, pointed, column))
    return table


def _name_encoding(table: pa.Table, encoding: Encoding | None) -> pa.Table:
    """Bad-row messages about undecodable bytes say which encoding they were read in, and
    how to give another."""
    index = table.column_names.index(BAD_ROW_COLUMN)
    messages = table.column(index)
    if messages.null_count == len(messages):
        return table
    codec = encoding.codec if encoding is not None else "utf-8"
    read_as = "UTF-8" if codec in _UTF8 else codec
    hint = (
        f"is not valid {read_as} text (read as {encoding.describe() if encoding else 'utf-8'}; "
        "if the file is in another encoding, give it with --encoding, e.g. gb18030 or utf-16)"
    )
    fixed = pc.replace_substring(messages, "is not valid UTF-8 text", hint)
    return table.set_column(index, BAD_ROW_COLUMN, fixed)


def csv_encoding(path: Path, given: str | None = None) -> Encoding:
    """The encoding a CSV file is read in: ``given``, else told from its first bytes."""
    if given is not None:
        codec = codecs.lookup(given).name
        with path.open("rb") as handle:
            start = handle.read(3)
        if codec == "utf-8" and start == codecs.BOM_UTF8:
            codec = "utf-8-sig"
        return Encoding(codec, "given")
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", "byte-order mark")
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Encoding("utf-16", "byte-order mark")
    wide = _utf16_without_mark(sample)
    if wide is not None:
        return Encoding(wide, "detected")
    if _mostly_utf8(sample, complete=len(sample) < SAMPLE_BYTES):
        return Encoding("utf-8", "default")
    try:
        codecs.getincrementaldecoder("gb18030")().decode(sample, final=len(sample) < SAMPLE_BYTES)
    except UnicodeDecodeError:
        return Encoding("utf-8", "default")
    return Encoding("gb18030", "detected")


def _utf16_without_mark(sample: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` when every other byte of the start is NUL (ASCII in UTF-16)."""
    head = sample[:4096]
    if len(head) < 8 or head.count(0) * 3 < len(head):
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > 0.9 * (len(head) // 2) and even < 0.1 * (len(head) // 2):
        return "utf-16-le"
    if even > 0.9 * (len(head) // 2) and odd < 0.1 * (len(head) // 2):
        return "utf-16-be"
    return None


def _mostly_utf8(sample: bytes, *, complete: bool) -> bool:
    """UTF-8, or UTF-8 with a few bad bytes (under a tenth of the bytes outside ASCII)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    text = decoder.decode(sample, final=complete)
    bad = text.count("\ufffd")
    if bad == 0:
        return True
    outside_ascii = len(sample.translate(None, bytes(range(128))))
    return bad * 10 < outside_ascii


@contextlib.contextmanager
def readable_csv(path: Path, trip_format: TripFormat) -> Iterator[tuple[Path, Encoding]]:
    """A UTF-8 file with the rows of ``path`` (``path`` itself when it is UTF-8 already),
    and the encoding it was read in. A transcoded copy is removed afterwards."""
    encoding = csv_encoding(path, trip_format.encoding)
    if encoding.is_utf8:
        yield path, encoding
        return
    handle, name = tempfile.mkstemp(prefix="carbonfoot-", suffix=".csv")
    copy = Path(name)
    try:
        with os.fdopen(handle, "wb") as out, path.open("rb") as source:
            decoder = codecs.getincrementaldecoder(encoding.codec)(errors=_INVALID)
            while True:
                chunk = source.read(_CHUNK_BYTES)
                text = decoder.decode(chunk, final=not chunk)
                out.write(text.encode("utf-8", errors="surrogateescape"))
                if not chunk:
                    break
        yield copy, encoding
    finally:
        copy.unlink(missing_ok=True)
