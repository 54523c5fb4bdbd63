"""A Dask client for the command line: a local cluster of N workers, or an existing one."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster

from carbonfoot.errors import InputError

__all__ = ["cluster_client"]

#: Seconds to wait for an existing scheduler to answer.
CONNECT_TIMEOUT_S = 20


@contextmanager
def cluster_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A client of a new local cluster of ``workers`` processes, or of ``scheduler``.

    Local workers are processes with one thread each: the engine's work is numpy and
    pyarrow calls between Python steps, so processes, not threads, run it in parallel.
    The cluster is closed when the block ends; an existing cluster is left running.
    """
    if (workers is None) == (scheduler is None):
        raise InputError("give either --workers N or --scheduler ADDRESS")
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        with client:
            yield client
        return
    assert workers is not None
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            # The scheduler's HTTP server (health, metrics) on a free port, not 8787.
            scheduler_kwargs={"dashboard_address": ":0"},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
