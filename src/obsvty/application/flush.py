"""Use case: drain the buffer into the store in batches, in a background thread."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from obsvty.application.commit_watermark import CommitWatermark
from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort, TakenBatches
from obsvty.ports.store import StoreError, TelemetryStorePort
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

log = logging.getLogger(__name__)

_POLL_SECONDS = 0.05
"""While waiting for work: how often to look again whether the flusher is stopping."""


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
    """Items given up on because the store still failed at shutdown (and there was no store
    dead-letter place to park them)."""
    dead_letter_batches: int = 0
    """Batches parked as store dead letters since start."""
    dead_letter_items: int = 0

    @property
    def store_failing(self) -> bool:
        return self.consecutive_failures > 0


@dataclass(slots=True)
class _Suspect:
    """Part of a write the store refused, while the flusher isolates what it never takes."""

    batches: list[Batch]
    attempts: int
    """Failed writes that included it."""
    successes_at_failure: int
    """The flusher's count of successful writes when it last failed."""
    error: str
    fresh: bool = False
    """Not split yet: a whole write, or a probe (split once without evidence)."""
    proven: bool = False
    """It failed although the store took another write since its previous failure: it holds
    something the store never takes."""
    proofs: int = 0
    """Its proven failures (as this very part)."""


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

    With ``dead_letters``, a write that failed ``max_attempts`` times is *isolated* (see
    :meth:`_isolate`): what can never be stored is parked there, everything else is stored, and
    the flusher moves on. A part is only parked on evidence that the store is up (another write
    succeeded after the part last failed, and the part failed again): a store that is down, or
    refuses everything, is retried as before, however long it takes. At shutdown, what the
    store still refuses is parked too rather than lost.
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
        dead_letters: StoreDeadLetterPort | None = None,
        max_attempts: int = 4,
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
        self._dead_letters = dead_letters
        self._max_attempts = max_attempts
        self._successes = 0
        """Successful writes since start: the evidence that the store is up."""
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
            settled = self._write_until_stored(taken)
            if settled is None:
                return 0
            if self._watermark is not None:
                self._watermark.publish(settled.completes_through)
            return settled.items

    def write_now(self, batches: list[Batch]) -> None:
        """Write ``batches`` to the store at once, between flushes (a replay of store dead letters
        through the running server); raises :class:`StoreError`, nothing retried."""
        with self._write_lock:
            self._store.write(batches)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wait_for_work()
            self.flush_once()
        while self.flush_once():
            pass

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

    def _write_until_stored(
        self, taken: TakenBatches, *, first_error: StoreError | None = None
    ) -> TakenBatches | None:
        """Write until the store commits, retrying with backoff; with dead letters, isolate what
        still fails after ``max_attempts`` tries (``first_error``: the first try was made and
        failed so). Returns what is settled (stored or parked: ``taken``, and any probe taken from
        the buffer), ``None`` when given up at shutdown."""
        batches = taken.batches
        error = first_error if first_error is not None else self._write(batches)
        attempts = 1
        backoff = 0.1
        while error is not None:
            stopping = self._stopping.is_set() and attempts >= self._shutdown_attempts
            if self._dead_letters is not None and (attempts >= self._max_attempts or stopping):
                return self._isolate(taken, error, attempts)
            if stopping:
                suspect = _Suspect(batches, attempts, self._successes, str(error))
                return taken if self._give_up([suspect]) else None
            log.warning(
                "store write failed (attempt %d), retrying in %.1fs: %s", attempts, backoff, error
            )
            time.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
            error = self._write(batches)
            attempts += 1
        return taken

    def _isolate(
        self, taken: TakenBatches, error: StoreError, attempts: int
    ) -> TakenBatches | None:
        """Store what the store takes of ``taken`` (which failed ``attempts`` times, last with
        ``error``) and park what it never will, one batch (one request's items) per dead letter.

        Rounds of writes, each part once: the first round splits the whole in halves (as the first
        round after a probe splits the probe); later a part is split again only when it failed
        although another write succeeded since its previous failure (the store is up: the part holds
        poison), and a single batch is parked when it fails so twice. Without that evidence a part
        is retried whole, so a store that is down costs a few writes per backoff, never a bisection;
        a store that flaps between up and down could park a good batch, which ``obsvty dead-letters
        replay`` then stores. When a round makes no progress, it writes the buffer's next take (a
        probe) to find out whether the store takes anything: if not, that take is retried with the
        rest. Probes hold at most ``batch_size`` items more out of the buffer, so a store that is
        down cannot drain it; a store that refuses that many probed items in a row, and everything
        else, is taken for down. At shutdown what is still refused after ``shutdown_attempts`` such
        rounds is parked.
        Returns what is settled, ``None`` when given up at shutdown."""
        suspects = [_Suspect(taken.batches, attempts, self._successes, str(error), fresh=True)]
        settled = taken
        backoff = 0.1
        rounds = 0
        probed = 0
        while suspects:
            progress = False
            remaining: list[_Suspect] = []
            for suspect in suspects:
                if len(suspect.batches) > 1 and (suspect.fresh or suspect.proven):
                    half = len(suspect.batches) // 2
                    parts = [suspect.batches[:half], suspect.batches[half:]]
                else:
                    parts = [suspect.batches]
                for part in parts:
                    failure = self._write(part)
                    if failure is None:
                        progress = True
                        continue
                    # failed again although another write succeeded since it last failed (once
                    # proven, a part stays so: e.g. when parking it failed and it is tried again)
                    same = part is suspect.batches
                    proven = self._successes > suspect.successes_at_failure or (
                        same and suspect.proven
                    )
                    proofs = (suspect.proofs if same else 0) + proven
                    tried = _Suspect(
                        part,
                        suspect.attempts + 1,
                        self._successes,
                        str(failure),
                        proven=proven,
                        proofs=proofs,
                    )
                    # a single batch is parked at its second proven failure: one refusal while
                    # the store works could still be a passing conflict
                    if len(part) == 1 and proofs >= 2 and self._park(tried):
                        progress = True
                        continue
                    remaining.append(tried)
            suspects = remaining
            if not suspects or progress:
                continue
            rounds += 1
            if probed < self._batch_size:  # is it the store, or every part here?
                extra = self._buffer.take_tracked(self._batch_size - probed, timeout=0)
                if extra.batches:
                    probed += extra.items
                    settled = TakenBatches(
                        [*settled.batches, *extra.batches], extra.completes_through
                    )
                    failure = self._write(extra.batches)
                    if failure is None:
                        continue
                    suspects.append(
                        _Suspect(extra.batches, 1, self._successes, str(failure), fresh=True)
                    )
            if self._stopping.is_set() and rounds >= self._shutdown_attempts:
                return settled if self._give_up(suspects) else None
            log.warning(
                "store still refusing %d part(s) of a write, retrying in %.1fs: %s",
                len(suspects),
                backoff,
                suspects[0].error,
            )
            time.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)
        self._note_recovered()
        return settled

    def _note_recovered(self) -> None:
        """Everything of an isolated write is stored or parked: the store takes writes (a part
        is parked only once another write succeeded), so it no longer counts as failing, even
        when the last write of the isolation was a refused one."""
        stats = self.stats
        stats.consecutive_failures = 0
        stats.failing_since_monotonic = None
        stats.last_error = None

    def _park(self, suspect: _Suspect) -> bool:
        """Park a single refused batch as a store dead letter; ``False`` if that failed too (it
        is then kept and retried: never dropped)."""
        if self._dead_letters is None:
            return False
        batch = suspect.batches[0]
        try:
            letter = self._dead_letters.park(batch, suspect.error, suspect.attempts)
        except StoreDeadLetterError as exc:
            log.error("cannot park a batch the store refuses; keeping it: %s", exc)
            return False
        self.stats.dead_letter_batches += 1
        self.stats.dead_letter_items += letter.items
        log.error(
            "store refused a %s batch of %d items (%d failed writes); parked as store dead "
            "letter %s (see obsvty dead-letters list): %s",
            letter.signal.value,
            letter.items,
            letter.attempts,
            letter.id,
            letter.error,
        )
        return True

    def _give_up(self, suspects: list[_Suspect]) -> bool:
        """Shutdown with the store still failing: park every batch still refused (``True`` when
        all are), else count what is left as lost."""
        lost = 0
        for suspect in suspects:
            for batch in suspect.batches:
                if not self._park(
                    _Suspect([batch], suspect.attempts, suspect.successes_at_failure, suspect.error)
                ):
                    lost += len(batch)
        if lost:
            self.stats.lost_items += lost
            log.error(
                "store still failing at shutdown; %d items not stored: %s", lost, suspects[0].error
            )
        return not lost

    def _write(self, batches: list[Batch]) -> StoreError | None:
        """One write; the store's error when it failed."""
        started = time.monotonic()
        try:
            self._store.write(batches)
        except StoreError as exc:
            self._note_failure(exc, started)
            return exc
        self._successes += 1
        self._note_success(batches, started)
        return None

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
