"""Python's garbage collector, tuned for ingest (used by obsvty's process and its DuckDB process).

The ingest path allocates a dict and a few lists per span and frees them by reference counting:
almost nothing it makes is cyclic. With CPython's default thresholds (700) the collector runs
about a hundred times a second under load, and each full collection walks every object the
process holds (measured: ~70 ms pauses, ~10% of the event loop's CPU, at 17k spans/s). So what
is alive after start-up (modules, the wired application) is frozen out of collection, and young
collections run less often; cycles are still collected. In the DuckDB process, which unpickles
and converts the same batches: 58-61 vs 61-64 µs of CPU per span (gRPC, 16 in flight).

At exit the frozen objects are unfrozen: frozen cycles are never freed, and DuckDB's bindings
(nanobind) then report each of their objects still alive, ~44 lines of "nanobind: leaked ...".
"""

from __future__ import annotations

import atexit
import gc

GC_THRESHOLDS = (10_000, 20, 100)


def tune_gc() -> None:
    """Freeze what is alive now out of collection and raise the thresholds (until exit)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    atexit.unregister(gc.unfreeze)  # once, however often this is called
    atexit.register(gc.unfreeze)
