"""A cached factor set is the set its files give, and a command that finds it cached
never imports pint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from carbonfoot.factors.loader import load_factor_set
from carbonfoot.plugins import Catalog

FACTORS = Path(__file__).resolve().parents[2] / "factors"


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "factor-sets").glob("*.pickle"))


def test_a_set_read_from_the_cache_equals_the_set_read_from_its_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONFOOT_CACHE_DIR", str(tmp_path))
    source = next(FACTORS.glob("*.toml"))
    first = load_factor_set(source)
    assert len(entries(tmp_path)) == 1
    again = load_factor_set(source)
    assert again == first
    assert again.content_hash == first.content_hash
    monkeypatch.setenv("CARBONFOOT_CACHE_DIR", "off")
    assert load_factor_set(source) == first


def test_a_changed_file_is_read_again_never_served_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONFOOT_CACHE_DIR", str(tmp_path / "cache"))
    overrides = tmp_path / "mine.toml"
    text = (
        '[set]\nname = "mine"\nextends = "uk-desnz-2025"\n\n'
        '[sources.survey]\npublisher = "A district"\ntitle = "Bus survey"\nyear = 2025\n\n'
        '[factors.bus]\nvalue = "{value} g/km"\nsource = "survey"\nlocator = "table 1"\n'
    )
    sets = []
    for value in (90, 95):
        overrides.write_text(text.format(value=value), encoding="utf-8")
        sets.append(Catalog.from_entry_points().factor_set(str(overrides)))
    assert sets[0].content_hash != sets[1].content_hash
    assert len(entries(tmp_path / "cache")) == 2  # one per version (the parent is merged in)


def test_a_broken_entry_is_ignored_and_rewritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONFOOT_CACHE_DIR", str(tmp_path))
    source = next(FACTORS.glob("*.toml"))
    first = load_factor_set(source)
    (entry,) = entries(tmp_path)
    entry.write_bytes(b"not a pickle")
    assert load_factor_set(source) == first
    assert entry.read_bytes() != b"not a pickle"


def test_explain_with_a_warm_cache_does_not_import_pint(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from carbonfoot.cli import main\n"
        "sys.argv = ['carbonfoot', 'explain', '--mode', 'metro', '--distance', '5 km']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print('pint' in sys.modules)\n"
    )
    env = {**os.environ, "CARBONFOOT_CACHE_DIR": str(tmp_path)}
    cold = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert cold.returncode == 0, cold.stderr
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert warm.returncode == 0, warm.stderr
    assert warm.stdout.strip().splitlines()[-1] == "False"
