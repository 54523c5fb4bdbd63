"""Money-like numbers: exact minor units, and the one rounding rule on the way to them.

Credits and coins are kept as integers of their smallest unit (``10 ** -decimals`` of a
credit or coin), never as binary floats: an award of 1234 with ``decimals == 2`` is 12.34
coins. They leave the library as ``int`` (whole units) or :class:`decimal.Decimal` (with
their places), and as ``int64`` or exact ``decimal128`` Arrow columns.

The rounding rule, stated once:

* savings in grams (a float, the product of a factor and a distance) are rounded to whole
  milligrams, half to even (:func:`whole_milligrams`), before anything is awarded, so an
  award never depends on floating-point noise in the last digit;
* from there every step is integer arithmetic; a policy's rate divides milligrams with
  :func:`divide_floor`, rounding toward zero (a citizen is never paid a fraction the
  savings do not cover: the conservative direction);
* amounts typed by people (a redemption) are parsed exactly and refused, not rounded,
  when they have more places than the account (:func:`parse_amount`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from carbonfoot.errors import InputError, PolicyError

__all__ = [
    "MAX_MINOR",
    "MILLIGRAMS_PER_GRAM",
    "decimal_column",
    "divide_floor",
    "minor_units",
    "money_column",
    "parse_amount",
    "to_value",
    "whole_milligrams",
]

MILLIGRAMS_PER_GRAM: Final = 1000
#: Digits of the decimal128 columns of coins: every int64 award fits.
DECIMAL_PRECISION: Final = 18
#: Savings of one trip at or beyond this many milligrams cannot be awarded exactly.
MAX_SAVINGS_MG: Final = 2.0**62
#: The largest amount of minor units a balance or a total may hold: far above any real
#: programme, and far enough below 2**63 that sums of a few of them stay exact in int64.
MAX_MINOR: Final = 2**62

Int64Array = npt.NDArray[np.int64]

#: The one grammar of an amount of money typed by a person.
AMOUNT_PATTERN: Final = r"[0-9]+(\.[0-9]+)?"
_AMOUNT: Final = re.compile(AMOUNT_PATTERN, re.ASCII)


def to_value(minor: int, decimals: int) -> int | Decimal:
    """An amount in minor units as its unit: an ``int``, or a ``Decimal`` with its places."""
    if decimals == 0:
        return int(minor)
    return Decimal(int(minor)).scaleb(-decimals)


def parse_amount(amount: Any, decimals: int, unit: str = "credit") -> int:
    """A positive amount typed by a person, in minor units of an account with ``decimals``.

    One grammar (:data:`AMOUNT_PATTERN`): ASCII digits, optionally a point and more digits;
    no sign, exponent, separator or other script's digits. Refused (never rounded) when it
    has more decimal places than the account keeps, is zero, or is beyond
    :data:`MAX_MINOR`. An ``int`` or a ``Decimal`` is read by the same rule; a binary float
    is refused: money never passes through one.
    """
    if isinstance(amount, bool | float):
        raise InputError(f"amount {amount!r}: give money as text or a whole number, not a float")
    text = format(amount, "f") if isinstance(amount, Decimal) else str(amount).strip()
    if not _AMOUNT.fullmatch(text):
        raise InputError(
            f"amount {amount!r} is not a positive decimal number such as 12 or 12.5 "
            "(ASCII digits and a point only)"
        )
    scaled = Decimal(text).scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InputError(f"amount {amount} has more than {decimals} decimal places for {unit}s")
    minor = int(scaled)
    if minor <= 0:
        raise InputError(f"amount {amount!r} must be a positive number")
    if minor > MAX_MINOR:
        raise InputError(f"amount {amount} is larger than any balance the ledger keeps")
    return minor


def decimal_column(minor: Int64Array, decimals: int, valid: npt.NDArray[np.bool_]) -> pa.Array:
    """An exact decimal128 array from integer amounts in units of ``10 ** -decimals``.

    Arrow stores a decimal128 as its unscaled 128-bit integer, so the int64 amounts are
    written into that layout directly (sign-extended) instead of passing through floats.
    """
    size = minor.size
    words = np.empty((size, 2), dtype=np.int64)
    words[:, 0] = minor
    words[:, 1] = minor >> 63
    validity = pa.array(valid).buffers()[1] if not valid.all() else None
    return pa.Array.from_buffers(
        pa.decimal128(DECIMAL_PRECISION, decimals),
        size,
        [validity, pa.py_buffer(words.tobytes())],
        null_count=int(size - np.count_nonzero(valid)),
    )


def money_column(minor: Int64Array, decimals: int, valid: npt.NDArray[np.bool_]) -> pa.Array:
    """Minor units as a column of the account's values: int64, or exact decimals."""
    if decimals == 0:
        return pa.array(minor, mask=~valid, type=pa.int64())
    return decimal_column(minor, decimals, valid)


def minor_units(amounts: pa.Array) -> Int64Array:
    """The integer minor units of a money column (int64 or decimal128), 0 where null."""
    size = len(amounts)
    if pa.types.is_decimal(amounts.type):
        # A decimal128 is stored as its unscaled 128-bit integer: the low word is the amount.
        words = np.frombuffer(amounts.buffers()[1], dtype=np.int64)
        values = words.reshape(-1, 2)[amounts.offset : amounts.offset + size, 0].copy()
    else:
        values = amounts.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    if amounts.null_count:
        values[np.asarray(amounts.is_null().to_numpy(zero_copy_only=False))] = 0
    return values


def whole_milligrams(savings_g: npt.NDArray[np.float64]) -> Int64Array:
    """Savings rounded to whole milligrams (half to even), refused beyond 2**62 mg."""
    milligrams = savings_g * float(MILLIGRAMS_PER_GRAM)
    np.rint(milligrams, out=milligrams)
    if milligrams.size and float(milligrams.max()) >= MAX_SAVINGS_MG:
        raise PolicyError(
            f"a trip saves {float(milligrams.max()) / 1000:.4g} g, too much to award exactly; "
            "check the factor set"
        )
    # Cast in place: the whole numbers overwrite their own floats (numpy casts an exactly
    # overlapping array element by element), so a batch needs one buffer here, not two.
    whole = milligrams.view(np.int64)
    np.copyto(whole, milligrams, casting="unsafe")
    return whole


def divide_floor(savings_mg: Int64Array, scale: int, milligrams_per_unit: int) -> Int64Array:
    """``floor(savings_mg * scale / milligrams_per_unit)`` exactly, without int64 overflow.

    Splits the division so the intermediate product never exceeds
    ``milligrams_per_unit * scale``: the quotient and remainder parts are exact integers.
    """
    if scale == 1:
        return np.asarray(savings_mg // milligrams_per_unit, dtype=np.int64)
    whole, rest = np.divmod(savings_mg, milligrams_per_unit)
    if whole.size and int(whole.max()) > (2**63 - 1) // scale - 1:
        raise PolicyError(
            f"an award of {int(whole.max())} x {scale} minor units does not fit in 64 bits; "
            "check the factor set and the policy rate"
        )
    return np.asarray(whole * scale + (rest * scale) // milligrams_per_unit, dtype=np.int64)
