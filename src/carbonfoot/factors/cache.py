"""Validated factor sets kept on disk, so that a command does not build pint's registry.

Reading a factor set converts every quantity with pint, and importing pint and building
its registry costs a command more than importing NumPy and pyarrow. The result depends
only on the set's merged TOML document (its file and every file it extends) and on the
code that reads it, so it is kept under a key made of both: the SHA-256 of the document
(as canonical JSON), the file's path and the sets it extends, the name asked for, and
the bytes of the modules that read and
model factor sets and of ``units.txt``. A changed factor file, or a new carbonfoot, gives
a new key; nothing is ever invalidated by hand, and a set is always exactly what reading
its files would give.

The cache lives in ``$CARBONFOOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/carbonfoot``, else
``~/.cache/carbonfoot``; ``CARBONFOOT_CACHE_DIR=off`` turns it off. Entries are pickles,
read only from that directory (the user's own, like the installed code itself); an entry
that cannot be read or is not a factor set is ignored and rewritten. Writes go to a
temporary file renamed into place, so concurrent commands never see half an entry.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import json
import os
import pickle
import tempfile
import types
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, Final

from carbonfoot.factors.factor_set import FactorSet

__all__ = ["CACHE_ENV", "cache_dir", "cached"]

CACHE_ENV: Final = "CARBONFOOT_CACHE_DIR"
#: The code whose behaviour a cached set depends on (relative to the package).
_CODE: Final = (
    "factors/__init__.py",
    "factors/factor_set.py",
    "factors/loader.py",
    "factors/model.py",
    "factors/resolve.py",
    "units.py",
    "units.txt",
    "_kernels/strings.py",
)


def _read_only(mapping: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    return types.MappingProxyType(mapping)


def _mapping_proxy(proxy: types.MappingProxyType[Any, Any]) -> tuple[Any, tuple[Any, ...]]:
    return _read_only, (dict(proxy),)


# A factor set's tables are read-only mappings; pickled as the mapping they wrap.
copyreg.pickle(types.MappingProxyType, _mapping_proxy)


def cache_dir() -> Path | None:
    """Where validated sets are kept, or None when the cache is off."""
    given = os.environ.get(CACHE_ENV)
    if given is not None:
        return None if given.strip().lower() in ("", "off", "0", "false") else Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "carbonfoot"


@functools.cache
def _code_fingerprint() -> bytes:
    package = resources.files("carbonfoot")
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update(name.encode())
        digest.update(package.joinpath(name).read_bytes())
    return digest.digest()


def _key(document: dict[str, Any], origin: tuple[str, ...], expected_name: str | None) -> str:
    digest = hashlib.sha256(_code_fingerprint())
    text = json.dumps([document, list(origin), expected_name], sort_keys=True, default=str)
    digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def cached(
    document: dict[str, Any],
    origin: tuple[str, ...],
    expected_name: str | None,
    build: Callable[[], FactorSet],
) -> FactorSet:
    """The set ``build()`` makes of this document (read from ``origin``: its file and the
    sets it extends), from the cache when it holds it."""
    where = cache_dir()
    if where is None:
        return build()
    entry = where / "factor-sets" / f"{_key(document, origin, expected_name)}.pickle"
    try:
        found = pickle.loads(entry.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
        found = None
    if isinstance(found, FactorSet):
        return found
    factor_set = build()
    _store(entry, factor_set)
    return factor_set


def _store(entry: Path, factor_set: FactorSet) -> None:
    """Write an entry whole (a temporary file renamed into place); a cache that cannot be
    written (a read-only home, a full disk) is simply not used."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=entry.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(factor_set, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(name, entry)
        finally:
            Path(name).unlink(missing_ok=True)
    except (OSError, TypeError, pickle.PicklingError):
        return
