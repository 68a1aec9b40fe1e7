"""Flusher with store dead letters: a batch the store refuses for good is isolated and parked
after a bounded number of tries, everything else is stored, the watermark moves past the poison
only once it is on disk, and a store that is down (or flaps back) parks nothing."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from obsvty.adapters.buffer.memory import MemoryBuffer
from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.flush import Flusher
from obsvty.domain.batches import Batch
from obsvty.ports.store import StoreError
from obsvty.ports.store_dead_letters import StoreDeadLetter, StoreDeadLetterError
from tests.support.reliability import (
    FailingStore,
    RecordingStore,
    span_batch,
    span_numbers,
    wait_until,
)

pytestmark = pytest.mark.unit

HOUR = 3600.0
PER_REQUEST = 5


class PoisonInjector(RecordingStore):
    """Fault injector at the storage boundary: refuses, every time, any write holding one of the
    ``poison`` span numbers (as a store refuses a value it can never take); keeps the rest."""

    def __init__(self, poison: set[int]) -> None:
        super().__init__()
        self.poison = poison
        self.attempts_with_poison = 0
        self.writes = 0

    def write(self, batches: Sequence[Batch]) -> None:
        self.writes += 1
        if self.poison & set(span_numbers(batches)):
            self.attempts_with_poison += 1
            raise StoreError("injected poison: a value the store cannot take")
        super().write(batches)


class FailingParks:
    """Fault injector at the dead-letter boundary: parking fails (a full disk) until healed."""

    def __init__(self, inner: DeadLetterFiles) -> None:
        self.inner = inner
        self.failing = threading.Event()
        self.failing.set()
        self.failed = 0

    def park(self, batch: Batch, error: str, attempts: int) -> StoreDeadLetter:
        if self.failing.is_set():
            self.failed += 1
            raise StoreDeadLetterError("injected fault: no space left on device")
        return self.inner.park(batch, error, attempts)

    def letters(self) -> list[StoreDeadLetter]:
        return self.inner.letters()

    def waiting(self) -> int:
        return self.inner.waiting()

    def claim(self, letter_id: str, *, force: bool = False) -> list[Batch]:
        return self.inner.claim(letter_id, force=force)

    def unclaim(self, letter_id: str) -> None:
        self.inner.unclaim(letter_id)

    def remove(self, letter_id: str) -> None:
        self.inner.remove(letter_id)


def _requests(buffer: MemoryBuffer, count: int, first: int = 0) -> list[int]:
    """``count`` requests of PER_REQUEST spans; their buffer sequences."""
    return [
        buffer.put(span_batch(first + i * PER_REQUEST, PER_REQUEST)).sequence for i in range(count)
    ]


def _flusher(
    buffer: MemoryBuffer,
    store: RecordingStore | FailingStore,
    letters: DeadLetterFiles | FailingParks,
    watermark: CommitWatermark,
    **options: object,
) -> Flusher:
    settings: dict[str, object] = {
        "batch_size": 1000,
        "interval": HOUR,
        "max_backoff": 0.01,
        "max_attempts": 3,
        **options,
    }
    return Flusher(
        buffer,
        store,
        watermark=watermark,
        dead_letters=letters,
        **settings,  # type: ignore[arg-type]
    )


def _parked_numbers(letters: DeadLetterFiles) -> list[int]:
    return sorted(n for letter in letters.letters() for n in span_numbers(letters.claim(letter.id)))


def test_flusher_poison_request_among_good_ones_is_parked_alone_and_the_rest_stored(
    tmp_path: Path,
) -> None:
    # Arrange: 16 requests in one flush, the 7th holds a span the store never takes
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    sequences = _requests(buffer, 16)
    poison = set(range(6 * PER_REQUEST, 7 * PER_REQUEST))
    store, letters = PoisonInjector({6 * PER_REQUEST + 2}), DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark)

    # Act
    written = flusher.flush_once()

    # Assert
    assert written == 16 * PER_REQUEST
    assert sorted(span_numbers(store.committed)) == sorted(set(range(80)) - poison)
    [letter] = letters.letters()
    assert (letter.signal.value, letter.items) == ("traces", PER_REQUEST)
    assert letter.attempts > 3  # the whole write's tries, then its halves'
    assert "injected poison" in letter.error
    assert _parked_numbers(letters) == sorted(poison)
    assert watermark.committed == sequences[-1]
    assert (flusher.stats.dead_letter_batches, flusher.stats.dead_letter_items) == (1, PER_REQUEST)


def test_flusher_poison_isolation_tries_are_bounded_by_attempts_and_bisection_depth(
    tmp_path: Path,
) -> None:
    # Arrange: 64 requests, one poison: 3 whole tries, then ~3 writes per halving (6 levels)
    buffer, watermark = MemoryBuffer(10_000), CommitWatermark()
    _requests(buffer, 64)
    store, letters = PoisonInjector({40 * PER_REQUEST}), DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark, max_attempts=3)

    # Act
    flusher.flush_once()

    # Assert
    assert letters.waiting() == 1
    assert store.attempts_with_poison <= 3 + 2 * 6 + 2
    assert store.writes <= 3 + 3 * 6 + 3
    assert len(span_numbers(store.committed)) == 63 * PER_REQUEST


def test_flusher_lone_poison_request_is_parked_once_the_next_take_is_stored(
    tmp_path: Path,
) -> None:
    # Arrange: the flush holds only the poison request; a good one waits behind it
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store, letters = PoisonInjector({0}), DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark, batch_size=PER_REQUEST)
    _requests(buffer, 1)
    good = _requests(buffer, 1, first=100)

    # Act
    written = flusher.flush_once()

    # Assert
    assert written == 2 * PER_REQUEST
    assert span_numbers(store.committed) == list(range(100, 100 + PER_REQUEST))
    assert _parked_numbers(letters) == list(range(PER_REQUEST))
    assert watermark.committed == good[0]


def test_flusher_store_down_parks_nothing_and_stores_everything_once_healed(
    tmp_path: Path,
) -> None:
    # Arrange
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store = FailingStore(RecordingStore())
    letters = DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark, max_attempts=2, eager=True)
    store.fail()
    first = _requests(buffer, 4)
    flusher.start()
    try:
        assert wait_until(lambda: store.failed_writes >= 12)
        _requests(buffer, 4, first=100)  # more arrive during the outage (the probe takes them)
        assert wait_until(lambda: store.failed_writes >= 20)

        # Act
        parked_while_down = letters.waiting()
        store.heal()

        # Assert
        assert wait_until(lambda: buffer.size() == 0 and not flusher.stats.store_failing)
        assert wait_until(lambda: watermark.committed >= first[-1] + 4)
    finally:
        flusher.stop(10)
    assert parked_while_down == 0
    assert letters.waiting() == 0
    inner = store.inner
    assert isinstance(inner, RecordingStore)
    assert sorted(span_numbers(inner.committed)) == [*range(20), *range(100, 120)]


def test_flusher_durable_watermark_passes_poison_only_once_its_letter_is_on_disk(
    tmp_path: Path,
) -> None:
    # Arrange: parking fails at first (the dead-letter disk is full too)
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store = PoisonInjector({PER_REQUEST})
    parks = FailingParks(DeadLetterFiles(tmp_path / "dl"))
    flusher = _flusher(buffer, store, parks, watermark, eager=True)
    sequences = _requests(buffer, 4)
    flusher.start()
    try:
        assert wait_until(lambda: parks.failed >= 3)
        blocked_at = watermark.committed

        # Act
        parks.failing.clear()

        # Assert
        assert wait_until(lambda: watermark.committed >= sequences[-1])
    finally:
        flusher.stop(10)
    assert blocked_at < sequences[1]
    assert parks.waiting() == 1
    assert flusher.stats.lost_items == 0
    assert sorted(span_numbers(store.committed)) == [*range(5), *range(10, 20)]


def test_flusher_store_still_failing_at_shutdown_parks_what_is_left_instead_of_losing_it(
    tmp_path: Path,
) -> None:
    # Arrange
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store = FailingStore(RecordingStore())
    letters = DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark, max_attempts=50, shutdown_attempts=2)
    store.fail()
    sequences = _requests(buffer, 3)
    flusher.start()

    # Act
    flusher.stop(10)

    # Assert
    assert flusher.stats.lost_items == 0
    assert _parked_numbers(letters) == list(range(15))
    assert letters.waiting() == 3
    assert watermark.committed == sequences[-1]


def test_flusher_without_dead_letters_still_retries_a_poison_until_shutdown_and_loses_it() -> None:
    # Arrange: FLUSH_MAX_ATTEMPTS=0 wires no dead letters: the old behaviour
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store = PoisonInjector({0})
    flusher = Flusher(
        buffer,
        store,
        batch_size=1000,
        interval=HOUR,
        max_backoff=0.01,
        watermark=watermark,
        eager=True,
    )
    _requests(buffer, 2)
    flusher.start()
    assert wait_until(lambda: store.attempts_with_poison >= 10)

    # Act
    flusher.stop(10)

    # Assert
    assert store.committed == []
    assert flusher.stats.lost_items == 2 * PER_REQUEST
    assert watermark.committed == 0


def test_flusher_poison_sent_again_behind_itself_waits_for_good_data_then_both_are_parked(
    tmp_path: Path,
) -> None:
    # Arrange: a durable client re-sends its poison request; good data only comes later
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    store, letters = PoisonInjector({0, 1000}), DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark, batch_size=100, eager=True)
    _requests(buffer, 1)
    flusher.start()
    assert wait_until(lambda: store.attempts_with_poison >= 5)
    _requests(buffer, 1, first=1000)
    try:
        assert wait_until(lambda: store.attempts_with_poison >= 12)
        parked_before_good_data = letters.waiting()

        # Act
        good = _requests(buffer, 1, first=100)

        # Assert
        assert wait_until(lambda: watermark.committed >= good[0])
    finally:
        flusher.stop(10)
    assert parked_before_good_data == 0
    assert _parked_numbers(letters) == [*range(5), *range(1000, 1005)]
    assert span_numbers(store.committed) == list(range(100, 105))


def test_flusher_poison_parked_last_leaves_the_store_reported_writable(tmp_path: Path) -> None:
    # Arrange: the poison is the last request, so the last write of the isolation is refused
    buffer, watermark = MemoryBuffer(1000), CommitWatermark()
    _requests(buffer, 3)
    store, letters = PoisonInjector({2 * PER_REQUEST}), DeadLetterFiles(tmp_path / "dl")
    flusher = _flusher(buffer, store, letters, watermark)

    # Act
    flusher.flush_once()

    # Assert
    assert letters.waiting() == 1
    assert flusher.stats.last_error is None
    assert not flusher.stats.store_failing
    assert flusher.stats.failing_since_monotonic is None
