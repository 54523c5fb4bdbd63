"""The built wheel carries the plugins and factor sets and works outside the repository."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_wheel_installs_and_runs_outside_the_repo(tmp_path: Path) -> None:
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "-w",
        tmp_path / "dist",
        REPO,
    )
    wheel = next((tmp_path / "dist").glob("carbonfoot-*.whl"))
    listing = run(sys.executable, "-m", "zipfile", "-l", wheel)
    assert "carbonfoot_builtins/factors/uk-desnz-2025.toml" in listing
    assert "carbonfoot_builtins/active_modes.py" in listing
    assert "carbonfoot/units.txt" in listing
    assert "carbonfoot/demo/trips.csv" in listing
    assert "carbonfoot/py.typed" in listing

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    # Dependencies come from this environment's site-packages (a path, so its .pth files,
    # including the editable install of carbonfoot, are not processed); carbonfoot itself
    # comes only from the wheel.
    new_site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    (new_site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run(python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(
        python,
        "-c",
        "import carbonfoot, carbonfoot_builtins; print(carbonfoot.__file__); print(carbonfoot_builtins.__file__)",
        cwd=elsewhere,
    )
    assert str(REPO) not in where
    assert all(line.startswith(str(new_site)) for line in where.split())
    output = run(venv / "bin" / "carbonfoot", "demo", cwd=elsewhere)
    assert "carbonfoot: 3,001 trips" in output
    assert "uk-desnz-2025" in run(venv / "bin" / "carbonfoot", "factors", "--check", cwd=elsewhere)
