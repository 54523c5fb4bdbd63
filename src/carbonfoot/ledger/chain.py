"""The hash chain: every entry has a digest; every block of entries chains to the last.

An entry's canonical form is its fields, in a fixed order, each written as its length in
bytes, a colon and its text, or as ``-`` when it is null (format 2). The encoding is
unambiguous: no two different entries have the same form, whatever their text holds (a
null is not an empty string or ``"\x00"``, and no byte can pass from one field to the
next). Integers are written in decimal, floats as the integer of their IEEE 754 bits, so
the text never depends on how a backend prints numbers. Its ``digest`` is the SHA-256 of
that text (it locates a damaged entry). Blocks written before format 2 (format 1: fewer
fields, joined by a unit separator, nulls as ``"\x00"``) keep their format, recorded per
block, and are verified in it. The settings of the run that wrote an entry (factor set
and its hash, baseline, policy and parameters) are a row of their own whose id is the hash
of its content, so an entry points to them and a changed setting is detected.
A block's ``entries_hash`` is the SHA-256 of its entries' canonical forms, and its
``block_hash`` the SHA-256 of the previous block's hash and this block's content: change,
remove or insert one entry and every later block hash changes. The time an entry was
recorded is kept beside it but is not part of the chain, so the same trips, factors and
policy give the same chain on every backend.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "CHAINED_FIELDS",
    "FIELDS_OF_FORMAT",
    "FORMAT",
    "block_hash",
    "canonical_rows",
    "digests",
    "entries_hash",
    "run_id",
    "settings_run_id",
]

#: The fields of an entry the chain covered in format 1, in canonical order.
CHAINED_FIELDS_V1: Final = (
    "seq",
    "entry_id",
    "kind",
    "user_id",
    "account",
    "amount_minor",
    "trip_id",
    "request_id",
    "item",
    "corrects",
    "local_day",
    "mode",
    "distance_km",
    "started_us",
    "savings_mg",
    "award_minor",
    "run_id",
    "note",
)
#: The fields of an entry the chain covers, in canonical order (format 2).
CHAINED_FIELDS: Final = (*CHAINED_FIELDS_V1, "district", "ended_us", "status")
#: The encoding new blocks are written in.
FORMAT: Final = 2
FIELDS_OF_FORMAT: Final = {1: CHAINED_FIELDS_V1, 2: CHAINED_FIELDS}
_NULL_V2: Final = "-"
_FLOATS: Final = {"distance_km"}
_NULL: Final = "\x00"
_FEW_ROWS: Final = 16  # up to this many entries, canonical texts are built in plain Python
_DOUBLE: Final = struct.Struct("<d")
_BITS: Final = struct.Struct("<q")


def canonical_rows(columns: Mapping[str, Sequence[Any]], chain_format: int = FORMAT) -> pa.Array:
    """One canonical text per entry, from columns of Python or numpy values, in ``chain_format``."""
    fields = FIELDS_OF_FORMAT[chain_format]
    size = len(columns[fields[0]])
    if size <= _FEW_ROWS:
        texts = _canonical_few(columns, size, chain_format)
        if texts is not None:
            return pa.array(texts, type=pa.string())
    parts = []
    for name in fields:
        values = columns[name]
        if name in _FLOATS:
            # A double's exact bits, so text never depends on how a backend prints floats.
            floats = (
                pa.array(values, type=pa.float64()) if not isinstance(values, pa.Array) else values
            )
            bits = np.asarray(
                floats.fill_null(0.0).to_numpy(zero_copy_only=False), dtype=np.float64
            ).view(np.int64)
            text = pc.if_else(
                pc.is_null(floats), pa.scalar(None, pa.string()), pa.array(bits).cast(pa.string())
            )
        else:
            array = (
                values
                if isinstance(values, pa.Array)
                else pa.array(list(values) if not isinstance(values, np.ndarray) else values)
            )
            text = (
                array.cast(pa.string())
                if not pa.types.is_null(array.type)
                else pa.nulls(len(array), pa.string())
            )
        if chain_format == 1:
            parts.append(text.fill_null(_NULL))
        else:
            length = pc.binary_length(text).cast(pa.string())
            parts.append(
                pc.if_else(
                    pc.is_null(text), _NULL_V2, pc.binary_join_element_wise(length, ":", text, "")
                )
            )
    return pc.binary_join_element_wise(*parts, "\x1f" if chain_format == 1 else "")


def _canonical_few(
    columns: Mapping[str, Sequence[Any]], size: int, chain_format: int
) -> list[str] | None:
    """The same texts as the columnar path, in plain Python: a redemption is one row, and
    a dozen array calls per field would cost more than its durable commit. ``None`` for a
    value of a kind only the columnar path knows how to print."""
    fields: list[list[str]] = []
    for name in FIELDS_OF_FORMAT[chain_format]:
        values = columns[name]
        texts = []
        for index in range(size):
            value = values[index]
            if value is None:
                texts.append(_NULL if chain_format == 1 else _NULL_V2)
                continue
            if name in _FLOATS:
                if isinstance(value, bool) or not isinstance(value, float | int | np.floating):
                    return None
                text = str(_BITS.unpack(_DOUBLE.pack(float(value)))[0])
            elif isinstance(value, str):
                text = value
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                text = str(int(value))
            else:
                return None
            texts.append(text if chain_format == 1 else f"{len(text.encode())}:{text}")
        fields.append(texts)
    separator = "\x1f" if chain_format == 1 else ""
    return [separator.join(row) for row in zip(*fields, strict=True)]


def digests(rows: pa.Array) -> list[str]:
    """The SHA-256 of each canonical row, first 128 bits in hex."""
    return [hashlib.sha256(row.encode("utf-8")).hexdigest()[:32] for row in rows.to_pylist()]


def run_id(
    factor_set: str, factor_set_hash: str, baseline: str, policy: str, policy_params: str
) -> str:
    """The id of a run recorded before its baseline request was kept (schema 1): the hash
    of its fields joined by a unit separator, which none of them can hold (names are
    validated, the parameters are JSON, which escapes it). A changed run row is detected."""
    text = "\x1f".join((factor_set, factor_set_hash, baseline, policy, policy_params))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def settings_run_id(fields: Sequence[str]) -> str:
    """The id of a run (schema 2): the hash of the canonical JSON of its stored fields."""
    text = json.dumps(list(fields), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def entries_hash(rows: pa.Array) -> str:
    """SHA-256 of a block's canonical rows: their lengths, then their bytes."""
    fresh = pa.concat_arrays([rows.cast(pa.string())])  # offsets from zero
    size = len(fresh)
    offsets = np.frombuffer(fresh.buffers()[1], dtype=np.int32)[: size + 1]
    digest = hashlib.sha256(offsets.tobytes())
    if size and offsets[-1] > 0:
        digest.update(memoryview(fresh.buffers()[2])[: int(offsets[-1])])
    return digest.hexdigest()


def block_hash(previous: str, block: int, first_seq: int, last_seq: int, content: str) -> str:
    """SHA-256 linking a block to the one before it."""
    return hashlib.sha256(
        f"{previous}|{block}|{first_seq}|{last_seq}|{content}".encode()
    ).hexdigest()
