"""The command line starts without pandas, and pandas objects still convert afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CARBONFOOT = str(Path(sys.executable).with_name("carbonfoot"))


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_calc_of_a_small_file_imports_neither_pandas_nor_dask(tmp_path: Path) -> None:
    trips = tmp_path / "trips.csv"
    trips.write_text(
        "trip_id,user_id,mode,distance,started_at\nt1,u1,metro,3,2024-05-01T08:00:00+08:00\n",
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from carbonfoot.cli import main\n"
        f"sys.argv = ['carbonfoot', 'calc', {str(trips)!r}, '-o', {str(tmp_path / 'o.csv')!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted({'pandas', 'dask', 'matplotlib', 'scipy'} & set(sys.modules))\n"
        "print(heavy)\n"
    )
    assert run(code).splitlines()[-1] == "[]"


def test_after_deferring_pandas_objects_still_convert_once_engaged() -> None:
    code = (
        "import pyarrow as pa\n"
        "from carbonfoot._kernels.deferred_pandas import defer_pandas, engage_pandas\n"
        "defer_pandas()\n"
        "assert pa.table({'a': [1]}).to_pandas()['a'].tolist() == [1]\n"
        "import pandas as pd\n"
        "engage_pandas()\n"
        "series = pd.Series([1, None], dtype='Int64')\n"
        "print(pa.array(series).to_pylist())\n"
    )
    assert run(code) == "[1, None]"


def test_importing_carbonfoot_dask_engages_pandas() -> None:
    code = (
        "import pyarrow as pa\n"
        "from carbonfoot._kernels.deferred_pandas import defer_pandas\n"
        "defer_pandas()\n"
        "import carbonfoot.dask\n"
        "import pandas as pd\n"
        "print(pa.array(pd.Series([1, None], dtype='Int64')).to_pylist())\n"
    )
    assert run(code) == "[1, None]"
