"""Python's garbage collector and the C heap, tuned for ingest.

The ingest path allocates a dict and a few lists per span and frees them by reference counting:
almost nothing it makes is cyclic. With CPython's default thresholds (700) the collector runs
about a hundred times a second under load, and each full collection walks every object the
process holds (measured: ~70 ms pauses, ~10% of the event loop's CPU, at 17k spans/s). So what
is alive after start-up (modules, the wired application) is frozen out of collection, and young
collections run less often; cycles are still collected.

At exit the frozen objects are unfrozen: frozen cycles are never freed, and DuckDB's bindings
(nanobind) then report each of their objects still alive, ~44 lines of "nanobind: leaked ...".

glibc's malloc gives memory back to the system only from the top of its heap: the request
buffers and decoded columns freed after each flush leave free pages inside the heap that stay
resident. A thread calls ``malloc_trim(0)`` every :data:`HEAP_TRIM_INTERVAL_S` to return them.
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import sys
import threading
import time
from collections.abc import Callable

GC_THRESHOLDS = (10_000, 20, 100)
HEAP_TRIM_INTERVAL_S = 10.0

_trimmer: list[threading.Thread] = []  # the process's heap trimmer, once started
_trimmer_lock = threading.Lock()


def tune_gc() -> None:
    """Freeze what is alive now out of collection and raise the thresholds (until exit); start
    the heap trimmer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    atexit.unregister(gc.unfreeze)  # once, however often this is called
    atexit.register(gc.unfreeze)
    start_heap_trim()


def malloc_trim() -> Callable[[], int] | None:
    """glibc's ``malloc_trim(0)`` (free heap pages back to the system, the GIL released while it
    runs), or ``None`` where the C library has none (not Linux, musl)."""
    if not sys.platform.startswith("linux"):  # pragma: no cover - Linux only
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - a C library without it
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def call() -> int:
        return int(trim(0))

    return call


def start_heap_trim(interval: float = HEAP_TRIM_INTERVAL_S) -> threading.Thread | None:
    """Start, once per process, a daemon thread that trims the C heap every ``interval``
    seconds; the thread (``None`` where trimming is not available)."""
    with _trimmer_lock:
        if _trimmer:
            return _trimmer[0]
        trim = malloc_trim()
        if trim is None:  # pragma: no cover - not glibc
            return None

        def run() -> None:  # a daemon: ends with the process
            while True:
                time.sleep(interval)
                trim()

        thread = threading.Thread(target=run, name="obsvty-heap-trim", daemon=True)
        thread.start()
        _trimmer.append(thread)
        return thread
