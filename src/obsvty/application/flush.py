"""Use case: drain the buffer into the store in batches, in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort
from obsvty.ports.store import StoreError, TelemetryStorePort

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05


@dataclass(slots=True)
class FlushStats:
    flushed_items: int = 0
    flushes: int = 0
    failures: int = 0
    last_flush_monotonic: float | None = None
    last_error: str | None = None


class Flusher:
    """Writes what the buffer holds to the store, once ``batch_size`` items are waiting or every
    ``interval`` seconds. A failed write is retried with exponential backoff, keeping the batch,
    so that nothing taken from the buffer is lost while the store recovers."""

    def __init__(
        self,
        buffer: BufferPort,
        store: TelemetryStorePort,
        *,
        batch_size: int,
        interval: float,
        max_backoff: float = 5.0,
        shutdown_attempts: int = 3,
    ) -> None:
        self._buffer = buffer
        self._store = store
        self._batch_size = batch_size
        self._interval = interval
        self._max_backoff = max_backoff
        self._shutdown_attempts = shutdown_attempts
        self._stopping = threading.Event()
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
        batches = self._buffer.take(self._batch_size, timeout=0)
        if not batches:
            return 0
        self._write_until_stored(batches)
        return sum(len(b) for b in batches)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wait_for_work()
            self.flush_once()
        while self.flush_once():
            pass

    def _wait_for_work(self) -> None:
        deadline = time.monotonic() + self._interval
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._buffer.wait_until_size(self._batch_size, min(remaining, _POLL_SECONDS)):
                return

    def _write_until_stored(self, batches: list[Batch]) -> None:
        backoff = 0.1
        attempts = 0
        while True:
            started = time.monotonic()
            try:
                self._store.write(batches)
            except StoreError as exc:
                attempts += 1
                self.stats.failures += 1
                self.stats.last_error = str(exc)
                if self._stopping.is_set() and attempts >= self._shutdown_attempts:
                    lost = sum(len(b) for b in batches)
                    log.error("store still failing at shutdown; %d items not stored: %s", lost, exc)
                    return
                log.warning(
                    "store write failed (attempt %d), retrying in %.1fs: %s", attempts, backoff, exc
                )
                time.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            self.stats.flushes += 1
            self.stats.flushed_items += sum(len(b) for b in batches)
            self.stats.last_flush_monotonic = time.monotonic()
            self.stats.last_error = None
            log.debug(
                "flushed %d batches in %.1f ms", len(batches), (time.monotonic() - started) * 1000
            )
            return
