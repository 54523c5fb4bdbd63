"""The hash chain: every entry has a digest; every block of entries chains to the last.

An entry's canonical form is its fields, in a fixed order, as text joined by a unit
separator (nulls marked apart from an empty string). Its ``digest`` is the SHA-256 of that
text (it locates a damaged entry). The settings of the run that wrote an entry (factor set
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
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["CHAINED_FIELDS", "block_hash", "canonical_rows", "digests", "entries_hash", "run_id"]

#: The fields of an entry the chain covers, in canonical order.
CHAINED_FIELDS: Final = (
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
_FLOATS: Final = {"distance_km"}
_NULL: Final = "\x00"
_FEW_ROWS: Final = 16  # up to this many entries, canonical texts are built in plain Python
_DOUBLE: Final = struct.Struct("<d")
_BITS: Final = struct.Struct("<q")


def canonical_rows(columns: Mapping[str, Sequence[Any]]) -> pa.Array:
    """One canonical text per entry, from columns of Python or numpy values."""
    size = len(columns[CHAINED_FIELDS[0]])
    if size <= _FEW_ROWS:
        texts = _canonical_few(columns, size)
        if texts is not None:
            return pa.array(texts, type=pa.string())
    parts = []
    for name in CHAINED_FIELDS:
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
        parts.append(text.fill_null(_NULL))
    return pc.binary_join_element_wise(*parts, "\x1f")


def _canonical_few(columns: Mapping[str, Sequence[Any]], size: int) -> list[str] | None:
    """The same texts as the columnar path, in plain Python: a redemption is one row, and
    a dozen array calls per field would cost more than its durable commit. ``None`` for a
    value of a kind only the columnar path knows how to print."""
    fields: list[list[str]] = []
    for name in CHAINED_FIELDS:
        values = columns[name]
        texts = []
        for index in range(size):
            value = values[index]
            if value is None:
                texts.append(_NULL)
            elif name in _FLOATS:
                if isinstance(value, bool) or not isinstance(value, float | int | np.floating):
                    return None
                texts.append(str(_BITS.unpack(_DOUBLE.pack(float(value)))[0]))
            elif isinstance(value, str):
                texts.append(value)
            elif isinstance(value, int | np.integer) and not isinstance(value, bool):
                texts.append(str(int(value)))
            else:
                return None
        fields.append(texts)
    return ["\x1f".join(row) for row in zip(*fields, strict=True)]


def digests(rows: pa.Array) -> list[str]:
    """The SHA-256 of each canonical row, first 128 bits in hex."""
    return [hashlib.sha256(row.encode("utf-8")).hexdigest()[:32] for row in rows.to_pylist()]


def run_id(
    factor_set: str, factor_set_hash: str, baseline: str, policy: str, policy_params: str
) -> str:
    """The id of a run's settings: the hash of its content, so a changed run row is detected."""
    text = "\x1f".join((factor_set, factor_set_hash, baseline, policy, policy_params))
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
