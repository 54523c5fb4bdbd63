"""carbonfoot on Dask: savings and credits of a Dask DataFrame of trips, partition by partition.

The results are those of :meth:`carbonfoot.Engine.compute` on the whole batch, row for
row and in input order, with the same summary, however the trips are partitioned::

    import dask.dataframe as dd
    import carbonfoot
    import carbonfoot.dask

    engine = carbonfoot.Engine("cn-nanjing", policy_params={"daily_cap": 200})
    results = carbonfoot.dask.compute(dd.read_parquet("trips/"), engine)   # lazy
    results.table.to_parquet("results/")        # one row per trip, the input's partitions
    summary = results.summary.compute()         # carbonfoot.Summary, as one process gives it

A trip's numbers depend on the other trips of its user (daily caps, daily distance,
overlaps) and on whether its id appeared in an earlier row, so the work is: number the
rows, find repeated trip ids with a narrow shuffle by trip id, shuffle the rows by user,
compute each user bucket with the ordinary engine (the file's row numbers and repeated
ids given), and shuffle the results back into input order. See :mod:`.pipeline`.

Needs the ``dask`` extra: ``pip install 'carbonfoot[dask]'``.
"""

from __future__ import annotations

MISSING_DASK = (
    "carbonfoot on Dask needs dask[dataframe] and distributed: pip install 'carbonfoot[dask]'"
)

try:
    import dask.dataframe  # noqa: F401
    import distributed  # noqa: F401
except ImportError as _missing:  # pragma: no cover - exercised without the extra installed
    raise ImportError(MISSING_DASK) from _missing

from carbonfoot._kernels.deferred_pandas import engage_pandas  # noqa: E402
from carbonfoot.dask.cluster import cluster_client  # noqa: E402
from carbonfoot.dask.files import read_trip_file, write_results  # noqa: E402
from carbonfoot.dask.pipeline import DaskResults, compute  # noqa: E402

engage_pandas()  # Dask's partitions are pandas frames: pyarrow must know them as such

__all__ = [
    "MISSING_DASK",
    "DaskResults",
    "cluster_client",
    "compute",
    "read_trip_file",
    "write_results",
]
