"""Where grid work runs: an embedded LocalCluster sized to this machine, or an
existing cluster reached by its scheduler address."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

import dask
import psutil
from distributed import Client, LocalCluster

CONNECT_TIMEOUT_S = 10

# The grid owns retries (grid.job): a dead worker fails its task at once instead of Dask
# re-running it behind the grid's back.
GRID_DASK_CONFIG = {"distributed.scheduler.allowed-failures": 0}


class ClusterUnavailable(RuntimeError):
    """The scheduler cannot be reached or the cluster cannot start."""


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


@contextmanager
def connect(scheduler: str | None = None, workers: int | None = None,
            dashboard_address: str = ":8787") -> Iterator[Client]:
    """A Client on the cluster at `scheduler`, or on an embedded LocalCluster of
    `workers` single-threaded worker processes (one warm sandbox each)."""
    with dask.config.set(GRID_DASK_CONFIG):
        if scheduler:
            try:
                client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError) as exc:
                raise ClusterUnavailable(f"cannot reach the scheduler at {scheduler} "
                                         f"within {CONNECT_TIMEOUT_S} s ({exc})") from None
            with client:
                yield client
            return
        n = workers or default_workers()
        memory = max(2 << 30, psutil.virtual_memory().total // (2 * n))  # sandboxes live outside the worker
        with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory,
                          dashboard_address=dashboard_address, silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
            yield client
