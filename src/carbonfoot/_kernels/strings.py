"""Whole-column facts about text, read straight from the Arrow buffers that hold it.

Trimming ten million short ids with pyarrow's Unicode kernel copies the whole column,
though almost no id has anything to trim. The bytes that decide are the first and last of
each value: a value can only start or end with whitespace if one of them is an ASCII
space or control byte or part of a multi-byte character. The kernel runs only when some
value has such an edge, so its answer is always the kernel's own.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from carbonfoot._kernels.arrays import null_mask

__all__ = [
    "NUMBER_PATTERN",
    "as_text",
    "blank",
    "decimal_numbers",
    "decode_utf8",
    "empty_or_null",
    "has_non_ascii",
    "layout",
    "trim_whitespace",
]

#: The one grammar of a number written as text, wherever carbonfoot reads one (a trip's
#: distance, a factor file's quantity, a step count): optional sign, ASCII digits with an
#: optional decimal point, an optional exponent. No thousands separators, no other
#: digits (``١٢``, ``５``), no ``inf`` or ``nan``: those are rejected, not guessed at.
NUMBER_PATTERN: Final = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"

_LAST_SPACE_OR_CONTROL = 0x20
_DELETE = 0x7F  # every byte above it belongs to a multi-byte character
_BLOCK_VALUES = 1 << 20


Offsets = npt.NDArray[np.int32] | npt.NDArray[np.int64]


def _offsets(values: pa.Array) -> Offsets:
    """The array's value offsets (one more than values), as stored."""
    kind = np.int64 if pa.types.is_large_string(values.type) else np.int32
    if len(values) == 0:  # an empty array may come without an offsets buffer
        empty: Offsets = np.zeros(1, dtype=kind)  # type: ignore[assignment]
        return empty
    stored = np.frombuffer(values.buffers()[1], dtype=kind, count=values.offset + len(values) + 1)
    offsets: Offsets = stored[values.offset :]  # type: ignore[assignment]
    return offsets


def layout(values: pa.Array) -> tuple[Offsets, Offsets, npt.NDArray[np.uint8]]:
    """Each value's start and length in bytes, and the bytes, of a (large_)string array.

    Starts and lengths keep the array's own offset width (32 bits for ``string``).
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise TypeError(f"expected a string array, got {values.type}")
    offsets = _offsets(values)
    return offsets[:-1], np.diff(offsets), _bytes(values)


def _bytes(values: pa.Array) -> npt.NDArray[np.uint8]:
    """The array's whole data buffer (values of a slice lie somewhere inside it)."""
    data = values.buffers()[2]
    return np.zeros(0, np.uint8) if data is None else np.frombuffer(data, np.uint8)


def _is_text_array(values: pa.Array | pa.ChunkedArray) -> bool:
    return isinstance(values, pa.Array) and (
        pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
    )


def trim_whitespace(values: pa.Array) -> pa.Array:
    """``pc.utf8_trim_whitespace(values)``, skipped when no value can start or end with
    whitespace (then ``values`` itself is returned)."""
    if not _is_text_array(values):
        return pc.utf8_trim_whitespace(values)
    offsets, data = _offsets(values), _bytes(values)
    if len(values) == 0 or offsets[-1] == offsets[0]:
        return values  # nothing but empty values
    last_byte = data.size - 1
    # The byte at each value's start and the byte before each value's end, a block of
    # values at a time (small scratch arrays, reused). For an empty value these are a
    # neighbour's bytes: a needless trim at worst, never a missed one.
    for low in range(0, len(values), _BLOCK_VALUES):
        bounds = offsets[low : low + _BLOCK_VALUES + 1]
        for edge in (data[np.minimum(bounds[:-1], last_byte)], data[bounds[1:] - 1]):
            if ((edge <= _LAST_SPACE_OR_CONTROL) | (edge >= _DELETE)).any():
                return pc.utf8_trim_whitespace(values)
    return values


def empty_or_null(values: pa.Array) -> npt.NDArray[np.bool_]:
    """Rows that are null or the empty string."""
    if not _is_text_array(values):
        empty = pc.equal(pc.binary_length(values), 0).fill_null(True)
        return np.asarray(empty.to_numpy(zero_copy_only=False), dtype=np.bool_)
    offsets = _offsets(values)
    empty = offsets[1:] == offsets[:-1]
    if values.null_count:
        empty |= np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=np.bool_)
    return np.asarray(empty, dtype=np.bool_)


def as_text(values: pa.Array) -> pa.Array:
    """A column as text: strings stay, numbers and other scalars become their text form;
    bytes that are not valid UTF-8 become null (:func:`decode_utf8` says which)."""
    if pa.types.is_string(values.type):
        return values
    if pa.types.is_large_string(values.type) or pa.types.is_dictionary(values.type):
        return values.cast(pa.string())
    if pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type):
        return decode_utf8(values)[0]
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), type=pa.string())
    try:
        return values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array(
            [None if value is None else str(value) for value in values.to_pylist()],
            type=pa.string(),
        )


def decode_utf8(values: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """A binary column as text, and the rows whose bytes are not valid UTF-8 (null in the
    text, never their ``b'...'`` representation). Other columns: :func:`as_text`, none
    invalid.

    A column that is all valid UTF-8 (the usual case) is one validating cast; otherwise
    the distinct values are decoded one by one, never the rows.
    """
    size = len(values)
    if not (pa.types.is_binary(values.type) or pa.types.is_large_binary(values.type)):
        return as_text(values), np.zeros(size, dtype=np.bool_)
    try:
        return values.cast(pa.string()), np.zeros(size, dtype=np.bool_)
    except pa.ArrowInvalid:
        pass
    encoded = values.dictionary_encode()
    decoded = []
    for raw in encoded.dictionary.to_pylist():
        try:
            decoded.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(None)
    dictionary = pa.array([*decoded, None], type=pa.string())
    indices = encoded.indices.fill_null(len(decoded)).to_numpy(zero_copy_only=False)
    text = dictionary.take(pa.array(indices))
    invalid = ~null_mask(values) & null_mask(text)
    return text, np.asarray(invalid, dtype=np.bool_)


def has_non_ascii(values: pa.Array) -> bool:
    """Whether any value of a (large_)string array holds a byte outside ASCII."""
    if len(values) == 0:
        return False
    starts, lengths, data = layout(values)
    used = data[int(starts[0]) : int(starts[-1] + lengths[-1])]
    return bool(used.size and used.max() > _DELETE)


def blank(values: pa.Array) -> npt.NDArray[np.bool_]:
    """Null, empty, or only whitespace (for numbers and times: null)."""
    kind = values.type
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_decimal(kind)
        or pa.types.is_temporal(kind)
    ):
        return null_mask(values)
    values = as_text(values)
    empty = pc.equal(pc.binary_length(values), 0)
    blank = pc.or_kleene(empty, pc.utf8_is_space(values)).fill_null(True)
    return np.asarray(blank.to_numpy(zero_copy_only=False), dtype=np.bool_)


def decimal_numbers(values: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """The text values that are numbers by :data:`NUMBER_PATTERN` (once trimmed), as a
    float64 array (null where not a number), and the mask of those rows."""
    trimmed = pc.utf8_trim_whitespace(values)
    numeric = np.asarray(
        pc.match_substring_regex(trimmed, NUMBER_PATTERN)
        .fill_null(False)
        .to_numpy(zero_copy_only=False),
        dtype=np.bool_,
    )
    numbers = pc.if_else(pa.array(numeric), trimmed, pa.scalar(None, trimmed.type))
    return numbers.cast(pa.float64()), numeric


_SEPARATORS: Final = re.compile(r"[\s_]+")


def fold_name(name: str) -> str:
    """The form names are matched in (mode labels, districts): Unicode compatibility
    form (full-width letters as ASCII), trimmed, case-folded, runs of spaces and ``_`` as
    one ``-``. ``"Ｊｉａｎｇｂｅｉ"``, ``" jiangbei "`` and ``"JIANGBEI"`` are one name."""
    return _SEPARATORS.sub("-", unicodedata.normalize("NFKC", name).strip()).casefold()
