"""The chain's canonical text is the same whichever way it is built.

Small blocks (a redemption, a reversal) are printed in plain Python, large ones with
array kernels; a digest written by one must be verified by the other, so both must give
byte-identical texts for every value an entry can hold.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from carbonfoot.ledger import chain
from carbonfoot.ledger.chain import CHAINED_FIELDS, canonical_rows

_INTS = {"seq", "amount_minor", "local_day", "started_us", "savings_mg", "award_minor"}
_text = st.none() | st.text(max_size=12)
_int = st.none() | st.integers(-(2**63), 2**63 - 1)
_float = st.none() | st.floats(allow_nan=True, allow_infinity=True) | st.integers(-(2**40), 2**40)


@st.composite
def entry_columns(draw: st.DrawFn) -> dict[str, list[object]]:
    size = draw(st.integers(1, 5))
    columns: dict[str, list[object]] = {}
    for name in CHAINED_FIELDS:
        kind = _float if name == "distance_km" else _int if name in _INTS else _text
        values = draw(st.lists(kind, min_size=size, max_size=size))
        if name in _INTS and draw(st.booleans()) and None not in values:
            values = list(np.asarray(values, dtype=np.int64))  # numpy scalars, as from arrays
        columns[name] = values
    return columns


@given(entry_columns())
def test_python_and_columnar_texts_are_identical(columns: dict[str, list[object]]) -> None:
    few = canonical_rows(columns).to_pylist()
    saved = chain._FEW_ROWS
    chain._FEW_ROWS = 0  # force the columnar path
    try:
        many = canonical_rows(columns).to_pylist()
    finally:
        chain._FEW_ROWS = saved
    assert few == many
