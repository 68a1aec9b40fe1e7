"""Use case: drain the buffer into the store in batches, in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from obsvty.application.commit_watermark import CommitWatermark
from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort, TakenBatches
from obsvty.ports.store import StoreError, TelemetryStorePort

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
_PIPELINE_POLL_SECONDS = 0.002
"""While a write is in flight: how often to look for a full next batch or the write's end."""


@dataclass(slots=True)
class FlushStats:
    """What the flusher has done; read by health, readiness and metrics."""

    flushed_items: int = 0
    flushes: int = 0
    failures: int = 0
    """Failed store writes since start (each retry that fails counts)."""
    consecutive_failures: int = 0
    """Failed writes since the last successful one: > 0 while the store is failing."""
    failing_since_monotonic: float | None = None
    """When the current run of failures began; ``None`` while the store is healthy."""
    last_flush_monotonic: float | None = None
    last_error: str | None = None
    lost_items: int = 0
    """Items given up on because the store still failed at shutdown."""

    @property
    def store_failing(self) -> bool:
        return self.consecutive_failures > 0


class Flusher:
    """Writes what the buffer holds to the store, once ``batch_size`` items are waiting or every
    ``interval`` seconds (``eager``: as soon as anything is waiting, which groups the requests
    that arrive during one write into the next commit; then, with ``gather``, up to that many
    seconds more for a full batch, so that requests arriving together share one commit). A failed
    write is retried with exponential backoff, keeping the batch, so that nothing taken from the
    buffer is lost while the store recovers; meanwhile the buffer fills up and then applies its
    overflow policy.

    After each commit the flusher publishes the buffer sequence it completes to ``watermark``.
    Writes are serialised (one take-and-write at a time), so the watermark only moves forward over
    committed data, even when :meth:`flush_once` is called from another thread.

    ``writes_in_flight`` > 1 pipelines the writes, for a store that commits in another process:
    while one write commits, the next full batch is already handed to the store (which then
    prepares it, e.g. sends it over, in parallel). Writes still complete in the order they were
    taken: the watermark and the statistics move in that order, and a write that failed is
    retried (with backoff) before any later one counts as done.
    """

    def __init__(
        self,
        buffer: BufferPort,
        store: TelemetryStorePort,
        *,
        batch_size: int,
        interval: float,
        max_backoff: float = 5.0,
        shutdown_attempts: int = 3,
        watermark: CommitWatermark | None = None,
        eager: bool = False,
        gather: float = 0.0,
        writes_in_flight: int = 1,
    ) -> None:
        self._buffer = buffer
        self._store = store
        self._batch_size = batch_size
        self._interval = interval
        self._max_backoff = max_backoff
        self._shutdown_attempts = shutdown_attempts
        self._watermark = watermark
        self._eager = eager
        self._gather = gather
        self._writes_in_flight = writes_in_flight
        self._gave_up = False
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.stats = FlushStats()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="obsvty-flusher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after writing everything the buffer holds."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def flush_once(self) -> int:
        """Write one batch now, if there is anything; returns the items written."""
        with self._write_lock:
            taken = self._buffer.take_tracked(self._batch_size, timeout=0)
            if not taken.batches:
                return 0
            if not self._write_until_stored(taken.batches):
                return 0
            if self._watermark is not None:
                self._watermark.publish(taken.completes_through)
            return taken.items

    def _run(self) -> None:
        if self._writes_in_flight > 1:
            self._run_pipelined()
        while not self._stopping.is_set():
            self._wait_for_work()
            self.flush_once()
        while self.flush_once():
            pass

    def _run_pipelined(self) -> None:
        """Until stopped: keep up to ``writes_in_flight`` writes going, completing them in order.
        Holds the write lock while anything is in flight (so :meth:`flush_once` from another
        thread cannot publish past a write that is not committed yet)."""
        in_flight: deque[tuple[TakenBatches, float, Future[None]]] = deque()
        with ThreadPoolExecutor(
            self._writes_in_flight, thread_name_prefix="obsvty-store-write"
        ) as writers:

            def submit() -> bool:
                taken = self._buffer.take_tracked(self._batch_size, timeout=0)
                if not taken.batches:
                    return False
                started = time.monotonic()
                in_flight.append((taken, started, writers.submit(self._store.write, taken.batches)))
                return True

            try:
                while not self._stopping.is_set() or in_flight:
                    if not in_flight:
                        self._wait_for_work()
                        if self._stopping.is_set():
                            break  # the synchronous drain takes over
                        self._write_lock.acquire()
                        if not submit():
                            self._write_lock.release()
                        continue
                    if (
                        len(in_flight) < self._writes_in_flight
                        and not self._stopping.is_set()
                        and self._buffer.wait_until_size(self._batch_size, _PIPELINE_POLL_SECONDS)
                        and submit()
                    ):
                        continue
                    if self._complete_oldest(in_flight) and not in_flight:
                        self._write_lock.release()
            finally:
                if in_flight:  # pragma: no cover - only when a write raised a non-store error
                    self._write_lock.release()

    def _complete_oldest(self, in_flight: deque[tuple[TakenBatches, float, Future[None]]]) -> bool:
        """Wait briefly for the oldest write; once it is done (or retried until stored), publish
        it and return ``True``."""
        taken, started, future = in_flight[0]
        try:
            future.result(timeout=_PIPELINE_POLL_SECONDS)
        except TimeoutError:
            return False
        except StoreError as exc:
            self._note_failure(exc, started)
            log.warning("store write failed, retrying: %s", exc)
            time.sleep(0.1)
            stored = self._write_until_stored(taken.batches)
        else:
            self._note_success(taken.batches, started)
            stored = True
        in_flight.popleft()
        # after a write given up on (at shutdown), no later one may move the watermark past it
        self._gave_up = self._gave_up or not stored
        if not self._gave_up and self._watermark is not None:
            self._watermark.publish(taken.completes_through)
        return True

    def _wait_for_work(self) -> None:
        threshold = 1 if self._eager else self._batch_size
        deadline = time.monotonic() + self._interval
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._buffer.wait_until_size(threshold, min(remaining, _POLL_SECONDS)):
                if self._gather > 0:  # (a no-op unless eager: then fewer than a batch wait)
                    self._buffer.wait_until_size(self._batch_size, self._gather)
                return

    def _write_until_stored(self, batches: list[Batch]) -> bool:
        """Write until the store commits (``True``), or give up at shutdown (``False``)."""
        backoff = 0.1
        attempts = 0
        while True:
            started = time.monotonic()
            try:
                self._store.write(batches)
            except StoreError as exc:
                attempts += 1
                self._note_failure(exc, started)
                if self._stopping.is_set() and attempts >= self._shutdown_attempts:
                    lost = sum(len(b) for b in batches)
                    self.stats.lost_items += lost
                    log.error("store still failing at shutdown; %d items not stored: %s", lost, exc)
                    return False
                log.warning(
                    "store write failed (attempt %d), retrying in %.1fs: %s", attempts, backoff, exc
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self._note_success(batches, started)
            return True

    def _note_failure(self, exc: StoreError, started: float) -> None:
        stats = self.stats
        stats.failures += 1
        stats.consecutive_failures += 1
        if stats.failing_since_monotonic is None:
            stats.failing_since_monotonic = started
        stats.last_error = str(exc)

    def _note_success(self, batches: list[Batch], started: float) -> None:
        stats = self.stats
        if stats.consecutive_failures:
            log.warning("store recovered after %d failed writes", stats.consecutive_failures)
        stats.flushes += 1
        stats.flushed_items += sum(len(b) for b in batches)
        stats.last_flush_monotonic = time.monotonic()
        stats.consecutive_failures = 0
        stats.failing_since_monotonic = None
        stats.last_error = None
        log.debug(
            "flushed %d batches in %.1f ms", len(batches), (time.monotonic() - started) * 1000
        )
