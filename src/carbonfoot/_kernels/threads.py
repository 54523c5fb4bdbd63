"""Work a large batch can do on the machine's other cores while the main thread goes on.

Hashing a column of ten million text ids (are the trip ids unique? which integer is each
user?) takes seconds and needs nothing but that column; numpy and pyarrow release the GIL
while they do it. On a large batch such a step starts on a background thread as soon as
its column is ready and is collected where its answer is needed; on a small batch it runs
lazily on the calling thread, where a thread would cost more than it saves. Either way
the answer is the same, and an error is raised where the answer is collected.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["BACKGROUND_FROM_ROWS", "Deferred"]

T = TypeVar("T")

#: Batches of at least this many rows start their deferred steps on a background thread.
BACKGROUND_FROM_ROWS = 250_000

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """In a forked child the parent's worker threads do not exist: start a pool afresh."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            workers = max(1, min(2, (os.cpu_count() or 1) - 1))
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="carbonfoot")
        return _pool


class Deferred(Generic[T]):
    """The result of ``function``: computed in the background for ``rows`` large enough,
    else on first use (and only if used)."""

    def __init__(self, function: Callable[[], T], rows: int) -> None:
        self._function: Callable[[], T] | None = function
        self._future: Future[T] | None = None
        self._value: T | None = None
        self._lock = threading.Lock()
        if rows >= BACKGROUND_FROM_ROWS and (os.cpu_count() or 1) > 1:
            self._future = _executor().submit(function)
            self._function = None

    def __call__(self) -> T:
        if self._future is not None:
            return self._future.result()
        with self._lock:
            if self._function is not None:
                self._value = self._function()
                self._function = None
        return self._value  # type: ignore[return-value]
