"""Store dead-letter files (one OTLP/JSON file per refused batch, written atomically) and the
replay and drop use case: every signal comes back item for item, a letter is claimed before its
replay so it is stored once, a refused replay leaves it waiting."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from obsvty.adapters.encoding.stored_rows import list_batch
from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.storage.dead_letter_files import (
    REPLAYING,
    WAITING,
    DeadLetterFiles,
    request_json,
)
from obsvty.application.dead_letter_replay import drop, replay
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import Batch, ListBatch
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError
from obsvty.ports.store_dead_letters import StoreDeadLetterError
from tests.support.records import batch_rows, log_batch, metric_batch, span_batch
from tests.support.reliability import RecordingStore
from tests.support.telemetry_dataset import LOGS, POINTS, SPANS

pytestmark = pytest.mark.unit

BATCHES: dict[Signal, ListBatch] = {
    Signal.TRACES: span_batch(SPANS),
    Signal.LOGS: log_batch(LOGS),
    Signal.METRICS: metric_batch(POINTS),
}


class RefusingStore(RecordingStore):
    """Fault injector at the storage boundary: refuses every write while ``refusing``."""

    refusing = True

    def write(self, batches: Sequence[Batch]) -> None:
        if self.refusing:
            raise StoreError("injected fault: still refused")
        super().write(batches)


@pytest.fixture
def letters(tmp_path: Path) -> DeadLetterFiles:
    return DeadLetterFiles(tmp_path / "obsvty.duckdb.dead-letters")


def _arrow(signal: Signal) -> ArrowBatch:
    """The dataset's batch as the compiled decoder makes it."""
    batch = CODECS[signal].decode_json(request_json(BATCHES[signal])).batch
    assert isinstance(batch, ArrowBatch)
    return batch


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_dead_letter_files_park_then_claim_list_batch_gives_every_item_back(
    letters: DeadLetterFiles, signal: Signal
) -> None:
    # Arrange
    batch = BATCHES[signal]

    # Act
    letter = letters.park(batch, "refused: constraint", attempts=9)
    [back] = letters.claim(letter.id)

    # Assert
    assert (letter.signal, letter.items, letter.attempts) == (signal, len(batch), 9)
    assert isinstance(back, type(batch))
    assert batch_rows(back) == batch_rows(batch)


@pytest.mark.parametrize("signal", list(Signal), ids=str)
def test_dead_letter_files_park_arrow_batch_claim_gives_the_same_stored_rows(
    letters: DeadLetterFiles, signal: Signal
) -> None:
    # Arrange
    batch = _arrow(signal)

    # Act
    [back] = letters.claim(letters.park(batch, "refused", attempts=8).id)

    # Assert
    assert not isinstance(back, ArrowBatch)
    assert batch_rows(back) == batch_rows(list_batch(batch))


def test_dead_letter_files_file_is_metadata_line_then_an_otlp_json_request(
    letters: DeadLetterFiles,
) -> None:
    # Act
    letter = letters.park(BATCHES[Signal.LOGS], "the store said no", attempts=8)

    # Assert: a line any OTLP/HTTP receiver takes, as `obsvty export` writes
    meta, request, *rest = (letters.directory / f"{letter.id}{WAITING}").read_bytes().split(b"\n")
    assert rest == [b""]
    assert orjson.loads(meta)["error"] == "the store said no"
    assert orjson.loads(meta)["items"] == len(LOGS)
    decoded = CODECS[Signal.LOGS].reference().decode_json(request)
    assert (len(decoded.batch), decoded.rejected) == (len(LOGS), 0)
    assert [p.name for p in letters.directory.iterdir()] == [f"{letter.id}{WAITING}"]


def test_dead_letter_files_list_oldest_first_with_metadata_and_unfinished_replays(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    first = letters.park(BATCHES[Signal.TRACES], "e1", attempts=8)
    second = letters.park(BATCHES[Signal.METRICS], "e2", attempts=10)
    letters.claim(second.id)

    # Act
    listed = letters.letters()

    # Assert
    assert [(x.id, x.signal, x.error, x.replaying) for x in listed] == [
        (first.id, Signal.TRACES, "e1", False),
        (second.id, Signal.METRICS, "e2", True),
    ]
    assert letters.waiting() == 2


def test_dead_letter_files_second_claim_is_refused_unless_forced(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    letter = letters.park(BATCHES[Signal.LOGS], "e", attempts=8)
    letters.claim(letter.id)

    # Act
    with pytest.raises(StoreDeadLetterError, match="may already be stored"):
        letters.claim(letter.id)
    forced = letters.claim(letter.id, force=True)

    # Assert
    assert len(forced[0]) == len(LOGS)


def test_dead_letter_files_unknown_or_malformed_id_is_a_clear_error(
    letters: DeadLetterFiles,
) -> None:
    # Act / Assert
    with pytest.raises(StoreDeadLetterError, match="no store dead letter"):
        letters.claim("20261207T000000.000000000Z-logs-00000000")
    with pytest.raises(StoreDeadLetterError, match="not an id"):
        letters.remove("../obsvty.duckdb")


def test_dead_letter_files_unwritable_directory_raises_and_leaves_no_file(tmp_path: Path) -> None:
    # Arrange: the directory's place is taken by a file
    blocked = tmp_path / "dl"
    blocked.write_text("")
    letters = DeadLetterFiles(blocked)

    # Act / Assert
    with pytest.raises(StoreDeadLetterError, match="cannot write"):
        letters.park(BATCHES[Signal.TRACES], "e", attempts=8)
    assert blocked.read_text() == ""


def test_dead_letter_files_corrupt_letter_is_reported_and_stays_waiting(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    letter = letters.park(BATCHES[Signal.LOGS], "e", attempts=8)
    path = letters.directory / f"{letter.id}{WAITING}"
    meta = path.read_bytes().split(b"\n")[0]
    path.write_bytes(meta + b"\n{not json\n")

    # Act
    with pytest.raises(StoreDeadLetterError, match="unreadable"):
        letters.claim(letter.id)

    # Assert
    assert path.exists()
    assert not (letters.directory / f"{letter.id}{REPLAYING}").exists()


def test_replay_stores_each_letter_once_and_removes_it(letters: DeadLetterFiles) -> None:
    # Arrange
    ids = [letters.park(BATCHES[s], "e", attempts=8).id for s in Signal]
    store = RecordingStore()

    # Act
    outcomes = replay(letters, store.write, ids)
    again = replay(letters, store.write, ids)

    # Assert
    assert [(o.id, o.items, o.error) for o in outcomes] == [
        (i, len(BATCHES[s]), "") for i, s in zip(ids, Signal, strict=True)
    ]
    assert [batch_rows(b) for b in store.committed] == [batch_rows(BATCHES[s]) for s in Signal]
    assert all("no store dead letter" in o.error for o in again)
    assert letters.waiting() == 0
    assert os.listdir(letters.directory) == []


def test_replay_refused_by_the_store_leaves_the_letter_waiting_for_a_later_replay(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    letter = letters.park(BATCHES[Signal.LOGS], "e", attempts=8)
    store = RefusingStore()

    # Act
    refused = replay(letters, store.write, [letter.id])
    store.refusing = False
    stored = replay(letters, store.write, [letter.id])

    # Assert
    assert "refused it again" in refused[0].error
    assert stored[0].error == ""
    assert len(store.committed) == 1


def test_drop_removes_letters_without_storing_and_reports_unknown_ones(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    letter = letters.park(BATCHES[Signal.METRICS], "e", attempts=8)

    # Act
    outcomes = drop(letters, [letter.id, letter.id])

    # Assert
    assert (outcomes[0].items, outcomes[0].error) == (len(POINTS), "")
    assert "no store dead letter" in outcomes[1].error
    assert letters.waiting() == 0
