"""Built-in plugin: the factor sets shipped in carbonfoot's ``factors/`` folder.

In an installed wheel the TOML files live in ``carbonfoot_builtins/factors/``; in a
source checkout they are the repository's top-level ``factors/``, one level above
``plugins/``. Every ``*.toml`` there is registered under its file name.
"""

from pathlib import Path

from carbonfoot import hookimpl

DEFAULT_SET = "uk-desnz-2025"


def factor_directory() -> Path:
    """Where the shipped factor sets are, installed or in a checkout."""
    installed = Path(__file__).parent / "factors"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "factors"


@hookimpl
def register_factor_sets(register):  # type: ignore[no-untyped-def]
    for path in sorted(factor_directory().glob("*.toml")):
        register(path.stem, path, default=path.stem == DEFAULT_SET)
