"""pyarrow without pandas until something needs it: a command's start-up, seconds shorter.

pyarrow looks for pandas the first time it converts a Python or NumPy value
(``pa.array``, ``pa.scalar``): it imports pandas to ask whether the value is a pandas
object. pandas takes longer to import than NumPy and pyarrow together, and a ``calc``
of a file never holds a pandas object. :func:`defer_pandas` lets pyarrow make that first
look with pandas out of sight (it then takes values for what they are); whatever really
needs pandas later (``to_pandas``, ``from_pandas``) still imports it. Where pandas
objects may come into pyarrow afterwards (the Dask pipeline's frames),
:func:`engage_pandas` makes pyarrow recognise them again.

Only the command line defers pandas; the library, imported into a program that may
already use pandas, leaves pyarrow as it is.
"""

from __future__ import annotations

import sys
from importlib.machinery import ModuleSpec
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["defer_pandas", "engage_pandas"]


class _OutOfSight:
    """An import finder that says pandas is not there."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} deferred", name=name)
        return None


def defer_pandas() -> None:
    """Make pyarrow's first look for pandas with pandas out of sight (if not imported)."""
    if "pandas" in sys.modules:
        return
    finder = _OutOfSight()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])  # pyarrow looks for pandas once, here, and notes it as absent
    finally:
        sys.meta_path.remove(finder)


def engage_pandas() -> None:
    """Make pyarrow recognise pandas objects (after :func:`defer_pandas`); imports pandas."""
    pa.array(np.zeros(0)).to_pandas()  # a conversion that needs pandas looks for it again
