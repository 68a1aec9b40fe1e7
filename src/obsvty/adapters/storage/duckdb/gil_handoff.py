"""A short GIL switch interval while a thread waits in DuckDB, so that it gets the GIL back fast.

DuckDB's Python client gives Python's GIL up while a statement runs, but takes it back between
execution steps (to check for Ctrl-C) and at the end. Each time, next to a busy Python thread
(obsvty's receivers' event loop), it waits until that thread is made to let go, which CPython
does only after ``sys.getswitchinterval()`` (5 ms by default). ``python -m bench.store_write
gil``: a 5,000-span write took 43.7 ms alone and 334.8 ms next to a spinning Python thread,
almost all of it waiting for the GIL (42.4 / 153.8 ms with this and the span table built without
Arrow compute functions).

While a DuckDB call is under way, this lowers the interval (:data:`HANDOFF_INTERVAL_S`), so each
of those waits is short; the thread in DuckDB holds the GIL only for a moment each time, so the
busy thread loses next to nothing. Outside DuckDB calls the interval is the default, so two busy
Python threads do not swap the GIL any more often than usual. The interval is process-wide: the
first thread in lowers it, the last one out restores it.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HANDOFF_INTERVAL_S = 0.0002
"""The switch interval while a DuckDB call is under way (an ad-hoc timing next to a spinning
thread, 5,000-span write: 230-280 ms at the default 5 ms, 100-109 ms at 0.2 ms or at 0.05 ms;
smaller gains nothing more)."""


class _SwitchInterval:
    """The process-wide interval and how many threads are inside a DuckDB call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0
        self._restore = sys.getswitchinterval()

    def enter(self) -> None:
        with self._lock:
            if self._inside == 0:
                self._restore = sys.getswitchinterval()
                sys.setswitchinterval(HANDOFF_INTERVAL_S)
            self._inside += 1

    def leave(self) -> None:
        with self._lock:
            self._inside -= 1
            if self._inside == 0:
                sys.setswitchinterval(self._restore)


_interval = _SwitchInterval()


@contextmanager
def short_switch_interval() -> Iterator[None]:
    """Run the body with the short switch interval (nesting and threads share one count)."""
    _interval.enter()
    try:
        yield
    finally:
        _interval.leave()
