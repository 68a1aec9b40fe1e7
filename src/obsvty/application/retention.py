"""Use case: keep the store within its age and size limits, oldest data first.

A background thread deletes everything older than ``max_age`` every ``interval`` seconds and,
every :data:`SIZE_CHECK_SECONDS` at most, checks the size limit: while the store uses more than
``max_bytes``, it deletes from each table the share of items stored first that brings the store
down to :data:`SIZE_LOW_WATER` of the limit. By order of storage, not by time: under a size limit
the store is a ring buffer, and spans that start long before they arrive would otherwise scatter
the deletes over the whole store, which then frees little and costs a rewrite of most of it.
Deletes run in chunks of about ``chunk_rows`` items (the store may round a chunk to how it keeps
items together), each its own short transaction, resting after each as long as it took, so that
ingestion never waits long nor loses more than half a core; space is reclaimed after each step.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from obsvty.ports.health import ComponentHealth
from obsvty.ports.retention import RetentionStorePort

log = logging.getLogger(__name__)

_NS = 1_000_000_000
_MAX_SIZE_STEPS = 10

SIZE_CHECK_SECONDS = 5.0
"""Longest time between two checks of the size limit (each costs one small query): between
two checks the store grows by what arrives meanwhile."""

SIZE_LOW_WATER = 0.9
"""Share of the size limit a size step brings the store down to, so that the next step is
some time away rather than at the next check."""

DELETE_DUTY = 0.5
"""Share of a run of chunked deletes spent deleting: after each chunk it rests as long as the
chunk took. Deletes take CPU that the receivers and the flusher need, whose buffer holds only
seconds of arrivals; a pass that deletes millions of rows at once would otherwise take most of
a core for seconds."""

_RECLAIM_TRIES = 40
_RECLAIM_WAIT = 0.05
"""A reclaim that finds a write under way is tried again this often, this many seconds apart
(the flusher's transactions take milliseconds)."""


@dataclass(slots=True)
class RetentionStatus:
    runs: int = 0
    last_run_unix: float | None = None
    last_duration_seconds: float | None = None
    last_error: str | None = None
    used_bytes: int | None = None
    deleted: dict[str, int] = field(default_factory=dict)
    """Rows deleted since start, by table."""


class RetentionService:
    name = "retention"

    def __init__(
        self,
        store: RetentionStorePort,
        *,
        max_age_seconds: float | None,
        max_bytes: int | None,
        interval: float = 60.0,
        chunk_rows: int = 50_000,
        pause: float = 0.01,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.max_age_seconds = max_age_seconds
        self.max_bytes = max_bytes
        self._interval = interval
        self._chunk_rows = chunk_rows
        self._pause = pause
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._reclaim_seconds = 0.0
        self.status = RetentionStatus(deleted=dict.fromkeys(store.tables, 0))

    @property
    def enabled(self) -> bool:
        return self.max_age_seconds is not None or self.max_bytes is not None

    def start(self) -> None:
        if not self.enabled:
            return
        self._thread = threading.Thread(target=self._run, name="obsvty-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        wake = self._interval
        if self.max_bytes is not None:
            wake = min(wake, SIZE_CHECK_SECONDS)
        next_age = time.monotonic()
        while not self._stopping.is_set():
            age = time.monotonic() >= next_age
            if age:
                next_age = time.monotonic() + self._interval
            try:
                self.run_once(age=age)
            except Exception as exc:  # keep the thread alive; the status shows the error
                log.warning("retention pass failed: %s", exc)
            self._stopping.wait(wake)

    def run_once(self, *, age: bool = True) -> dict[str, int]:
        """One pass: age limit (unless ``age`` is false), then size limit. Returns rows deleted,
        by table."""
        started = time.monotonic()
        self._reclaim_seconds = 0.0
        deleted = dict.fromkeys(self._store.tables, 0)
        error = None
        try:
            if age and self.max_age_seconds is not None:
                cutoff = int((self._clock() - self.max_age_seconds) * _NS)
                for table in self._store.tables:
                    deleted[table] += self._delete_before(table, cutoff)
                if any(deleted.values()):
                    self._reclaim()
            if self.max_bytes is not None:
                self._enforce_size(self.max_bytes, deleted)
            used = self._store.used_bytes()
        except Exception as exc:
            error = str(exc)
            raise
        finally:
            with self._lock:
                s = self.status
                s.runs += 1
                s.last_run_unix = self._clock()
                s.last_duration_seconds = round(time.monotonic() - started, 3)
                s.last_error = error
                for table, n in deleted.items():
                    s.deleted[table] = s.deleted.get(table, 0) + n
        with self._lock:
            self.status.used_bytes = used
        if any(deleted.values()):
            log.info(
                "retention deleted %s in %.2f s (reclaiming space %.2f s)",
                ", ".join(f"{n} {t}" for t, n in deleted.items()),
                time.monotonic() - started,
                self._reclaim_seconds,
            )
        return deleted

    def _delete_before(self, table: str, cutoff: int) -> int:
        return self._in_chunks(lambda limit: self._store.delete_before(table, cutoff, limit))

    def _delete_stored(self, table: str, bound: int) -> int:
        return self._in_chunks(lambda limit: self._store.delete_stored_through(table, bound, limit))

    def _in_chunks(self, delete: Callable[[int], int]) -> int:
        """Call ``delete`` (about ``chunk_rows`` items each) until it finds none to delete,
        resting between chunks (see :data:`DELETE_DUTY`)."""
        total = 0
        while not self._stopping.is_set():
            started = time.monotonic()
            n = delete(self._chunk_rows)
            if n == 0:
                break
            total += n
            took = time.monotonic() - started
            self._stopping.wait(max(self._pause, took * (1 - DELETE_DUTY) / DELETE_DUTY))
        return total

    def _reclaim(self) -> bool:
        started = time.monotonic()
        try:
            for _ in range(_RECLAIM_TRIES):
                if self._store.reclaim():
                    return True
                if self._stopping.wait(_RECLAIM_WAIT):
                    break
            return False
        finally:
            self._reclaim_seconds += time.monotonic() - started

    def _enforce_size(self, max_bytes: int, deleted: dict[str, int]) -> None:
        previous = None
        for _ in range(_MAX_SIZE_STEPS):
            used = self._store.used_bytes()
            if used <= max_bytes or self._stopping.is_set():
                return
            if previous is not None and used >= previous:
                # deletes freed nothing (DuckDB gives space back by whole row groups, and only
                # when a checkpoint can run): stop rather than delete everything; next pass retries
                log.warning(
                    "store uses %d bytes, over OBSVTY_MAX_DB_SIZE=%d, and deleting the oldest "
                    "data freed no space this pass",
                    used,
                    max_bytes,
                )
                return
            previous = used
            # the bytes an item takes are about the same throughout a table: delete the share of
            # items that holds the excess down to the low-water mark; the next step corrects it
            share = (used - max_bytes * SIZE_LOW_WATER) / used
            for table in self._store.tables:
                bound = self._store.stored_bound(table, share)
                if bound is not None:
                    deleted[table] += self._delete_stored(table, bound)
            self._reclaim()

    def snapshot(self) -> dict[str, object]:
        """The retention settings and what it has done, for ``/stats`` and ``/readyz``."""
        with self._lock:
            s = self.status
            return {
                "enabled": self.enabled,
                "max_age_seconds": self.max_age_seconds,
                "max_bytes": self.max_bytes,
                "used_bytes": s.used_bytes,
                "runs": s.runs,
                "last_run_unix": s.last_run_unix,
                "last_duration_seconds": s.last_duration_seconds,
                "last_error": s.last_error,
                "deleted_rows": dict(s.deleted),
            }

    def deleted_totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self.status.deleted)

    def health(self) -> ComponentHealth:
        """Retention never makes obsvty unready; a failing pass is reported as the reason."""
        snap = self.snapshot()
        error = snap["last_error"]
        return ComponentHealth(
            self.name,
            reason=f"last retention pass failed: {error}" if error else "",
            details={k: v for k, v in snap.items() if k != "last_error"},
        )
