"""CSV trip files read so that a malformed row is a rejected row, never a failed file.

Every cell is read as text (the intake parses numbers and times itself). The file is read
in blocks cut at a line end outside quotes; a block is parsed by pyarrow in one go. Only
a block pyarrow cannot take whole (a row with too many or too few fields, an unclosed
quote, bytes that are not UTF-8, a field over :attr:`CsvLimits.max_field_bytes`) is
looked at row by row, with array operations over its bytes:

* records are the line ends outside quotes (a ``"`` opens or closes a quoted section
  wherever it stands: in such a block a stray quote inside an unquoted field makes its
  row a bad one, the conservative reading);
* a record whose fields do not match the header, whose field is too long, or that is not
  UTF-8 is a bad row; a quote left open spoils only its own line when the lines it would
  swallow do not make a record of the header's width;
* the bad row keeps its place in the table, every cell null, and the column
  :data:`BAD_ROW_COLUMN` says what is wrong with it, its line number and its raw text.

The intake gives such rows the status ``bad_row``; every other row is read as if the bad
ones were not there. Limits on the header (its length and number of columns) and on one
record's length bound the memory a file can cost; going over them is a file-level error.
"""

from __future__ import annotations

import contextlib
import csv
import io
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv
from attrs import field, frozen, validators

from carbonfoot.errors import InputError
from carbonfoot.intake.columns import BAD_ROW_COLUMN, RESERVED_PREFIX

__all__ = ["BAD_ROW_COLUMN", "CsvLimits", "iter_csv_tables", "read_csv_header", "read_csv_table"]

_QUOTE: Final = ord('"')
_NEWLINE: Final = ord("\n")
#: Bytes pyarrow parses per thread; a longer row sends its block to the closer look.
_PYARROW_BLOCK: Final = 4 << 20
#: Bytes of a refused block tried with pyarrow at a time, before looking at rows closely.
_PIECE_BYTES: Final = 1 << 20
#: Characters of a bad row's raw text kept in its message (the rest is counted).
RAW_SHOWN: Final = 4096


@frozen
class CsvLimits:
    """What one CSV file may ask of memory; each limit is a clear error when exceeded.

    ``max_columns``: the header's width (trip files have a dozen columns; 1,000 leaves
    room for any export's extra columns). ``max_header_bytes``: the header line's length.
    ``max_field_bytes``: one cell (1 MiB holds a GPS track of tens of thousands of points
    as an encoded polyline); a longer cell makes its row a bad row. ``max_record_bytes``:
    one row; a line longer than that is a file-level error, since it cannot be read
    without holding it whole.
    """

    max_columns: int = field(default=1_000, validator=validators.ge(1))
    max_header_bytes: int = field(default=1 << 20, validator=validators.ge(64))
    max_field_bytes: int = field(default=1 << 20, validator=validators.ge(1))
    max_record_bytes: int = field(default=16 << 20, validator=validators.ge(64))


DEFAULT_LIMITS: Final = CsvLimits()


@frozen
class _Header:
    names: list[str]
    end: int  # byte offset where the first data row starts


@frozen
class _Layout:
    """What a row looks like: the header's names and the byte that separates fields."""

    names: list[str]
    delimiter: str = ","

    @property
    def separator(self) -> int:
        return ord(self.delimiter)


def read_csv_header(
    path: Path, limits: CsvLimits = DEFAULT_LIMITS, *, delimiter: str = ","
) -> list[str]:
    """The column names of a CSV file's header row (a byte-order mark dropped)."""
    return _header(path, limits, delimiter).names


def _header(path: Path, limits: CsvLimits, delimiter: str = ",") -> _Header:
    with path.open("rb") as handle:
        start = handle.read(limits.max_header_bytes + 1)
    end = _record_end(start, 0)
    if end is None:
        if len(start) > limits.max_header_bytes:
            raise InputError(
                f"{path}: the header line is longer than {limits.max_header_bytes:,} bytes; "
                "is this a trip file?"
            )
        end = len(start)
    line = start[:end]
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: the header is not UTF-8 text (byte {exc.start + 1}); give the file's "
            "encoding with --encoding (e.g. gb18030, utf-16, latin-1), or save it as UTF-8"
        ) from None
    names = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    reserved = [name for name in names if name.strip().startswith(RESERVED_PREFIX)]
    if reserved:
        raise InputError(
            f"{path}: column {reserved[0]!r}: names starting with {RESERVED_PREFIX} are "
            "carbonfoot's own"
        )
    if len(names) > limits.max_columns:
        raise InputError(
            f"{path}: the header has {len(names):,} columns; carbonfoot reads at most "
            f"{limits.max_columns:,}"
        )
    return _Header(names, end)


def _record_end(data: bytes, start: int) -> int | None:
    """Offset just after the first line end at or after ``start`` outside quotes."""
    quotes = 0
    position = start
    while True:
        newline = data.find(b"\n", position)
        if newline < 0:
            return None
        quotes += data.count(b'"', position, newline)
        if quotes % 2 == 0:
            return newline + 1
        position = newline + 1


def read_csv_table(
    path: Path,
    *,
    limits: CsvLimits = DEFAULT_LIMITS,
    on_bytes: Callable[[int], None] | None = None,
    block_bytes: int = 64 << 20,
    delimiter: str = ",",
) -> pa.Table:
    """The whole file as a table of text columns plus :data:`BAD_ROW_COLUMN`.

    Without a progress callback the file is first given to pyarrow whole (its own
    threads and blocks); only if some row needs a closer look is it read block by block.
    """
    header = _header(path, limits, delimiter)
    if not header.names:
        raise InputError(f"{path}: empty file, no header row")
    layout = _Layout(header.names, delimiter)
    tried = on_bytes is None
    if tried:
        table = whole_with_pyarrow(str(path), layout, limits, skip_header=True)
        if table is not None:
            return table
    tables = list(
        iter_csv_tables(
            path,
            limits=limits,
            block_bytes=block_bytes,
            on_bytes=on_bytes,
            whole_first=not tried,
            delimiter=delimiter,
        )
    )
    return pa.concat_tables(tables) if tables else _text_table(header.names)


def iter_csv_tables(
    path: Path,
    *,
    limits: CsvLimits = DEFAULT_LIMITS,
    block_bytes: int,
    on_bytes: Callable[[int], None] | None = None,
    whole_first: bool = True,
    delimiter: str = ",",
) -> Iterator[pa.Table]:
    """The file's rows as tables of about ``block_bytes`` of text each, in order.

    Each block is first given to pyarrow whole, unless ``whole_first`` is false (the
    file is known to hold bad rows): then it goes straight to the closer look, which
    still hands pyarrow the pieces it can take.
    """
    header = _header(path, limits, delimiter)
    if not header.names:
        raise InputError(f"{path}: empty file, no header row")
    layout = _Layout(header.names, delimiter)
    lines = _LineCounter(path)
    if on_bytes is not None:
        on_bytes(header.end)
    for block, offset in _blocks(path, header.end, block_bytes, limits):
        table = (
            whole_with_pyarrow(pa.BufferReader(pa.py_buffer(block)), layout, limits)
            if whole_first
            else None
        )
        if table is None:
            table = _careful(bytes(block), lines.line_at(offset), layout, limits)
        if on_bytes is not None:
            on_bytes(len(block))
        if table.num_rows:
            yield table


class _LineCounter:
    """The line number at a byte offset of a file, counted only when asked (a bad row's
    message needs it), reading on from the last offset asked about."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.newlines = 0

    def line_at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.newlines = 0, 0
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            while self.offset < offset:
                chunk = handle.read(min(16 << 20, offset - self.offset))
                if not chunk:
                    break
                self.newlines += chunk.count(b"\n")
                self.offset += len(chunk)
        return self.newlines + 1


def _blocks(
    path: Path, start: int, block_bytes: int, limits: CsvLimits
) -> Iterator[tuple[memoryview, int]]:
    """Blocks of whole records (a view of the bytes, no copy) and each one's file offset.

    A block ends after its last line end outside quotes; the next is read from there
    (a few bytes are read twice, none copied). When no such line end is in reach (a
    quote left open), the block is read longer, up to a record's limit, and then ends
    after its last line end whatever the quotes.
    """
    offset = start
    with path.open("rb") as handle:
        want = block_bytes
        while True:
            handle.seek(offset)
            data = handle.read(want)
            if not data:
                return
            if len(data) < want:  # the rest of the file
                yield memoryview(data), offset
                return
            cut = _last_record_end(data)
            if cut is None and want < block_bytes + limits.max_record_bytes:
                want = block_bytes + limits.max_record_bytes
                continue
            if cut is None:
                last = data.rfind(b"\n")
                if last < 0:
                    raise InputError(
                        f"a line from byte {offset:,} on is longer than "
                        f"{limits.max_record_bytes:,} bytes"
                    )
                cut = last + 1
            yield memoryview(data)[:cut], offset
            offset += cut
            want = block_bytes


def _last_record_end(data: bytes) -> int | None:
    """Offset after the last line end outside quotes, looking back at most 64 lines."""
    quotes = (
        int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _QUOTE)) if b'"' in data else 0
    )
    newline = len(data)
    for _ in range(64):
        newline = data.rfind(b"\n", 0, newline)
        if newline < 0:
            return None
        if quotes == 0 or (quotes - data.count(b'"', newline)) % 2 == 0:
            return newline + 1
    return None


def whole_with_pyarrow(
    source: pa.NativeFile | str, layout: _Layout, limits: CsvLimits, *, skip_header: bool = False
) -> pa.Table | None:
    """``source`` parsed by pyarrow in one go (threads), or None if any row needs a closer
    look: a row of the wrong width, an unclosed quote, bytes that are not UTF-8, a cell
    over the field limit."""
    skipped: list[str] = []
    try:
        table = _pyarrow(source, layout, skipped, skip_header)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if skipped or not _fields_fit(table, limits):
        return None
    return table.append_column(BAD_ROW_COLUMN, pa.nulls(table.num_rows, pa.string()))


@contextlib.contextmanager
def _invalid_rows_noted(skipped: list[str]) -> Iterator[None]:
    """Note, instead of printing, the error pyarrow meets when it hands an invalid row
    holding bytes that are not UTF-8 to the row handler (it cannot make its text); other
    unraisable errors go on to the hook that was in place."""
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, UnicodeDecodeError):
            skipped.append("")
        else:
            previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _pyarrow(
    source: pa.NativeFile | str, layout: _Layout, skipped: list[str], skip_header: bool
) -> pa.Table:
    def skip(row: pa_csv.InvalidRow) -> str:
        skipped.append(row.text)
        return "skip"

    with _invalid_rows_noted(skipped):
        return _read(source, layout, skip, skip_header)


def _read(
    source: pa.NativeFile | str,
    layout: _Layout,
    skip: Callable[[pa_csv.InvalidRow], str],
    skip_header: bool,
) -> pa.Table:
    return pa_csv.read_csv(
        source,
        read_options=pa_csv.ReadOptions(
            column_names=layout.names,
            skip_rows=1 if skip_header else 0,
            block_size=_PYARROW_BLOCK,
            use_threads=True,
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=layout.delimiter, newlines_in_values=False, invalid_row_handler=skip
        ),
        convert_options=_all_text(layout.names),
    )


def _all_text(names: list[str], kind: pa.DataType | None = None) -> pa_csv.ConvertOptions:
    """Every column read as text, empty cells as empty text (the intake judges them)."""
    return pa_csv.ConvertOptions(
        column_types=dict.fromkeys(names, kind or pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )


def _fields_fit(table: pa.Table, limits: CsvLimits) -> bool:
    """Whether every cell is within the field limit (offsets only, no data read)."""
    for column in table.columns:
        for chunk in column.chunks:
            offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ]
            if offsets.size > 1 and int(np.diff(offsets).max()) > limits.max_field_bytes:
                return False
    return True


def _text_table(names: list[str], rows: int = 0, *, bad_rows: bool = True) -> pa.Table:
    """A table of null text cells (no rows by default), with the bad-row column or not."""
    columns = [*names, BAD_ROW_COLUMN] if bad_rows else names
    return pa.Table.from_arrays([pa.nulls(rows, pa.string()) for _ in columns], names=columns)


# -- a block row by row, with array operations over its bytes ------------------------------

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _careful(block: bytes, first_line: int, layout: _Layout, limits: CsvLimits) -> pa.Table:
    """A block pyarrow refused, in pieces of about :data:`_PIECE_BYTES` cut at record
    ends: pyarrow takes the pieces it can, and only the others are looked at closely."""
    tables = []
    line, counted = first_line, 0
    refused = 0  # pieces refused in a row: past a few, pyarrow is not asked first any more
    for start, end in _pieces(block):
        piece = memoryview(block)[start:end]
        table = None
        if refused < 3:
            table = whole_with_pyarrow(pa.BufferReader(pa.py_buffer(piece)), layout, limits)
            refused = 0 if table is not None else refused + 1
        if table is None:
            line += block.count(b"\n", counted, start)
            counted = start
            table = _closely(bytes(piece), line, layout, limits)
        tables.append(table)
    return pa.concat_tables(tables)


def _pieces(block: bytes) -> Iterator[tuple[int, int]]:
    start = 0
    while start < len(block):
        end = start + _PIECE_BYTES
        if end >= len(block):
            yield start, len(block)
            return
        cut = _last_record_end(block[start:end])
        if cut is None:  # a quote open across the piece: cut at a line end anyway
            newline = block.find(b"\n", end)
            cut = len(block) - start if newline < 0 else newline + 1 - start
        yield start, start + cut
        start += cut


def _closely(block: bytes, first_line: int, layout: _Layout, limits: CsvLimits) -> pa.Table:
    """Each record of ``block`` judged with array operations over its bytes."""
    data = np.frombuffer(block, dtype=np.uint8)
    # Quotes seen before each offset, modulo 2 (offsets 0 .. len, one byte each).
    quote_parity = np.empty(data.size + 1, dtype=np.uint8)
    quote_parity[0] = 0
    np.bitwise_xor.accumulate((data == _QUOTE).view(np.uint8), out=quote_parity[1:])
    newlines = np.flatnonzero(data == _NEWLINE)
    unended = 1 if block[-1:] != b"\n" else 0  # a last line without its line end
    line_starts = np.r_[0, newlines + 1][: newlines.size + unended]
    line_ends = np.r_[newlines, data.size][: line_starts.size]  # the newline, excluded
    # Records: lines joined while a quote is open at a line's end.
    open_after = quote_parity[line_ends].astype(bool)
    first_of = np.flatnonzero(np.r_[True, ~open_after[:-1]])  # a block holds a line or more
    lines_of = np.diff(np.r_[first_of, line_starts.size])
    starts = line_starts[first_of]
    ends = line_ends[first_of + lines_of - 1]
    verdict = _judge(block, data, quote_parity, starts, ends, layout, limits)
    # A quote left open swallows the lines after it into one record. Such a record is
    # taken apart, and its lines judged one by one (the open quote spoils only its own
    # line), when it reads wrong as a whole, or when its second line alone is a row of
    # the header's width (in a true multi-line value, it holds the value's rest).
    multi = np.flatnonzero(lines_of > 1)
    second_alone = np.zeros(starts.size, dtype=np.bool_)
    if multi.size:
        second = first_of[multi] + 1
        second_alone[multi] = (
            _judge(
                block,
                data,
                quote_parity,
                line_starts[second],
                line_ends[second],
                layout,
                limits,
            )
            == ""
        )
    split = ((verdict != "") | second_alone) & (lines_of > 1)
    if split.any():
        alone = np.flatnonzero(np.repeat(split, lines_of))
        one_start, one_end = line_starts[alone], line_ends[alone]
        starts = np.r_[starts[~split], one_start]
        ends = np.r_[ends[~split], one_end]
        verdict = np.r_[
            verdict[~split],
            _judge(block, data, quote_parity, one_start, one_end, layout, limits),
        ]
        order = np.argsort(starts, kind="stable")
        starts, ends, verdict = starts[order], ends[order], verdict[order]
    # Empty lines are no rows (as pyarrow reads them).
    length = ends - starts
    carriage = data[np.minimum(starts, max(data.size - 1, 0))] == ord("\r")
    kept = (length > 1) | ((length == 1) & ~carriage)
    starts, ends, verdict = starts[kept], ends[kept], verdict[kept]
    lines = first_line + np.searchsorted(newlines, starts)
    return _assemble(block, starts, ends, verdict, lines, layout)


def _judge(
    block: bytes,
    data: npt.NDArray[np.uint8],
    quote_parity: npt.NDArray[np.uint8],
    starts: IntArray,
    ends: IntArray,
    layout: _Layout,
    limits: CsvLimits,
) -> npt.NDArray[np.object_]:
    """Per record: "" if it reads as a row of the header's width, else what is wrong."""
    width = len(layout.names)
    verdict = np.full(starts.size, "", dtype=object)
    if starts.size == 0:
        return verdict
    commas = np.flatnonzero(data == layout.separator)
    owner = np.searchsorted(starts, commas, side="right") - 1
    inside = (owner >= 0) & (commas < ends[np.maximum(owner, 0)])
    commas, owner = commas[inside], owner[inside]
    # A comma separates fields when as many quotes precede it as its record's start.
    separates = quote_parity[commas] == quote_parity[starts[owner]]
    fields = np.bincount(owner[separates], minlength=starts.size) + 1
    unbalanced = quote_parity[ends] != quote_parity[starts]
    wrong = fields != width
    verdict[wrong] = [
        f"has {count} field{'s' if count != 1 else ''} where the header has {width}"
        for count in fields[wrong].tolist()
    ]
    verdict[unbalanced] = "opens a quote it never closes"
    # Only a record longer than the field limit can hold a field over it.
    for record in np.flatnonzero((ends - starts > limits.max_field_bytes) & (verdict == "")):
        mine = commas[(owner == record) & separates]
        bounds = np.r_[starts[record] - 1, mine, ends[record]]
        longest = int((np.diff(bounds) - 1).max())
        if longest > limits.max_field_bytes:
            verdict[record] = (
                f"has a field of {longest:,} bytes, over the limit of {limits.max_field_bytes:,}"
            )
    return verdict


def _assemble(
    block: bytes,
    starts: IntArray,
    ends: IntArray,
    verdict: npt.NDArray[np.object_],
    lines: IntArray,
    layout: _Layout,
) -> pa.Table:
    """The good records parsed by pyarrow, the bad ones rows of nulls in their places."""
    while True:  # pyarrow may still disagree about a row or find bytes not UTF-8
        good = np.flatnonzero(verdict == "")
        try:
            table = _parse_records(block, starts, ends, verdict == "", layout)
            break
        except _RefusedError as exc:
            verdict[good[exc.rows]] = exc.reason
    bad = np.flatnonzero(verdict != "")
    position = np.full(starts.size, table.num_rows, dtype=np.int64)  # bad: the null row
    position[good] = np.arange(good.size)
    padded = pa.concat_tables([table, _text_table(layout.names, 1, bad_rows=False)])
    result = padded.take(pa.array(position))
    messages = np.full(starts.size, None, dtype=object)
    messages[bad] = [
        _bad_message(int(line), str(why), block[int(start) : int(end)])
        for line, why, start, end in zip(
            lines[bad], verdict[bad], starts[bad], ends[bad], strict=True
        )
    ]
    return result.append_column(BAD_ROW_COLUMN, pa.array(messages, type=pa.string()))


def _bad_message(line: int, why: str, raw: bytes) -> str:
    text = raw.rstrip(b"\r").decode("utf-8", errors="backslashreplace")
    shown = text if len(text) <= RAW_SHOWN else f"{text[:RAW_SHOWN]}... ({len(raw):,} bytes)"
    return f"line {line} {why}; its text: {shown}"


def _gather(
    block: bytes, starts: IntArray, ends: IntArray, good: BoolArray
) -> tuple[bytes, IntArray]:
    """The good records' bytes, each ended by a newline, as one buffer (one slice per run
    of good records: between two records of a run lie at most empty lines), and where
    each good record starts in it."""
    view = memoryview(block)
    change = np.flatnonzero(np.diff(np.r_[0, good.astype(np.int8), 0]))
    firsts, afters = change[0::2], change[1::2]
    run_bytes = ends[afters - 1] - starts[firsts] + 1
    run_offsets = np.r_[0, np.cumsum(run_bytes)[:-1]]
    pieces: list[bytes | memoryview] = []
    for first, after in zip(firsts.tolist(), afters.tolist(), strict=True):
        pieces.append(view[int(starts[first]) : int(ends[after - 1])])
        pieces.append(b"\n")
    run_of = np.repeat(np.arange(firsts.size), afters - firsts)
    chosen = np.flatnonzero(good)
    offsets = run_offsets[run_of] + starts[chosen] - starts[firsts][run_of]
    return b"".join(pieces), np.asarray(offsets, dtype=np.int64)


class _RefusedError(Exception):
    """Records the closer look let through but pyarrow or the UTF-8 check did not."""

    def __init__(self, rows: IntArray, reason: str) -> None:
        super().__init__(reason)
        self.rows = rows
        self.reason = reason


def _parse_records(
    block: bytes, all_starts: IntArray, all_ends: IntArray, good: BoolArray, layout: _Layout
) -> pa.Table:
    """The good records (read as of the header's width), parsed by pyarrow as bytes and
    decoded; the rows it refuses are raised as indices among the good ones."""
    if not good.any():
        return _text_table(layout.names, bad_rows=False)
    clean, offsets = _gather(block, all_starts, all_ends, good)
    skipped: list[str] = []

    def skip(row: pa_csv.InvalidRow) -> str:
        skipped.append(row.text)
        return "skip"

    with _invalid_rows_noted(skipped):
        table = _read_records(clean, layout, skip)
    if skipped:
        raise _RefusedError(
            _records_holding(clean, offsets, skipped), "is not a CSV row pyarrow can read"
        )
    if table.num_rows != offsets.size:
        raise _RefusedError(np.arange(offsets.size), "is not a CSV row pyarrow can read")
    columns = []
    undecodable = np.zeros(table.num_rows, dtype=np.bool_)
    for column in table.columns:
        text, bad = _decode(column.combine_chunks())
        columns.append(text)
        undecodable |= bad
    if undecodable.any():
        raise _RefusedError(np.flatnonzero(undecodable), "is not valid UTF-8 text")
    return pa.Table.from_arrays(columns, names=layout.names)


def _read_records(
    clean: bytes, layout: _Layout, skip: Callable[[pa_csv.InvalidRow], str]
) -> pa.Table:
    return pa_csv.read_csv(
        pa.BufferReader(pa.py_buffer(clean)),
        read_options=pa_csv.ReadOptions(
            column_names=layout.names,
            use_threads=False,
            block_size=max(1 << 20, len(clean) + 1),
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=layout.delimiter, newlines_in_values=True, invalid_row_handler=skip
        ),
        convert_options=_all_text(layout.names, pa.binary()),
    )


def _records_holding(clean: bytes, record_starts: IntArray, texts: list[str]) -> IntArray:
    """Which records (starting at ``record_starts`` in ``clean``) pyarrow's skipped texts are."""
    found = []
    position = 0
    for text in texts:  # one per refused row, in order
        at = clean.find(text.encode("utf-8", errors="surrogateescape"), position)
        if at < 0 or not text:  # an empty text: pyarrow could not give it (not UTF-8)
            continue
        found.append(int(np.searchsorted(record_starts, at, side="right")) - 1)
        position = at + 1
    return np.unique(np.asarray(found, dtype=np.int64)) if found else np.arange(record_starts.size)


def _decode(values: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """Binary cells as text; the rows that are not UTF-8, found by bisecting casts."""
    try:
        return values.cast(pa.string()), np.zeros(len(values), dtype=bool)
    except pa.ArrowInvalid:
        if len(values) == 1:
            return pa.nulls(1, pa.string()), np.ones(1, dtype=bool)
    middle = len(values) // 2
    left, left_bad = _decode(values.slice(0, middle))
    right, right_bad = _decode(values.slice(middle))
    return pa.concat_arrays([left, right]), np.r_[left_bad, right_bad]
