"""Use case: replicate the local store to a cloud MongoDB, in the background, never on the
request path.

A dedicated thread reads records after a durable cursor in the local store, sends them to the
cloud, and only then saves the cursor: a restart resumes where it stopped, and a record sent
again after a crash is stored once (the cloud keys records by a deterministic ``_id``). The
thread uses the blocking pymongo and DuckDB APIs: both are blocking, and keeping the BSON and
JSON work off the receivers' event loop is the point.

* Cloud unreachable or slow: the round fails with :class:`TargetUnavailableError`; the sync waits
  with exponential backoff and full jitter, and after ``failure_threshold`` consecutive failures
  the circuit breaker opens (no attempts) for ``reset_timeout`` seconds, then lets one half-open
  trial through. Ingestion and local queries never wait for any of it.
* A record the cloud refuses for good (too large, invalid) goes to the dead-letter store with its
  error and attempts; the cursor moves past it, so it never blocks the rest.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from obsvty.ports.health import ComponentHealth
from obsvty.ports.sync import (
    DeadLetter,
    Refusal,
    SyncSourcePort,
    SyncTargetPort,
    TargetUnavailableError,
)

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed: calls go through. ``failure_threshold`` consecutive failures open it: no calls for
    ``reset_timeout`` seconds. Then half-open: one trial; success closes it, failure re-opens."""

    def __init__(
        self,
        failure_threshold: int,
        reset_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self.opened_count = 0

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self.reset_timeout:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def remaining_open(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when it is not open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self.reset_timeout - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        return self.state is not BreakerState.OPEN

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None

    def record_failure(self) -> None:
        self._failures += 1
        if self.state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self._opened_at = self._clock()
            self.opened_count += 1


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return (rng or random).uniform(0, ceiling)


@dataclass(frozen=True, slots=True)
class SyncStatus:
    breaker: BreakerState = BreakerState.CLOSED
    backlog: int = 0
    synced: int = 0
    dead_lettered: int = 0
    dead_letters: int = 0
    consecutive_failures: int = 0
    breaker_opened: int = 0
    last_error: str = ""
    last_success_unix: float | None = None


@dataclass(frozen=True, slots=True)
class RetryResult:
    resent: int
    still_failing: int


class SyncService:
    """The background replication of one local store to one cloud target."""

    name = "cloud_sync"

    def __init__(
        self,
        source: SyncSourcePort,
        target: SyncTargetPort,
        *,
        batch_size: int = 1000,
        interval: float = 1.0,
        base_backoff: float = 0.5,
        max_backoff: float = 60.0,
        breaker: CircuitBreaker | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._source = source
        self._target = target
        self._batch_size = batch_size
        self._interval = interval
        self._base_backoff = base_backoff
        self._max_backoff = max_backoff
        self.breaker = breaker or CircuitBreaker(5, 30.0)
        self._rng = rng or random.Random()  # noqa: S311 - jitter only
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one round at a time (the thread, or an admin retry)
        self._failures = 0
        self._status = SyncStatus()

    # --- lifecycle

    def start(self) -> None:
        self._refresh_status()
        self._thread = threading.Thread(target=self._run, name="obsvty-cloud-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._target.close()

    def wake(self) -> None:
        """Start the next round now (e.g. after new data was flushed, or in tests)."""
        self._wake.set()

    # --- one round

    def run_once(self) -> int:
        """Send one batch per collection; returns how many records moved past the cursor.
        Raises :class:`TargetUnavailableError` when the cloud cannot take them now."""
        moved = 0
        with self._lock:
            for collection in self._source.collections:
                pending = self._source.pending(collection, self._batch_size)
                if not pending.records:
                    continue
                refusals = self._target.send(collection, pending.records)
                if refusals:
                    log.warning(
                        "cloud refused %d %s records for good; dead-lettered: %s",
                        len(refusals),
                        collection,
                        refusals[0].error,
                    )
                    self._source.add_dead_letters(collection, refusals)
                self._source.save_cursor(collection, pending.cursor)
                moved += len(pending.records)
                self._status = replace(
                    self._status,
                    synced=self._status.synced + len(pending.records) - len(refusals),
                    dead_lettered=self._status.dead_lettered + len(refusals),
                )
        return moved

    def sync_until_idle(self, max_rounds: int = 1000) -> int:
        """Run rounds until nothing is pending (for shutdown and tests); returns records moved."""
        total = 0
        for _ in range(max_rounds):
            moved = self.run_once()
            total += moved
            if not moved:
                break
        self._refresh_status()
        return total

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self.breaker.allow():
                self._refresh_status()
                self._sleep(self.breaker.remaining_open())
                continue
            try:
                moved = self.run_once()
            except TargetUnavailableError as exc:
                self._on_failure(str(exc))
                self._sleep(
                    backoff_delay(
                        self._failures,
                        base=self._base_backoff,
                        cap=self._max_backoff,
                        rng=self._rng,
                    )
                )
                continue
            except Exception as exc:  # the local side failed; keep the thread alive
                log.exception("cloud sync round failed on the local store")
                self._on_failure(f"local store: {exc}")
                self._sleep(min(self._max_backoff, self._interval * 5))
                continue
            self._on_success()
            if not moved:
                self._sleep(self._interval)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(seconds)
        self._wake.clear()

    def _on_failure(self, error: str) -> None:
        self._failures += 1
        self.breaker.record_failure()
        log.warning(
            "cloud sync failed (%d in a row, breaker %s): %s",
            self._failures,
            self.breaker.state,
            error,
        )
        self._status = replace(self._status, last_error=error)
        self._refresh_status()

    def _on_success(self) -> None:
        self._failures = 0
        self.breaker.record_success()
        self._status = replace(self._status, last_error="", last_success_unix=time.time())
        self._refresh_status()

    def _refresh_status(self) -> None:
        try:
            backlog = self._source.backlog()
            dead = self._source.dead_letter_count()
        except Exception as exc:  # pragma: no cover - the status is best effort
            log.warning("cannot read the sync backlog: %s", exc)
            backlog, dead = self._status.backlog, self._status.dead_letters
        self._status = replace(
            self._status,
            breaker=self.breaker.state,
            backlog=backlog,
            dead_letters=dead,
            consecutive_failures=self._failures,
            breaker_opened=self.breaker.opened_count,
        )

    # --- dead letters (admin)

    def retry_dead_letters(self, ids: list[str] | None = None) -> RetryResult:
        """Send dead letters again; those the cloud now takes leave the queue. Raises
        :class:`TargetUnavailableError` when the cloud is unreachable (nothing changes)."""
        resent = failing = 0
        with self._lock:
            letters = [
                d
                for d in self._source.dead_letters(limit=self._source.dead_letter_count() or 1)
                if ids is None or d.id in ids
            ]
            by_collection: dict[str, list[Refusal]] = {}
            for letter in letters:
                refusals = self._target.send(letter.collection, [letter.record])
                if refusals:
                    by_collection.setdefault(letter.collection, []).extend(refusals)
                    failing += 1
                else:
                    self._source.remove_dead_letters([letter.id])
                    resent += 1
            for collection, refusals in by_collection.items():
                self._source.add_dead_letters(collection, refusals)
        self._refresh_status()
        return RetryResult(resent, failing)

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        """A page of the dead letters, oldest first."""
        return self._source.dead_letters(limit, offset)

    def purge_dead_letters(self, ids: list[str] | None = None) -> int:
        with self._lock:
            removed = self._source.remove_dead_letters(ids)
        self._refresh_status()
        return removed

    # --- health and metrics

    def status(self) -> SyncStatus:
        return self._status

    def health(self) -> ComponentHealth:
        """Always ready: a failing cloud never stops ingestion; the state is reported, not
        enforced."""
        s = self._status
        reason = "" if s.breaker is BreakerState.CLOSED else f"cloud sync breaker {s.breaker}"
        return ComponentHealth(
            name=self.name,
            live=True,
            ready=True,
            reason=reason,
            lag=float(s.backlog),
            dead_letters=s.dead_letters,
            details={
                "breaker": str(s.breaker),
                "synced": s.synced,
                "consecutive_failures": s.consecutive_failures,
                "breaker_opened": s.breaker_opened,
                "last_error": s.last_error,
                "last_success_unix": s.last_success_unix,
            },
        )
