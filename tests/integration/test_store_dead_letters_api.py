"""The store dead-letter admin routes on their own (served on a loopback socket, real letter
files, a recording store as the write): list, replay, drop, and the refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from obsvty.adapters.api.store_dead_letters import create_store_dead_letter_router
from obsvty.adapters.storage.dead_letter_files import DeadLetterFiles
from tests.support.asgi_server import serving
from tests.support.reliability import RecordingStore, span_batch, span_numbers

pytestmark = pytest.mark.integration

BASE = "/api/v1/admin/store-dead-letters"


@contextmanager
def _client(
    letters: DeadLetterFiles, store: RecordingStore, refused: str | None = None
) -> Iterator[httpx.Client]:
    app = FastAPI()
    router = create_store_dead_letter_router(letters, store.write, changes_refused=refused)
    app.include_router(router, prefix=BASE)
    with serving(app) as url, httpx.Client(base_url=url) as client:
        yield client


@pytest.fixture
def letters(tmp_path: Path) -> DeadLetterFiles:
    return DeadLetterFiles(tmp_path / "dl")


def test_store_dead_letter_api_lists_replays_once_and_drops(letters: DeadLetterFiles) -> None:
    # Arrange
    store = RecordingStore()
    replayed = letters.park(span_batch(0, 3), "refused", attempts=5)
    dropped = letters.park(span_batch(10, 2), "refused", attempts=5)

    # Act
    with _client(letters, store) as client:
        listed = client.get(BASE).json()
        replay = client.post(f"{BASE}/replay", json={"ids": [replayed.id]}).json()
        again = client.post(f"{BASE}/replay", json={"ids": [replayed.id]}).json()
        drop = client.post(f"{BASE}/drop", json={"all": True}).json()

    # Assert
    assert [(x["id"], x["items"], x["replaying"]) for x in listed["store_dead_letters"]] == [
        (replayed.id, 3, False),
        (dropped.id, 2, False),
    ]
    assert (replay["done"], replay["failed"]) == (1, 0)
    assert (again["done"], again["failed"]) == (0, 1)
    assert (drop["done"], drop["letters"][0]["items"]) == (1, 2)
    assert span_numbers(store.committed) == [0, 1, 2]
    assert letters.waiting() == 0


def test_store_dead_letter_api_changes_refused_or_unnamed_change_nothing(
    letters: DeadLetterFiles,
) -> None:
    # Arrange
    letters.park(span_batch(0, 3), "refused", attempts=5)

    # Act
    with _client(letters, RecordingStore(), refused="needs OBSVTY_QUERY_TOKENS") as refused:
        forbidden = refused.post(f"{BASE}/drop", json={"all": True})
    with _client(letters, RecordingStore()) as allowed:
        unnamed = allowed.post(f"{BASE}/replay", json={})

    # Assert
    assert (forbidden.status_code, forbidden.json()["message"]) == (
        403,
        "needs OBSVTY_QUERY_TOKENS",
    )
    assert unnamed.status_code == 400
    assert letters.waiting() == 1


def test_store_dead_letter_api_unreadable_directory_answers_500_with_the_reason(
    tmp_path: Path,
) -> None:
    # Arrange
    blocked = tmp_path / "dl"
    blocked.write_text("")

    # Act
    with _client(DeadLetterFiles(blocked), RecordingStore()) as client:
        answer = client.get(BASE)

    # Assert
    assert answer.status_code == 500
    assert "cannot read" in answer.json()["message"]
