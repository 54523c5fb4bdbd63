"""A district's plugin, written from the README alone, installed as a real distribution."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CARBONFOOT = str(Path(PYTHON).with_name("carbonfoot"))


def readme_example(name: str) -> str:
    """The code block the README marks with ``<!-- plugin-example: NAME -->``."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(
        rf"<!-- plugin-example: {re.escape(name)} -->\s*```\w*\n(.*?)```", readme, re.S
    )
    assert match, f"README has no plugin example {name}"
    return match.group(1)


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("plugin")
    source = root / "carbonfoot-waterbus"
    source.mkdir()
    (source / "pyproject.toml").write_text(readme_example("pyproject.toml"), encoding="utf-8")
    (source / "carbonfoot_waterbus.py").write_text(
        readme_example("carbonfoot_waterbus.py"), encoding="utf-8"
    )
    target = root / "site"
    subprocess.run(
        [
            PYTHON,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert list(target.glob("carbonfoot_waterbus-*.dist-info")), (
        "pip did not install the distribution"
    )
    return dict(
        os.environ,
        PYTHONPATH=str(target),
        CARBONFOOT_PLUGINS=os.environ["CARBONFOOT_PLUGINS"] + ",waterbus",
    )


def test_the_installed_plugin_adds_its_mode(installed_plugin: dict[str, str]) -> None:
    done = subprocess.run(
        [CARBONFOOT, "modes"], capture_output=True, text=True, env=installed_plugin, timeout=60
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("water-bus\t"))
    assert "水上巴士" in line
    assert "[waterbus]" in line


def test_the_installed_plugin_computes_through_calc(
    installed_plugin: dict[str, str], tmp_path: Path
) -> None:
    trips = tmp_path / "trips.csv"
    trips.write_text(
        "trip_id,user_id,mode,distance,started_at\n"
        "a,u1,水上巴士,4,2024-05-01T08:00:00+08:00\n"
        "b,u1,ferry,4,2024-05-01T09:00:00+08:00\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [CARBONFOOT, "calc", str(trips), "-o", str(out)],
        capture_output=True,
        text=True,
        env=installed_plugin,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    import pyarrow.csv as pa_csv

    rows = pa_csv.read_csv(out).to_pylist()
    assert [row["mode"] for row in rows] == ["water-bus", "ferry"]
    assert [row["status"] for row in rows] == ["ok", "ok"]
    assert rows[0]["emissions_g"] == rows[1]["emissions_g"]  # same factor, same distance


def test_a_broken_plugin_is_named_and_the_rest_still_works(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "carbonfoot_broken-0.1.dist-info").mkdir(parents=True)
    (site / "carbonfoot_broken-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: carbonfoot-broken\nVersion: 0.1\n", encoding="utf-8"
    )
    (site / "carbonfoot_broken-0.1.dist-info" / "entry_points.txt").write_text(
        "[carbonfoot]\nbroken = carbonfoot_broken\n", encoding="utf-8"
    )
    (site / "carbonfoot_broken.py").write_text(
        "raise ImportError('missing dependency xyz')\n", encoding="utf-8"
    )
    env = dict(
        os.environ,
        PYTHONPATH=str(site),
        CARBONFOOT_PLUGINS=os.environ["CARBONFOOT_PLUGINS"] + ",broken",
    )
    done = subprocess.run(
        [CARBONFOOT, "plugins"], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1  # listed, and the exit status says a plugin failed
    assert "FAILED" in done.stdout
    assert "'broken' (distribution carbonfoot-broken 0.1) failed to import" in done.stdout
    assert "missing dependency xyz" in done.stdout
    assert "active-modes" in done.stdout
